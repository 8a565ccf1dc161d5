package hookrelay_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hookrelay "github.com/hookrelay/hookrelay/sdks/go"
)

// Every operation of the API, and the method of this package that calls it.
var operations = map[string]string{
	"GET /v1/me":                                         "Client.Me",
	"POST /v1/applications":                              "Applications.Create",
	"GET /v1/applications":                               "Applications.List",
	"PUT /v1/applications/uid/{uid}":                     "Applications.Upsert",
	"GET /v1/applications/{app}":                         "Applications.Get",
	"PATCH /v1/applications/{app}":                       "Applications.Update",
	"DELETE /v1/applications/{app}":                      "Applications.Delete",
	"GET /v1/applications/{app}/stats":                   "Applications.Stats",
	"GET /v1/applications/{app}/webhooks":                "Applications.Webhooks",
	"POST /v1/applications/{app}/webhooks":               "Applications.CreateWebhook",
	"GET /v1/applications/{app}/deliveries":              "Applications.Deliveries",
	"POST /v1/applications/{app}/portal-sessions":        "Applications.CreatePortalSession",
	"DELETE /v1/applications/{app}/portal-sessions/{id}": "Applications.EndPortalSession",
	"POST /v1/keys":                                      "Keys.Create",
	"GET /v1/keys":                                       "Keys.List",
	"GET /v1/keys/{id}":                                  "Keys.Get",
	"DELETE /v1/keys/{id}":                               "Keys.Revoke",
	"POST /v1/event-types":                               "EventTypes.Create",
	"GET /v1/event-types":                                "EventTypes.List",
	"GET /v1/event-types/{name}":                         "EventTypes.Get",
	"PATCH /v1/event-types/{name}":                       "EventTypes.Update",
	"DELETE /v1/event-types/{name}":                      "EventTypes.Archive",
	"POST /v1/webhooks":                                  "Webhooks.Create",
	"GET /v1/webhooks":                                   "Webhooks.List",
	"PUT /v1/webhooks/uid/{uid}":                         "Webhooks.Register",
	"GET /v1/webhooks/{id}":                              "Webhooks.Get",
	"PATCH /v1/webhooks/{id}":                            "Webhooks.Update",
	"DELETE /v1/webhooks/{id}":                           "Webhooks.Delete",
	"POST /v1/webhooks/{id}/rotate-secret":               "Webhooks.RotateSecret",
	"POST /v1/webhooks/{id}/recover":                     "Webhooks.Recover",
	"GET /v1/webhooks/{id}/recoveries/{rcv_id}":          "Webhooks.GetRecovery",
	"POST /v1/webhooks/{id}/test":                        "Webhooks.Test",
	"GET /v1/webhooks/{id}/stats":                        "Webhooks.Stats",
	"GET /v1/webhooks/{id}/deliveries":                   "Webhooks.Deliveries",
	"POST /v1/events":                                    "Events.Publish",
	"POST /v1/events/batch":                              "Events.PublishBatch",
	"GET /v1/events":                                     "Events.List",
	"GET /v1/events/{id}":                                "Events.Get",
	"DELETE /v1/events/{id}/payload":                     "Events.ErasePayload",
	"GET /v1/deliveries/{id}":                            "Deliveries.Get",
	"POST /v1/deliveries/{id}/retry":                     "Deliveries.Retry",
}

// The running API's /openapi.json is the list of operations: one without a method here fails the test.
func TestEveryOperationOfTheOpenAPIDocumentHasAMethod(t *testing.T) {
	c, base, _ := stack(t)
	res := must(http.Get(base + "/openapi.json"))
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var missing []string
	for path, ops := range doc.Paths {
		for method := range ops {
			op := strings.ToUpper(method) + " " + path
			name, ok := operations[op]
			if !ok {
				missing = append(missing, op)
				continue
			}
			service, fn, _ := strings.Cut(name, ".")
			target := reflect.ValueOf(c)
			if service != "Client" {
				target = target.Elem().FieldByName(service)
			}
			if !target.IsValid() || !target.MethodByName(fn).IsValid() {
				t.Errorf("%s: %s does not exist", op, name)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("operations of /openapi.json without a method in the Go SDK:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(operations) < 40 {
		t.Fatalf("only %d operations mapped", len(operations))
	}
}

func TestPublishDeliverAndVerify(t *testing.T) {
	c, _, _ := stack(t)
	ctx := ctxFor(t)
	rcv := newReceiver(t)
	typ := eventType(t, c, "hello")
	if me := must(c.Me(ctx)); me.Key.Role != hookrelay.RoleAdmin {
		t.Fatalf("role %s", me.Key.Role)
	}
	wh := must(c.Webhooks.Create(ctx, hookrelay.WebhookIn{URL: rcv.hook(), Events: []string{typ}}))
	if !strings.HasPrefix(wh.Secret, "whsec_") {
		t.Fatalf("secret %q", wh.Secret)
	}
	ev := must(c.Events.Publish(ctx, hookrelay.EventIn{Type: typ, Data: map[string]any{"n": 1}}))
	if ev.Deliveries != 1 {
		t.Fatalf("deliveries %d", ev.Deliveries)
	}

	// The request the worker sent verifies with the webhook's secret, and only with it, and only while fresh.
	got := rcv.withID(t, ev.ID)
	v := must(hookrelay.NewVerifier(wh.Secret))
	if err := v.Verify(got.body, got.header); err != nil {
		t.Fatalf("a real delivery does not verify: %v", err)
	}
	var envelope struct {
		ID   string         `json:"id"`
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(got.body, &envelope); err != nil || envelope.ID != ev.ID || envelope.Data["n"] != 1.0 {
		t.Fatalf("body %s (%v)", got.body, err)
	}
	other := must(hookrelay.NewVerifier("whsec_" + "c29tZWJvZHktZWxzZXMtc2VjcmV0LTEyMzQ1Ng=="))
	if err := other.Verify(got.body, got.header); !errors.Is(err, hookrelay.ErrNoMatchingSignature) {
		t.Fatalf("another secret: %v", err)
	}
	later := must(hookrelay.NewVerifier(wh.Secret))
	later.SetClock(func() time.Time { return time.Now().Add(10 * time.Minute) })
	if err := later.Verify(got.body, got.header); !errors.Is(err, hookrelay.ErrTimestampTooOld) {
		t.Fatalf("replayed 10 minutes later: %v", err)
	}

	// The delivery log.
	var delivered *hookrelay.Delivery
	eventually(t, "delivered in the log", func() bool {
		page := must(c.Webhooks.Deliveries(ctx, wh.ID, &hookrelay.DeliveryListOptions{Status: hookrelay.DeliveryDelivered}))
		if len(page.Data) == 1 {
			delivered = &page.Data[0]
		}
		return delivered != nil
	})
	d := must(c.Deliveries.Get(ctx, delivered.ID))
	if len(d.Attempts) != 1 || d.Attempts[0].StatusCode == nil || *d.Attempts[0].StatusCode != 200 {
		t.Fatalf("attempts %+v", d.Attempts)
	}
	if e := must(c.Events.Get(ctx, ev.ID)); len(e.Deliveries) != 1 || e.Type != typ {
		t.Fatalf("event %+v", e)
	}
	if s := must(c.Webhooks.Stats(ctx, wh.ID, "")); s.Deliveries.Delivered != 1 {
		t.Fatalf("stats %+v", s.Deliveries)
	}
	if g := must(c.Webhooks.Get(ctx, wh.ID, true)); g.Secret != wh.Secret || len(g.RecentDeliveries) != 1 {
		t.Fatalf("get: secret %q, %d recent deliveries", g.Secret, len(g.RecentDeliveries))
	}
	if test := must(c.Webhooks.Test(ctx, wh.ID, hookrelay.WebhookTestIn{})); test.Status != hookrelay.DeliveryDelivered {
		t.Fatalf("test delivery %s", test.Status)
	}
}

func TestEventTypesAndWebhooks(t *testing.T) {
	c, _, _ := stack(t)
	ctx := ctxFor(t)
	rcv := newReceiver(t)
	typ := eventType(t, c, "crud")

	old := eventType(t, c, "old")
	et := must(c.EventTypes.Update(ctx, old, hookrelay.EventTypePatch{Description: hookrelay.Ptr("v2"), Deprecated: hookrelay.Ptr(true)}))
	if et.Description != "v2" || !et.Deprecated {
		t.Fatalf("event type %+v", et)
	}
	if must(c.EventTypes.Get(ctx, old)).Name != old {
		t.Fatal("get")
	}
	var names []string
	for et, err := range c.EventTypes.All(ctx, &hookrelay.EventTypeListOptions{ListOptions: hookrelay.ListOptions{PerPage: 2}}) {
		names = append(names, must(et, err).Name)
	}
	if !slices.Contains(names, old) || !slices.Contains(names, "webhook.test") {
		t.Fatalf("All: %v", names)
	}
	if err := c.EventTypes.Archive(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Events.Publish(ctx, hookrelay.EventIn{Type: old, Data: map[string]any{}}); !hookrelay.IsCode(err, hookrelay.CodeUnknownEventType) {
		t.Fatalf("publishing an archived type: %v", err)
	}

	// Register: the same uid is one webhook, replaced in place.
	uid := unique + "-customer"
	first := must(c.Webhooks.Register(ctx, uid, hookrelay.WebhookIn{URL: rcv.hook(), Events: []string{typ}}))
	again := must(c.Webhooks.Register(ctx, uid, hookrelay.WebhookIn{URL: rcv.hook(), Events: []string{typ}, Description: "again"}))
	if again.ID != first.ID || again.Description != "again" {
		t.Fatalf("register again: %s %q", again.ID, again.Description)
	}
	if page := must(c.Webhooks.List(ctx, &hookrelay.WebhookListOptions{UID: uid})); len(page.Data) != 1 || page.Data[0].ID != first.ID {
		t.Fatalf("list by uid: %+v", page.Data)
	}
	up := must(c.Webhooks.Update(ctx, first.ID, hookrelay.WebhookPatch{
		TimeoutMS:     hookrelay.Ptr(5000),
		Filter:        hookrelay.Set(map[string]any{"data.n": map[string]any{"$gte": 0}}),
		RateLimitPerS: hookrelay.Set(50),
	}))
	if up.TimeoutMS != 5000 || up.Filter == nil || up.RateLimitPerS == nil || *up.RateLimitPerS != 50 {
		t.Fatalf("update: %+v", up)
	}
	up = must(c.Webhooks.Update(ctx, first.ID, hookrelay.WebhookPatch{Filter: hookrelay.SetNull[map[string]any](), RateLimitPerS: hookrelay.SetNull[int]()}))
	if up.Filter != nil || up.RateLimitPerS != nil || up.TimeoutMS != 5000 {
		t.Fatalf("update to null: %+v", up)
	}

	// Rotation: the next delivery is signed by the new and the previous secret.
	previous := must(c.Webhooks.Get(ctx, first.ID, true)).Secret
	current := must(c.Webhooks.RotateSecret(ctx, first.ID, ""))
	if current == previous || current == "" {
		t.Fatalf("rotated to %q", current)
	}
	d := must(c.Webhooks.Test(ctx, first.ID, hookrelay.WebhookTestIn{EventType: typ, Data: map[string]any{"rotated": true}}))
	got := rcv.withID(t, d.EventID)
	for _, secrets := range [][]string{{current}, {previous}, {current, previous}} {
		if err := must(hookrelay.NewVerifier(secrets...)).Verify(got.body, got.header); err != nil {
			t.Fatalf("after rotation, %d secret(s): %v", len(secrets), err)
		}
	}

	n := rcv.count()
	if r := must(c.Deliveries.Retry(ctx, d.ID)); r.Status != hookrelay.DeliveryPending {
		t.Fatalf("retry: %s", r.Status)
	}
	rcv.waitFor(t, n+1)

	if w := must(c.Webhooks.Disable(ctx, first.ID)); w.Status != hookrelay.WebhookDisabled || w.DisabledReason != "user" {
		t.Fatalf("disable: %s %s", w.Status, w.DisabledReason)
	}
	if w := must(c.Webhooks.Enable(ctx, first.ID, time.Time{})); w.Status != hookrelay.WebhookActive {
		t.Fatalf("enable: %s", w.Status)
	}
	if err := c.Webhooks.Delete(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Webhooks.Get(ctx, first.ID, false); !hookrelay.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestApplicationsKeysAndPortalSessions(t *testing.T) {
	c, base, _ := stack(t)
	ctx := ctxFor(t)
	rcv := newReceiver(t)
	typ := eventType(t, c, "app")
	uid := unique + "-cust"

	app := must(c.Applications.Upsert(ctx, uid, hookrelay.ApplicationIn{Name: "Go customer", Metadata: map[string]any{"tier": "gold"}}))
	if again := must(c.Applications.Upsert(ctx, uid, hookrelay.ApplicationIn{Name: "Go customer 2"})); again.ID != app.ID || again.Name != "Go customer 2" {
		t.Fatalf("upsert again: %+v", again)
	}
	created := must(c.Applications.Create(ctx, hookrelay.ApplicationIn{Name: "Go other", UID: uid + "-other"}))
	if _, err := c.Applications.Create(ctx, hookrelay.ApplicationIn{Name: "taken", UID: uid}); !hookrelay.IsConflict(err) {
		t.Fatalf("a taken uid: %v", err)
	}
	if p := must(c.Applications.Update(ctx, created.ID, hookrelay.ApplicationPatch{Name: hookrelay.Ptr("Go renamed"), RateLimitPerS: hookrelay.Set(10)})); p.Name != "Go renamed" || p.RateLimitPerS == nil {
		t.Fatalf("update: %+v", p)
	}
	if g := must(c.Applications.Get(ctx, uid)); g.ID != app.ID || g.Name != "Go customer 2" || g.Metadata["tier"] != "gold" {
		t.Fatalf("get: %+v", g)
	}
	if page := must(c.Applications.List(ctx, &hookrelay.ApplicationListOptions{UID: uid})); len(page.Data) != 1 {
		t.Fatalf("list by uid: %d", len(page.Data))
	}
	count := 0
	for a, err := range c.Applications.All(ctx, &hookrelay.ApplicationListOptions{Query: "Go ", ListOptions: hookrelay.ListOptions{PerPage: 1}}) {
		must(a, err)
		count++
	}
	if count < 2 {
		t.Fatalf("All: %d", count)
	}

	wh := must(c.Applications.CreateWebhook(ctx, uid, hookrelay.WebhookIn{URL: rcv.hook(), Events: []string{typ}}))
	if wh.ApplicationID != app.ID {
		t.Fatalf("application_id %q", wh.ApplicationID)
	}
	if ev := must(c.Events.Publish(ctx, hookrelay.EventIn{Application: uid, Type: typ, Data: map[string]any{"n": 7}})); ev.Deliveries != 1 {
		t.Fatalf("deliveries %d", ev.Deliveries)
	}
	eventually(t, "delivered to the application", func() bool {
		for d, err := range c.Applications.AllDeliveries(ctx, uid, &hookrelay.DeliveryListOptions{EventType: typ}) {
			if must(d, err).Status == hookrelay.DeliveryDelivered {
				return true
			}
		}
		return false
	})
	if page := must(c.Applications.Webhooks(ctx, app.ID, nil)); len(page.Data) != 1 || page.Data[0].ID != wh.ID {
		t.Fatalf("webhooks: %+v", page.Data)
	}
	if s := must(c.Applications.Stats(ctx, uid)); len(s.Webhooks) != 1 {
		t.Fatalf("stats: %+v", s)
	}

	// An application key sees only its application, and may not manage keys.
	key := must(c.Keys.Create(ctx, hookrelay.APIKeyIn{Role: hookrelay.RoleApplication, Application: uid, Name: "go"}))
	scoped := hookrelay.New(key.Key, hookrelay.WithBaseURL(base))
	if me := must(scoped.Me(ctx)); me.Key.Role != hookrelay.RoleApplication || me.Key.ApplicationID != app.ID {
		t.Fatalf("me: %+v", me.Key)
	}
	if page := must(scoped.Webhooks.List(ctx, nil)); len(page.Data) != 1 || page.Data[0].ID != wh.ID {
		t.Fatalf("scoped webhooks: %+v", page.Data)
	}
	_, err := scoped.Keys.List(ctx, nil)
	var apiErr *hookrelay.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || apiErr.Code != hookrelay.CodeForbidden || !strings.HasPrefix(apiErr.RequestID, "req_") {
		t.Fatalf("scoped key lists keys: %v", err)
	}
	if k := must(c.Keys.Get(ctx, key.ID)); k.Role != hookrelay.RoleApplication || k.ApplicationID != app.ID || k.Key != "" {
		t.Fatalf("key: %+v", k)
	}
	found := false
	for k, err := range c.Keys.All(ctx) {
		found = found || must(k, err).ID == key.ID
	}
	if !found {
		t.Fatal("Keys.All misses the new key")
	}

	portal := must(c.Applications.CreatePortalSession(ctx, uid, 600))
	if !strings.Contains(portal.URL, "/portal#token=hrk_") || time.Until(portal.ExpiresAt) > 11*time.Minute {
		t.Fatalf("portal session: %+v", portal)
	}
	if me := must(hookrelay.New(portal.Token, hookrelay.WithBaseURL(base)).Me(ctx)); me.Key.ApplicationID != app.ID {
		t.Fatalf("portal token: %+v", me.Key)
	}
	if err := c.Applications.EndPortalSession(ctx, uid, portal.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Keys.Revoke(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	if page := must(c.Keys.List(ctx, &hookrelay.ListOptions{PerPage: 100})); containsKey(page.Data, key.ID) || containsKey(page.Data, portal.ID) {
		t.Fatal("a revoked key or ended portal session is still listed")
	}
	for _, a := range []string{uid, created.ID} {
		if err := c.Applications.Delete(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Applications.Get(ctx, app.ID); !hookrelay.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestRecoverReportsProgress(t *testing.T) {
	c, _, _ := stack(t)
	ctx := ctxFor(t)
	rcv := newReceiver(t)
	rcv.status.Store(http.StatusInternalServerError)
	typ := eventType(t, c, "recover")
	// A single attempt (an empty, non-nil retry schedule): the delivery fails at once.
	wh := must(c.Webhooks.Create(ctx, hookrelay.WebhookIn{URL: rcv.hook(), Events: []string{typ}, RetrySchedule: []string{}}))
	since := time.Now().Add(-time.Second)
	must(c.Events.Publish(ctx, hookrelay.EventIn{Type: typ, Data: map[string]any{}}))
	eventually(t, "the delivery failed", func() bool {
		return len(must(c.Webhooks.Deliveries(ctx, wh.ID, &hookrelay.DeliveryListOptions{Status: hookrelay.DeliveryFailed})).Data) == 1
	})
	rcv.status.Store(http.StatusOK)
	rec := must(c.Webhooks.Recover(ctx, wh.ID, hookrelay.RecoverIn{Since: since}))
	var seen []string
	done := must(c.Webhooks.WaitForRecovery(ctx, wh.ID, rec.ID, 200*time.Millisecond, func(r *hookrelay.Recovery) { seen = append(seen, r.Status) }))
	if !done.Done() || done.Recovered != 1 || seen[len(seen)-1] != "completed" {
		t.Fatalf("recovery %+v, progress %v", done, seen)
	}
	got := rcv.waitFor(t, 2)
	if got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
		t.Fatal("the recovered delivery carries another webhook-id")
	}
}

func TestTypedErrors(t *testing.T) {
	c, _, _ := stack(t)
	ctx := ctxFor(t)
	_, err := c.Webhooks.Get(ctx, "wh_missing", false)
	var e *hookrelay.Error
	if !errors.As(err, &e) || e.Code != hookrelay.CodeNotFound || e.StatusCode != 404 || !strings.HasPrefix(e.RequestID, "req_") {
		t.Fatalf("not found: %#v", err)
	}
	_, err = c.Events.Publish(ctx, hookrelay.EventIn{Type: "nope", Data: map[string]any{}})
	if !errors.As(err, &e) || e.Code != hookrelay.CodeUnknownEventType || e.StatusCode != 400 || len(e.Details) == 0 || e.Details[0].Path != "type" {
		t.Fatalf("unknown event type: %#v", err)
	}
	_, err = hookrelay.New("hrk_wrong", hookrelay.WithBaseURL(os.Getenv("HOOKRELAY_API_URL"))).Me(ctx)
	if !hookrelay.IsCode(err, hookrelay.CodeUnauthenticated) {
		t.Fatalf("a wrong key: %v", err)
	}
}

func TestPagination(t *testing.T) {
	c, _, _ := stack(t)
	ctx := ctxFor(t)
	rcv := newReceiver(t)
	typ := eventType(t, c, "pages")
	for i := range 5 {
		must(c.Webhooks.Create(ctx, hookrelay.WebhookIn{URL: rcv.hook(), Events: []string{typ}, Description: "page-" + string(rune('a'+i))}))
	}
	first := must(c.Webhooks.List(ctx, &hookrelay.WebhookListOptions{Event: typ, ListOptions: hookrelay.ListOptions{PerPage: 2}}))
	if len(first.Data) != 2 || !first.Pagination.HasMore || first.Pagination.Total != 5 {
		t.Fatalf("first page: %+v", first.Pagination)
	}
	ids := map[string]bool{}
	for wh, err := range c.Webhooks.All(ctx, &hookrelay.WebhookListOptions{Event: typ, ListOptions: hookrelay.ListOptions{PerPage: 2}}) {
		ids[must(wh, err).ID] = true
	}
	if len(ids) != 5 {
		t.Fatalf("All yielded %d webhooks", len(ids))
	}
	// Breaking out of the loop stops fetching.
	n := 0
	for range c.Webhooks.All(ctx, &hookrelay.WebhookListOptions{Event: typ, ListOptions: hookrelay.ListOptions{PerPage: 2}}) {
		if n++; n == 3 {
			break
		}
	}
	evs := 0
	for i := range 3 {
		must(c.Events.Publish(ctx, hookrelay.EventIn{Type: typ, Data: map[string]any{"i": i}}))
	}
	for ev, err := range c.Events.All(ctx, &hookrelay.EventListOptions{Type: typ, ListOptions: hookrelay.ListOptions{PerPage: 1}}) {
		must(ev, err)
		evs++
	}
	if evs != 3 {
		t.Fatalf("Events.All: %d", evs)
	}
	wh := first.Data[0]
	eventually(t, "three deliveries", func() bool {
		k := 0
		for _, err := range c.Webhooks.AllDeliveries(ctx, wh.ID, &hookrelay.DeliveryListOptions{ListOptions: hookrelay.ListOptions{PerPage: 1}}) {
			if err != nil {
				t.Fatal(err)
			}
			k++
		}
		return k == 3
	})
}

// flakyProxy stands in front of the real API: answer(n) handles the n-th request (from 0), or returns false
// to pass it through to the API.
func flakyProxy(t *testing.T, base string, answer func(n int, w http.ResponseWriter, r *http.Request) bool) (*httptest.Server, *atomic.Int32) {
	target, _ := url.Parse(base)
	pass := httputil.NewSingleHostReverseProxy(target)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !answer(int(calls.Add(1)-1), w, r) {
			pass.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestRetriesHonourRetryAfter(t *testing.T) {
	_, base, key := stack(t)
	proxy, calls := flakyProxy(t, base, func(n int, w http.ResponseWriter, r *http.Request) bool {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	c := hookrelay.New(key, hookrelay.WithBaseURL(proxy.URL))
	started := time.Now()
	if me := must(c.Me(ctxFor(t))); me.Organization.ID == "" {
		t.Fatal("no organization")
	}
	if calls.Load() != 3 || time.Since(started) < time.Second {
		t.Fatalf("%d calls in %v", calls.Load(), time.Since(started))
	}

	// A try that takes longer than the client's timeout is abandoned, and a read is tried again.
	slow, slowCalls := flakyProxy(t, base, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 0 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return true
		}
		return false
	})
	if _, err := hookrelay.New(key, hookrelay.WithBaseURL(slow.URL), hookrelay.WithTimeout(300*time.Millisecond)).Me(ctxFor(t)); err != nil || slowCalls.Load() != 2 {
		t.Fatalf("after a slow try: %v, %d calls", err, slowCalls.Load())
	}

	// Retries spent: the last answer is the error.
	limited, _ := flakyProxy(t, base, func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"code":"rate_limited","message":"slow down","details":[]},"request_id":"req_test"}`)
		return true
	})
	_, err := hookrelay.New(key, hookrelay.WithBaseURL(limited.URL), hookrelay.WithMaxRetries(1)).Me(ctxFor(t))
	var e *hookrelay.Error
	if !errors.As(err, &e) || e.Code != hookrelay.CodeRateLimited || e.RequestID != "req_test" {
		t.Fatalf("after the retries: %v", err)
	}
}

func TestPublishIsIdempotent(t *testing.T) {
	c, base, key := stack(t)
	ctx := ctxFor(t)
	typ := eventType(t, c, "lost")

	// The first publish reaches the API, but its answer is lost: the retry carries the same idempotency key.
	var mu sync.Mutex
	var keys []string
	target, _ := url.Parse(base)
	pass := httputil.NewSingleHostReverseProxy(target)
	proxy, calls := flakyProxy(t, base, func(n int, w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		if n > 0 {
			return false
		}
		pass.ServeHTTP(httptest.NewRecorder(), r) // applied…
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close() // …and the answer never arrives
		return true
	})
	ev := must(hookrelay.New(key, hookrelay.WithBaseURL(proxy.URL)).Events.Publish(ctx, hookrelay.EventIn{Type: typ, Data: map[string]any{"once": true}}))
	if calls.Load() != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Fatalf("%d calls with keys %v", calls.Load(), keys)
	}
	stored := must(c.Events.List(ctx, &hookrelay.EventListOptions{Type: typ}))
	if stored.Pagination.Total != 1 || stored.Data[0].ID != ev.ID {
		t.Fatalf("stored %d events", stored.Pagination.Total)
	}

	a := must(c.Events.Publish(ctx, hookrelay.EventIn{Type: typ, Data: map[string]any{}}, hookrelay.WithIdempotencyKey(unique+"-once")))
	b := must(c.Events.Publish(ctx, hookrelay.EventIn{Type: typ, Data: map[string]any{}}, hookrelay.WithIdempotencyKey(unique+"-once")))
	if a.ID != b.ID {
		t.Fatalf("same key, two events: %s %s", a.ID, b.ID)
	}
	batch := must(c.Events.PublishBatch(ctx, []hookrelay.EventIn{{Type: typ, Data: map[string]any{"i": 1}, ID: unique + "-b1"}, {Type: typ, Data: map[string]any{"i": 2}, ID: unique + "-b2"}}))
	again := must(c.Events.PublishBatch(ctx, []hookrelay.EventIn{{Type: typ, Data: map[string]any{"i": 1}, ID: unique + "-b1"}}))
	if len(batch) != 2 || again[0].ID != batch[0].ID {
		t.Fatalf("batch %+v, again %+v", batch, again)
	}

	// An event no webhook matched has no open delivery: its payload can be erased.
	erased := must(c.Events.ErasePayload(ctx, a.ID))
	if erased.ErasedAt == nil || string(erased.Data) != "null" {
		t.Fatalf("erased: %+v", erased)
	}
}

func TestAmbiguousPostsAreNotRepeated(t *testing.T) {
	_, base, key := stack(t)
	proxy, calls := flakyProxy(t, base, func(n int, w http.ResponseWriter, r *http.Request) bool {
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
		return true
	})
	c := hookrelay.New(key, hookrelay.WithBaseURL(proxy.URL))
	if _, err := c.Webhooks.RotateSecret(ctxFor(t), "wh_1", ""); err == nil || calls.Load() != 1 {
		t.Fatalf("rotate-secret through a broken connection: %v after %d calls", err, calls.Load())
	}
	// A DELETE that went through but whose answer was lost sees 404 on the retry: it is done.
	deletes, _ := flakyProxy(t, base, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 0 {
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
			return true
		}
		return false
	})
	if err := hookrelay.New(key, hookrelay.WithBaseURL(deletes.URL)).Webhooks.Delete(ctxFor(t), "wh_gone"); err != nil {
		t.Fatalf("a retried DELETE answered 404: %v", err)
	}
}

func containsKey(keys []hookrelay.APIKey, id string) bool {
	return slices.ContainsFunc(keys, func(k hookrelay.APIKey) bool { return k.ID == id })
}

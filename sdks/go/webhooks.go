package hookrelay

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// WebhooksService manages webhooks: the endpoints events are delivered to.
type WebhooksService struct{ c *Client }

// Create creates a webhook. The answer carries its secret, the only time it is shown unless asked for.
func (s *WebhooksService) Create(ctx context.Context, in WebhookIn) (*Webhook, error) {
	var out Webhook
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks", body: in}, &out))
}

// Register creates or replaces the webhook with that uid (PUT /v1/webhooks/uid/{uid}): one webhook per customer
// source. The secret stays unless in.Secret is set. in.UID is ignored.
func (s *WebhooksService) Register(ctx context.Context, uid string, in WebhookIn) (*Webhook, error) {
	in.UID = ""
	var out Webhook
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPut, path: "/v1/webhooks/uid/" + esc(uid), body: in}, &out))
}

// List returns one page of webhooks. Their Secret is always empty.
func (s *WebhooksService) List(ctx context.Context, opts *WebhookListOptions) (*Page[Webhook], error) {
	var out Page[Webhook]
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks", query: query(opts)}, &out))
}

// All iterates over every webhook (opts as for List).
func (s *WebhooksService) All(ctx context.Context, opts *WebhookListOptions) iter.Seq2[Webhook, error] {
	o := deref(opts)
	return all(ctx, &o.ListOptions, func(lo ListOptions) (*Page[Webhook], error) {
		o.ListOptions = lo
		return s.List(ctx, &o)
	})
}

// Get returns a webhook with its recent deliveries; its Secret only with includeSecret.
func (s *WebhooksService) Get(ctx context.Context, id string, includeSecret bool) (*Webhook, error) {
	var q url.Values
	if includeSecret {
		q = url.Values{"include_secret": {"true"}}
	}
	var out Webhook
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks/" + esc(id), query: q}, &out))
}

// Update changes the fields of patch that are set.
func (s *WebhooksService) Update(ctx context.Context, id string, patch WebhookPatch) (*Webhook, error) {
	var out Webhook
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPatch, path: "/v1/webhooks/" + esc(id), body: patch}, &out))
}

// Disable pauses the webhook: in-flight deliveries are held without burning attempts, and events published
// meanwhile are recorded as paused deliveries.
func (s *WebhooksService) Disable(ctx context.Context, id string) (*Webhook, error) {
	var out Webhook
	body := map[string]any{"disabled": true}
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPatch, path: "/v1/webhooks/" + esc(id), body: body}, &out))
}

// Enable resumes the webhook. The answer's Recovery releases the held deliveries in publication order and,
// with a non-zero recoverSince, then re-delivers what failed or was skipped since then.
func (s *WebhooksService) Enable(ctx context.Context, id string, recoverSince time.Time) (*Webhook, error) {
	body := map[string]any{"disabled": false}
	if !recoverSince.IsZero() {
		body["recover_since"] = recoverSince.UTC().Format(time.RFC3339Nano)
	}
	var out Webhook
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPatch, path: "/v1/webhooks/" + esc(id), body: body}, &out))
}

// Delete deletes the webhook: nothing more is sent to it, and its running deliveries end cancelled.
func (s *WebhooksService) Delete(ctx context.Context, id string) error {
	return s.c.do(ctx, call{method: http.MethodDelete, path: "/v1/webhooks/" + esc(id)}, nil)
}

// RotateSecret replaces the webhook's secret (a new one is generated unless secret is given) and returns it.
// The previous secret keeps signing too, for 24 h. Not retried after a network error: it could rotate twice.
func (s *WebhooksService) RotateSecret(ctx context.Context, id, secret string) (string, error) {
	body := struct {
		Secret string `json:"secret,omitempty"`
	}{secret}
	var out struct {
		Secret string `json:"secret"`
	}
	err := s.c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks/" + esc(id) + "/rotate-secret", body: body}, &out)
	return out.Secret, err
}

// Recover re-delivers every delivery of the webhook that failed or was skipped, created in [since, until).
// It runs as a durable task: follow it with GetRecovery or WaitForRecovery.
func (s *WebhooksService) Recover(ctx context.Context, id string, in RecoverIn) (*Recovery, error) {
	var out Recovery
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks/" + esc(id) + "/recover", body: in}, &out))
}

func (s *WebhooksService) GetRecovery(ctx context.Context, id, recoveryID string) (*Recovery, error) {
	var out Recovery
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks/" + esc(id) + "/recoveries/" + esc(recoveryID)}, &out))
}

// WaitForRecovery polls a recovery every interval (500 ms when 0) until it completes or ctx ends. onProgress,
// when not nil, sees every state read, the last one included.
func (s *WebhooksService) WaitForRecovery(ctx context.Context, id, recoveryID string, interval time.Duration, onProgress func(*Recovery)) (*Recovery, error) {
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	for {
		r, err := s.GetRecovery(ctx, id, recoveryID)
		if err != nil {
			return nil, err
		}
		if onProgress != nil {
			onProgress(r)
		}
		if r.Done() {
			return r, nil
		}
		if err := s.c.sleep(ctx, interval); err != nil {
			return r, err
		}
	}
}

// Test sends a test event (webhook.test unless in.EventType is set) and returns the delivery with its first
// attempt, which the API waits for (up to the webhook's timeout).
func (s *WebhooksService) Test(ctx context.Context, id string, in WebhookTestIn) (*Delivery, error) {
	var out Delivery
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/webhooks/" + esc(id) + "/test", body: in, timeout: 70 * time.Second}, &out))
}

// Stats returns the webhook's delivery statistics over window ("24h" when empty; e.g. "1h", "7d").
func (s *WebhooksService) Stats(ctx context.Context, id, window string) (*WebhookStats, error) {
	var q url.Values
	if window != "" {
		q = url.Values{"window": {window}}
	}
	var out WebhookStats
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks/" + esc(id) + "/stats", query: q}, &out))
}

// Deliveries returns one page of the webhook's delivery log, newest first. Filter by event type with opts.Event.
func (s *WebhooksService) Deliveries(ctx context.Context, id string, opts *DeliveryListOptions) (*Page[Delivery], error) {
	var out Page[Delivery]
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/webhooks/" + esc(id) + "/deliveries", query: query(opts)}, &out))
}

// AllDeliveries iterates over the webhook's whole delivery log (opts as for Deliveries).
func (s *WebhooksService) AllDeliveries(ctx context.Context, id string, opts *DeliveryListOptions) iter.Seq2[Delivery, error] {
	o := deref(opts)
	return all(ctx, &o.ListOptions, func(lo ListOptions) (*Page[Delivery], error) {
		o.ListOptions = lo
		return s.Deliveries(ctx, id, &o)
	})
}

package hookrelay_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hookrelay "github.com/hookrelay/hookrelay/sdks/go"
)

// The tests below talk to a running hookrelay: HOOKRELAY_API_URL and HOOKRELAY_API_KEY (an admin key of an
// organization of their own). `npm test` starts the stack and runs them (test/integration/sdk-go.test.ts); without
// the variables they are skipped and only the verification tests run.
func stack(t *testing.T) (*hookrelay.Client, string, string) {
	t.Helper()
	current = t
	url, key := os.Getenv("HOOKRELAY_API_URL"), os.Getenv("HOOKRELAY_API_KEY")
	if url == "" || key == "" {
		t.Skip("HOOKRELAY_API_URL and HOOKRELAY_API_KEY are not set")
	}
	return hookrelay.New(key, hookrelay.WithBaseURL(url)), url, key
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// unique names the event types of one run, so that the suite can run again against the same organization.
var unique = fmt.Sprintf("go%d", time.Now().UnixNano())

func eventType(t *testing.T, c *hookrelay.Client, name string) string {
	t.Helper()
	full := unique + "." + name
	if _, err := c.EventTypes.Create(ctxFor(t), hookrelay.EventTypeIn{Name: full}); err != nil {
		t.Fatalf("creating event type %s: %v", full, err)
	}
	return full
}

// current is the running test (they run one at a time; stack sets it), which must ends on an error.
var current *testing.T

// must returns v, or fails the current test with err: c.Webhooks.Get(ctx, id) has two results, and Go passes
// them on whole only as the sole arguments of a call.
func must[T any](v T, err error) T {
	if err != nil {
		current.Helper()
		current.Fatal(err)
	}
	return v
}

// eventually polls fn until it is true, for up to 30 s.
func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not in 30 s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type received struct {
	header http.Header
	body   []byte
}

// receiver is a real HTTP endpoint on loopback that records what the worker delivers to it.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []received
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), body})
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) hook() string { return r.URL + "/hook" }

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// waitFor returns the first n requests once they have arrived.
func (r *receiver) waitFor(t *testing.T, n int) []received {
	t.Helper()
	eventually(t, fmt.Sprintf("%d deliveries", n), func() bool { return r.count() >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got[:n]...)
}

// withID returns the request carrying webhook-id id.
func (r *receiver) withID(t *testing.T, id string) received {
	t.Helper()
	var found received
	eventually(t, "a delivery of "+id, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, g := range r.got {
			if g.header.Get("webhook-id") == id {
				found = g
				return true
			}
		}
		return false
	})
	return found
}

package hookrelay

import (
	"context"
	"iter"
	"net/http"
)

// EventsService publishes events and reads them back.
type EventsService struct{ c *Client }

// PublishOption configures one publish.
type PublishOption func(*publishOptions)

type publishOptions struct{ idempotencyKey string }

// WithIdempotencyKey publishes with your own idempotency key: the same key within 24 h returns the first
// answer and publishes nothing. Without it, Publish generates one per call.
func WithIdempotencyKey(key string) PublishOption {
	return func(o *publishOptions) { o.idempotencyKey = key }
}

// Publish publishes an event to the webhooks it matches (of ev.Application, or organization-level ones). It
// sends an idempotency key, so retries — its own after a lost answer, or yours with WithIdempotencyKey — store
// the event once.
func (s *EventsService) Publish(ctx context.Context, ev EventIn, opts ...PublishOption) (*Published, error) {
	o := publishOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.idempotencyKey == "" {
		o.idempotencyKey = newIdempotencyKey()
	}
	var out Published
	h := http.Header{"Idempotency-Key": {o.idempotencyKey}}
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/events", body: ev, header: h, repeatable: true}, &out))
}

// PublishBatch publishes up to 500 events, all or nothing. It is retried after a network error only when every
// event has an ID (by which the API recognises what it already stored).
func (s *EventsService) PublishBatch(ctx context.Context, events []EventIn) ([]Published, error) {
	repeatable := true
	for _, ev := range events {
		repeatable = repeatable && ev.ID != ""
	}
	body := struct {
		Events []EventIn `json:"events"`
	}{events}
	var out struct {
		Data []Published `json:"data"`
	}
	err := s.c.do(ctx, call{method: http.MethodPost, path: "/v1/events/batch", body: body, repeatable: repeatable}, &out)
	return out.Data, err
}

// List returns one page of events, newest first.
func (s *EventsService) List(ctx context.Context, opts *EventListOptions) (*Page[Event], error) {
	var out Page[Event]
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/events", query: query(opts)}, &out))
}

// All iterates over every event (opts as for List).
func (s *EventsService) All(ctx context.Context, opts *EventListOptions) iter.Seq2[Event, error] {
	o := deref(opts)
	return all(ctx, &o.ListOptions, func(lo ListOptions) (*Page[Event], error) {
		o.ListOptions = lo
		return s.List(ctx, &o)
	})
}

// Get returns an event with its deliveries.
func (s *EventsService) Get(ctx context.Context, id string) (*Event, error) {
	var out Event
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/events/" + esc(id)}, &out))
}

// ErasePayload erases the event's data (erasure on request); the delivery records stay and the event is never
// sent again. Refused (conflict) while a delivery of it is open.
func (s *EventsService) ErasePayload(ctx context.Context, id string) (*Event, error) {
	var out Event
	return orNil(&out, s.c.do(ctx, call{method: http.MethodDelete, path: "/v1/events/" + esc(id) + "/payload"}, &out))
}

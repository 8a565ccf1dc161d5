package hookrelay

import (
	"context"
	"iter"
	"net/http"
)

// EventTypesService manages the event type catalog, shared by the organization's applications.
type EventTypesService struct{ c *Client }

// Create adds an event type; a name already in the catalog is a conflict.
func (s *EventTypesService) Create(ctx context.Context, in EventTypeIn) (*EventType, error) {
	var out EventType
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/event-types", body: in}, &out))
}

func (s *EventTypesService) List(ctx context.Context, opts *EventTypeListOptions) (*Page[EventType], error) {
	var out Page[EventType]
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/event-types", query: query(opts)}, &out))
}

// All iterates over every event type (opts as for List).
func (s *EventTypesService) All(ctx context.Context, opts *EventTypeListOptions) iter.Seq2[EventType, error] {
	o := deref(opts)
	return all(ctx, &o.ListOptions, func(lo ListOptions) (*Page[EventType], error) {
		o.ListOptions = lo
		return s.List(ctx, &o)
	})
}

func (s *EventTypesService) Get(ctx context.Context, name string) (*EventType, error) {
	var out EventType
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/event-types/" + esc(name)}, &out))
}

func (s *EventTypesService) Update(ctx context.Context, name string, patch EventTypePatch) (*EventType, error) {
	var out EventType
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPatch, path: "/v1/event-types/" + esc(name), body: patch}, &out))
}

// Archive archives an event type: new publishes and subscriptions are refused, history stays.
func (s *EventTypesService) Archive(ctx context.Context, name string) error {
	return s.c.do(ctx, call{method: http.MethodDelete, path: "/v1/event-types/" + esc(name)}, nil)
}

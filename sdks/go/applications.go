package hookrelay

import (
	"context"
	"iter"
	"net/http"
)

// ApplicationsService manages your customers. Wherever an application is named (app), its id (app_…) or its
// uid works.
type ApplicationsService struct{ c *Client }

// Create creates an application; a taken uid is a conflict.
func (s *ApplicationsService) Create(ctx context.Context, in ApplicationIn) (*Application, error) {
	var out Application
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/applications", body: in}, &out))
}

// Upsert creates or updates the application with your own customer id (PUT /v1/applications/uid/{uid}).
// in.UID is ignored.
func (s *ApplicationsService) Upsert(ctx context.Context, uid string, in ApplicationIn) (*Application, error) {
	in.UID = ""
	var out Application
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPut, path: "/v1/applications/uid/" + esc(uid), body: in}, &out))
}

// List returns one page of applications, newest first.
func (s *ApplicationsService) List(ctx context.Context, opts *ApplicationListOptions) (*Page[Application], error) {
	var out Page[Application]
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/applications", query: query(opts)}, &out))
}

// All iterates over every application (opts as for List).
func (s *ApplicationsService) All(ctx context.Context, opts *ApplicationListOptions) iter.Seq2[Application, error] {
	o := deref(opts)
	return all(ctx, &o.ListOptions, func(lo ListOptions) (*Page[Application], error) {
		o.ListOptions = lo
		return s.List(ctx, &o)
	})
}

func (s *ApplicationsService) Get(ctx context.Context, app string) (*Application, error) {
	var out Application
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/applications/" + esc(app)}, &out))
}

func (s *ApplicationsService) Update(ctx context.Context, app string, patch ApplicationPatch) (*Application, error) {
	var out Application
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPatch, path: "/v1/applications/" + esc(app), body: patch}, &out))
}

// Delete deletes the application's webhooks (their open deliveries end cancelled), revokes its keys, then
// deletes it.
func (s *ApplicationsService) Delete(ctx context.Context, app string) error {
	return s.c.do(ctx, call{method: http.MethodDelete, path: "/v1/applications/" + esc(app)}, nil)
}

// Stats returns the application's delivery statistics of the last 24 h and the health of each of its webhooks.
func (s *ApplicationsService) Stats(ctx context.Context, app string) (*ApplicationStats, error) {
	var out ApplicationStats
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/applications/" + esc(app) + "/stats"}, &out))
}

// Webhooks returns one page of the application's webhooks (opts.Application is not used).
func (s *ApplicationsService) Webhooks(ctx context.Context, app string, opts *WebhookListOptions) (*Page[Webhook], error) {
	q := query(opts)
	q.Del("application")
	var out Page[Webhook]
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/applications/" + esc(app) + "/webhooks", query: q}, &out))
}

// CreateWebhook creates a webhook of the application (in.Application is not used).
func (s *ApplicationsService) CreateWebhook(ctx context.Context, app string, in WebhookIn) (*Webhook, error) {
	in.Application = ""
	var out Webhook
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/applications/" + esc(app) + "/webhooks", body: in}, &out))
}

// Deliveries returns one page of the application's deliveries across its webhooks, newest first.
// Filter by event type with opts.EventType.
func (s *ApplicationsService) Deliveries(ctx context.Context, app string, opts *DeliveryListOptions) (*Page[Delivery], error) {
	var out Page[Delivery]
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/applications/" + esc(app) + "/deliveries", query: query(opts)}, &out))
}

// AllDeliveries iterates over every delivery of the application (opts as for Deliveries).
func (s *ApplicationsService) AllDeliveries(ctx context.Context, app string, opts *DeliveryListOptions) iter.Seq2[Delivery, error] {
	o := deref(opts)
	return all(ctx, &o.ListOptions, func(lo ListOptions) (*Page[Delivery], error) {
		o.ListOptions = lo
		return s.Deliveries(ctx, app, &o)
	})
}

// CreatePortalSession returns a link that opens the consumer portal signed in as the application. expiresIn is
// in seconds (60 to 604800); 0 for the deployment's default (1 h).
func (s *ApplicationsService) CreatePortalSession(ctx context.Context, app string, expiresIn int) (*PortalSession, error) {
	body := struct {
		ExpiresIn int `json:"expires_in,omitempty"`
	}{expiresIn}
	var out PortalSession
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/applications/" + esc(app) + "/portal-sessions", body: body}, &out))
}

// EndPortalSession ends a portal session before it expires.
func (s *ApplicationsService) EndPortalSession(ctx context.Context, app, sessionID string) error {
	return s.c.do(ctx, call{method: http.MethodDelete, path: "/v1/applications/" + esc(app) + "/portal-sessions/" + esc(sessionID)}, nil)
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

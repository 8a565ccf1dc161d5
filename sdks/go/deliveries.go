package hookrelay

import (
	"context"
	"net/http"
)

// DeliveriesService reads and retries single deliveries.
type DeliveriesService struct{ c *Client }

// Get returns a delivery with its attempts.
func (s *DeliveriesService) Get(ctx context.Context, id string) (*Delivery, error) {
	var out Delivery
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/deliveries/" + esc(id)}, &out))
}

// Retry attempts the delivery again now; its attempt count continues.
func (s *DeliveriesService) Retry(ctx context.Context, id string) (*Delivery, error) {
	var out Delivery
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/deliveries/" + esc(id) + "/retry", body: struct{}{}}, &out))
}

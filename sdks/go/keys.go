package hookrelay

import (
	"context"
	"iter"
	"net/http"
)

// KeysService manages API keys (admin keys only).
type KeysService struct{ c *Client }

// Create creates a key; its full value is in the answer's Key, and nowhere else, ever.
func (s *KeysService) Create(ctx context.Context, in APIKeyIn) (*APIKey, error) {
	var out APIKey
	return orNil(&out, s.c.do(ctx, call{method: http.MethodPost, path: "/v1/keys", body: in}, &out))
}

// List returns one page of the keys that are not revoked.
func (s *KeysService) List(ctx context.Context, opts *ListOptions) (*Page[APIKey], error) {
	var out Page[APIKey]
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/keys", query: query(opts)}, &out))
}

// All iterates over every key that is not revoked.
func (s *KeysService) All(ctx context.Context) iter.Seq2[APIKey, error] {
	return all(ctx, nil, func(lo ListOptions) (*Page[APIKey], error) { return s.List(ctx, &lo) })
}

func (s *KeysService) Get(ctx context.Context, id string) (*APIKey, error) {
	var out APIKey
	return orNil(&out, s.c.do(ctx, call{method: http.MethodGet, path: "/v1/keys/" + esc(id)}, &out))
}

// Revoke revokes a key; it stops working within 5 s on every API process.
func (s *KeysService) Revoke(ctx context.Context, id string) error {
	return s.c.do(ctx, call{method: http.MethodDelete, path: "/v1/keys/" + esc(id)}, nil)
}

package hookrelay

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the API of `npm start` on the same machine.
const DefaultBaseURL = "http://127.0.0.1:3000"

// Version is this client's version, sent in the User-Agent header.
const Version = "0.1.0"

// Client calls the hookrelay API. It is safe for concurrent use.
type Client struct {
	apiKey     string
	baseURL    string
	httpClient *http.Client
	timeout    time.Duration
	maxRetries int
	maxWait    time.Duration

	// Your customers, with their webhooks, deliveries, stats and portal sessions.
	Applications *ApplicationsService
	// The event type catalog.
	EventTypes *EventTypesService
	Webhooks   *WebhooksService
	Events     *EventsService
	Deliveries *DeliveriesService
	// API keys (admin keys only).
	Keys *KeysService
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the API's address, e.g. "https://hookrelay.example.com" (default DefaultBaseURL).
func WithBaseURL(u string) Option { return func(c *Client) { c.baseURL = strings.TrimRight(u, "/") } }

// WithHTTPClient sets the *http.Client requests go through (default: http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.httpClient = hc } }

// WithTimeout sets how long one try of a request may take (default 30 s). Webhooks.Test, which waits for the
// attempt it sends, may take up to 70 s. The context given to each call bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxRetries sets how many times a request is retried (default 3; 0 disables retries).
func WithMaxRetries(n int) Option { return func(c *Client) { c.maxRetries = n } }

// WithMaxRetryWait caps the wait before a retry, Retry-After included (default 60 s).
func WithMaxRetryWait(d time.Duration) Option { return func(c *Client) { c.maxWait = d } }

// New returns a client for the given API key (hrk_…).
func New(apiKey string, opts ...Option) *Client {
	c := &Client{
		apiKey:     apiKey,
		baseURL:    DefaultBaseURL,
		httpClient: http.DefaultClient,
		timeout:    30 * time.Second,
		maxRetries: 3,
		maxWait:    time.Minute,
	}
	for _, o := range opts {
		o(c)
	}
	c.Applications = &ApplicationsService{c}
	c.EventTypes = &EventTypesService{c}
	c.Webhooks = &WebhooksService{c}
	c.Events = &EventsService{c}
	c.Deliveries = &DeliveriesService{c}
	c.Keys = &KeysService{c}
	return c
}

// Me returns the organization and the key behind this client.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	return orNil(&out, c.do(ctx, call{method: http.MethodGet, path: "/v1/me"}, &out))
}

type call struct {
	method string
	path   string
	query  url.Values
	body   any
	header http.Header
	// repeatable marks a POST that is harmless to send twice (it carries an idempotency key, or ids).
	repeatable bool
	// timeout, when longer than the client's, is how long one try may take.
	timeout time.Duration
}

// do sends one API call, with retries.
//
// 429 and 503 are always retried: the API guarantees that such a request had no effect. A network error, 502
// or 504 leaves it open whether the request was applied, so it is retried only when repeating is harmless:
// GET, PUT, PATCH, DELETE, and POSTs marked repeatable (publishes). Retrying rotate-secret blindly, say, could
// rotate twice and drop the secret receivers still hold.
func (c *Client) do(ctx context.Context, r call, out any) error {
	if c.apiKey == "" {
		return errors.New("hookrelay: no API key (hookrelay.New was given an empty one)")
	}
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("hookrelay: encoding the request body: %w", err)
		}
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	repeatable := r.method != http.MethodPost || r.repeatable
	ambiguous := false // an earlier try may have been applied
	timeout := max(c.timeout, r.timeout)
	for attempt := 0; ; attempt++ {
		canRetry := attempt < c.maxRetries
		res, body, err := c.try(ctx, r, target, payload, timeout)
		if err != nil {
			if ctx.Err() == nil && canRetry && repeatable {
				ambiguous = true
				if err := c.sleep(ctx, backoff(attempt)); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("hookrelay: %s %s: %w", r.method, r.path, err)
		}
		gateway := res.StatusCode == http.StatusBadGateway || res.StatusCode == http.StatusGatewayTimeout
		if canRetry && (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable || (repeatable && gateway)) {
			ambiguous = ambiguous || gateway
			wait, ok := retryAfter(res.Header.Get("Retry-After"))
			if !ok {
				wait = backoff(attempt)
			}
			if err := c.sleep(ctx, min(wait, c.maxWait)); err != nil {
				return err
			}
			continue
		}
		// A DELETE whose first try went through but whose answer was lost sees 404 on the retry: it is done.
		if r.method == http.MethodDelete && res.StatusCode == http.StatusNotFound && ambiguous {
			return nil
		}
		if res.StatusCode >= 300 {
			return apiError(res, body)
		}
		if out == nil || res.StatusCode == http.StatusNoContent || len(body) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("hookrelay: %s %s: the answer is not the expected JSON (request %s): %w", r.method, r.path, res.Header.Get("X-Request-Id"), err)
		}
		return nil
	}
}

// try sends the request once and reads the whole answer, within timeout.
func (c *Client) try(ctx context.Context, r call, target string, payload []byte, timeout time.Duration) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hookrelay-go/"+Version)
	res, err := c.httpClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	// An error answer worth retrying is not read past 64 KiB; any other answer is read whole.
	limit := int64(64 << 20)
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 {
		limit = 64 << 10
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, limit))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	return res, data, nil
}

func apiError(res *http.Response, body []byte) *Error {
	var parsed struct {
		Error *struct {
			Code    string        `json:"code"`
			Message string        `json:"message"`
			Details []ErrorDetail `json:"details"`
		} `json:"error"`
		RequestID string `json:"request_id"`
	}
	e := &Error{StatusCode: res.StatusCode, Code: CodeHTTPError, RequestID: res.Header.Get("X-Request-Id")}
	if json.Unmarshal(body, &parsed) == nil && parsed.Error != nil {
		e.Code, e.Message, e.Details = parsed.Error.Code, parsed.Error.Message, parsed.Error.Details
		if parsed.RequestID != "" {
			e.RequestID = parsed.RequestID
		}
		return e
	}
	e.Message = http.StatusText(res.StatusCode)
	if text := strings.TrimSpace(string(body)); text != "" {
		e.Message += ": " + truncate(text, 200)
	}
	return e
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

// backoff is exponential from 250 ms, capped at 10 s, with jitter (half to all of it).
func backoff(attempt int) time.Duration {
	d := min(10*time.Second, 250*time.Millisecond<<min(attempt, 10))
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// newIdempotencyKey returns a random (version 4) UUID.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = crand.Read(b[:]) // never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func esc(s string) string { return url.PathEscape(s) }

// query encodes the non-zero fields of an options struct by their `url` tags (embedded structs included).
func query(opts any) url.Values {
	q := url.Values{}
	v := reflect.ValueOf(opts)
	if !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return q
	}
	addFields(q, reflect.Indirect(v))
	return q
}

func addFields(q url.Values, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if f.Anonymous && fv.Kind() == reflect.Struct {
			addFields(q, fv)
			continue
		}
		name := f.Tag.Get("url")
		if name == "" || fv.IsZero() {
			continue
		}
		switch x := fv.Interface().(type) {
		case time.Time:
			q.Set(name, x.UTC().Format(time.RFC3339Nano))
		case bool:
			q.Set(name, strconv.FormatBool(x))
		default:
			q.Set(name, fmt.Sprint(x))
		}
	}
}

// orNil returns out, or nil with the error: a call that failed has no result.
func orNil[T any](out *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return out, nil
}

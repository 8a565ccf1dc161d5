package hookrelay

import (
	"encoding/json"
	"time"
)

// Nullable is a field of a partial update (PATCH) that is left out (the zero value), set to a value (Set), or
// set to null (SetNull), e.g. a webhook's filter removed, or its rate limit back to the default.
type Nullable[T any] struct {
	value T
	state uint8 // 0 absent, 1 value, 2 null
}

// Set returns a Nullable holding v.
func Set[T any](v T) Nullable[T] { return Nullable[T]{value: v, state: 1} }

// SetNull returns a Nullable that sends null.
func SetNull[T any]() Nullable[T] { return Nullable[T]{state: 2} }

// IsZero reports whether the field is left out (encoding/json's omitzero).
func (n Nullable[T]) IsZero() bool { return n.state == 0 }

func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.state != 1 {
		return []byte("null"), nil
	}
	return json.Marshal(n.value)
}

// Ptr returns a pointer to v, for the optional fields of inputs: Timeout: hookrelay.Ptr(5000).
func Ptr[T any](v T) *T { return &v }

// ListOptions selects a page of a list. Zero values are the API's defaults (page 1, 20 per page).
type ListOptions struct {
	Page    int `url:"page"`
	PerPage int `url:"per_page"` // at most 100
}

// Page is one page of a list.
type Page[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

type Pagination struct {
	Page    int  `json:"page"`
	PerPage int  `json:"per_page"`
	Total   int  `json:"total"`
	HasMore bool `json:"has_more"`
}

// Me is the organization and key behind a client.
type Me struct {
	Organization struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"organization"`
	Key struct {
		ID   string `json:"id"`
		Role Role   `json:"role"`
		// ApplicationID is set for application keys.
		ApplicationID string `json:"application_id"`
	} `json:"key"`
}

// Role is an API key's role.
type Role string

const (
	RoleAdmin       Role = "admin"
	RolePublisher   Role = "publisher"
	RoleApplication Role = "application"
)

// ---- applications ----

// Application is one customer of yours: its webhooks receive only the events published to it.
type Application struct {
	ID            string         `json:"id"`
	UID           string         `json:"uid"` // your own id of the customer; "" when none
	Name          string         `json:"name"`
	Metadata      map[string]any `json:"metadata"`
	RateLimitPerS *int           `json:"rate_limit_per_s"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// ApplicationIn creates an application (Applications.Create) or, without UID, is the body of Applications.Upsert.
type ApplicationIn struct {
	Name          string         `json:"name"`
	UID           string         `json:"uid,omitempty"`
	Metadata      map[string]any `json:"metadata,omitempty"`
	RateLimitPerS *int           `json:"rate_limit_per_s,omitempty"`
}

// ApplicationPatch changes the fields that are set.
type ApplicationPatch struct {
	Name          *string          `json:"name,omitempty"`
	UID           Nullable[string] `json:"uid,omitzero"`
	Metadata      map[string]any   `json:"metadata,omitempty"`
	RateLimitPerS Nullable[int]    `json:"rate_limit_per_s,omitzero"`
}

type ApplicationListOptions struct {
	ListOptions
	UID   string `url:"uid"`
	Query string `url:"q"` // name contains, case-insensitive
}

type ApplicationStats struct {
	Window   string `json:"window"`
	Attempts struct {
		Succeeded int `json:"succeeded"`
		Failed    int `json:"failed"`
	} `json:"attempts"`
	SuccessRate *float64    `json:"success_rate"`
	LatencyMS   Percentiles `json:"latency_ms"`
	Webhooks    []struct {
		ID           string        `json:"id"`
		UID          string        `json:"uid"`
		URL          string        `json:"url"`
		Status       WebhookStatus `json:"status"`
		HealthStatus HealthStatus  `json:"health_status"`
	} `json:"webhooks"`
}

// Percentiles are latency percentiles in milliseconds (upper bounds of histogram buckets); nil without data.
type Percentiles struct {
	P50 *float64 `json:"p50"`
	P95 *float64 `json:"p95"`
	P99 *float64 `json:"p99"`
}

// PortalSession is a link that opens the consumer portal signed in as an application.
type PortalSession struct {
	ID            string    `json:"id"`
	ApplicationID string    `json:"application_id"`
	URL           string    `json:"url"`
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// ---- keys ----

type APIKey struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Role          Role       `json:"role"`
	ApplicationID string     `json:"application_id"`
	Prefix        string     `json:"prefix"`
	ExpiresAt     *time.Time `json:"expires_at"`
	LastUsedAt    *time.Time `json:"last_used_at"`
	CreatedAt     time.Time  `json:"created_at"`
	// Key is the full key: only in the answer to Keys.Create.
	Key string `json:"key,omitempty"`
}

type APIKeyIn struct {
	Role Role `json:"role"`
	// Application (id or uid) is required for, and only allowed with, RoleApplication.
	Application string    `json:"application,omitempty"`
	Name        string    `json:"name,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
}

// ---- event types ----

type EventType struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Schema      map[string]any `json:"schema"`
	Deprecated  bool           `json:"deprecated"`
	ReplacedBy  string         `json:"replaced_by"`
	Archived    bool           `json:"archived"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

type EventTypeIn struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Schema      map[string]any `json:"schema,omitempty"` // JSON Schema the events' data is validated against
	Deprecated  bool           `json:"deprecated,omitempty"`
	ReplacedBy  string         `json:"replaced_by,omitempty"`
}

type EventTypePatch struct {
	Description *string                  `json:"description,omitempty"`
	Schema      Nullable[map[string]any] `json:"schema,omitzero"`
	Deprecated  *bool                    `json:"deprecated,omitempty"`
	ReplacedBy  Nullable[string]         `json:"replaced_by,omitzero"`
}

type EventTypeListOptions struct {
	ListOptions
	IncludeArchived bool `url:"include_archived"`
}

// ---- webhooks ----

type WebhookStatus string

const (
	WebhookActive   WebhookStatus = "active"
	WebhookDisabled WebhookStatus = "disabled"
)

type HealthStatus string

const (
	HealthHealthy  HealthStatus = "healthy"
	HealthSlow     HealthStatus = "slow"
	HealthDegraded HealthStatus = "degraded"
	HealthFailing  HealthStatus = "failing"
	HealthUnknown  HealthStatus = "unknown"
)

type Webhook struct {
	ID            string `json:"id"`
	ApplicationID string `json:"application_id"` // "" for an organization-level webhook
	UID           string `json:"uid"`
	URL           string `json:"url"`
	Description   string `json:"description"`
	// Events is nil for every event type.
	Events []string `json:"events"`
	// Channels is nil for every channel.
	Channels []string       `json:"channels"`
	Filter   map[string]any `json:"filter"`
	// Headers: values of secret headers are "••••••••" (in full in the answer to Create, and to Get with IncludeSecret).
	Headers map[string]string `json:"headers"`
	// SecretHeaders: the headers whose values are secret (stored encrypted, shown masked).
	SecretHeaders  []string      `json:"secret_headers"`
	RetrySchedule  []string      `json:"retry_schedule"`
	TimeoutMS      int           `json:"timeout_ms"`
	RateLimitPerS  *int          `json:"rate_limit_per_s"`
	MaxInFlight    *int          `json:"max_in_flight"` // nil: the deployment's default
	Status         WebhookStatus `json:"status"`
	Disabled       bool          `json:"disabled"`
	DisabledReason string        `json:"disabled_reason"` // "user", "failing", "gone"
	HealthStatus   HealthStatus  `json:"health_status"`
	// Secret is set in the answer to Create, and to Get with IncludeSecret.
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// RecentDeliveries (Get only): the last 10 deliveries with their attempts.
	RecentDeliveries []Delivery `json:"recent_deliveries,omitempty"`
	// Recovery is set in the answer to Enable: the task releasing held deliveries.
	Recovery *Recovery `json:"recovery,omitempty"`
}

// WebhookIn creates a webhook (Webhooks.Create, Applications.CreateWebhook) or replaces one (Webhooks.Register).
type WebhookIn struct {
	URL string `json:"url"`
	// Application (id or uid) makes it that application's webhook; it cannot change later.
	Application string `json:"application,omitempty"`
	UID         string `json:"uid,omitempty"`
	Description string `json:"description,omitempty"`
	// Events: event type names, "*" or "prefix.*"; nil for every type.
	Events []string `json:"events,omitzero"`
	// Channels: nil for every channel.
	Channels []string       `json:"channels,omitzero"`
	Filter   map[string]any `json:"filter,omitzero"`
	// Headers: a secret header's value given as "••••••••" keeps the stored one (Register).
	Headers map[string]string `json:"headers,omitzero"`
	// SecretHeaders: more of Headers whose values are secret, beside those secret by name (Authorization, API keys, tokens, …).
	SecretHeaders []string `json:"secret_headers,omitzero"`
	// Secret (≥ 24 characters) instead of a generated whsec_….
	Secret string `json:"secret,omitempty"`
	// RetrySchedule: nil for the default; an empty, non-nil slice for a single attempt.
	RetrySchedule []string `json:"retry_schedule,omitzero"`
	TimeoutMS     int      `json:"timeout_ms,omitempty"`
	RateLimitPerS *int     `json:"rate_limit_per_s,omitempty"`
	MaxInFlight   *int     `json:"max_in_flight,omitempty"`
}

// WebhookPatch changes the fields that are set. Disabling and enabling have their own methods.
type WebhookPatch struct {
	URL           *string                  `json:"url,omitempty"`
	UID           Nullable[string]         `json:"uid,omitzero"`
	Description   *string                  `json:"description,omitempty"`
	Events        Nullable[[]string]       `json:"events,omitzero"`
	Channels      Nullable[[]string]       `json:"channels,omitzero"`
	Filter        Nullable[map[string]any] `json:"filter,omitzero"`
	Headers       map[string]string        `json:"headers,omitzero"`
	SecretHeaders Nullable[[]string]       `json:"secret_headers,omitzero"`
	Secret        *string                  `json:"secret,omitempty"`
	RetrySchedule []string                 `json:"retry_schedule,omitzero"`
	TimeoutMS     *int                     `json:"timeout_ms,omitempty"`
	RateLimitPerS Nullable[int]            `json:"rate_limit_per_s,omitzero"`
	MaxInFlight   Nullable[int]            `json:"max_in_flight,omitzero"`
}

type WebhookListOptions struct {
	ListOptions
	Status      WebhookStatus `url:"status"`
	Event       string        `url:"event"`
	UID         string        `url:"uid"`
	Application string        `url:"application"` // not used by Applications.Webhooks
}

type WebhookStats struct {
	Window     string `json:"window"`
	Deliveries struct {
		Delivered int `json:"delivered"`
		Failed    int `json:"failed"`
		Pending   int `json:"pending"`
	} `json:"deliveries"`
	SuccessRate   *float64     `json:"success_rate"`
	LatencyMS     Percentiles  `json:"latency_ms"`
	HealthStatus  HealthStatus `json:"health_status"`
	LastSuccessAt *time.Time   `json:"last_success_at"`
	LastFailureAt *time.Time   `json:"last_failure_at"`
	Series        []struct {
		At        time.Time `json:"at"`
		Delivered int       `json:"delivered"`
		Failed    int       `json:"failed"`
		Other     int       `json:"other"`
	} `json:"series"`
}

// Recovery is a durable task re-delivering a webhook's failed and skipped deliveries, or releasing held ones.
type Recovery struct {
	ID        string     `json:"id"`
	WebhookID string     `json:"webhook_id"`
	Release   bool       `json:"release"`
	Since     *time.Time `json:"since"`
	Until     *time.Time `json:"until"`
	Status    string     `json:"status"` // "running" or "completed"
	Recovered int        `json:"recovered"`
}

// Done reports whether the recovery has completed.
func (r *Recovery) Done() bool { return r.Status == "completed" }

type RecoverIn struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until,omitzero"`
}

type WebhookTestIn struct {
	EventType string `json:"event_type,omitempty"`
	Data      any    `json:"data,omitempty"`
}

// ---- events ----

// EventIn is an event to publish.
type EventIn struct {
	Type string `json:"type"`
	// Data is the event's payload, a JSON object (a map or a struct).
	Data any `json:"data"`
	// Application (id or uid) sends it to that application's webhooks only; "" to organization-level webhooks.
	Application string `json:"application,omitempty"`
	// ID is your id of the event: the same id within 24 h is published once.
	ID        string    `json:"id,omitempty"`
	Channels  []string  `json:"channels,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Raw sends exactly Data as the body instead of the {id, type, timestamp, data} envelope.
	Raw bool `json:"raw,omitempty"`
}

// Published is the answer to a publish.
type Published struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	// Deliveries is the number of webhooks the event matched.
	Deliveries int `json:"deliveries"`
}

type Event struct {
	ID            string          `json:"id"`
	ApplicationID string          `json:"application_id"`
	Type          string          `json:"type"`
	Timestamp     time.Time       `json:"timestamp"`
	Channels      []string        `json:"channels"`
	Raw           bool            `json:"raw"`
	Data          json.RawMessage `json:"data"` // null once erased
	CreatedAt     time.Time       `json:"created_at"`
	ErasedAt      *time.Time      `json:"erased_at"`
	// Deliveries (Get only): one per matched webhook.
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

type EventListOptions struct {
	ListOptions
	Type        string    `url:"type"`
	Application string    `url:"application"`
	Since       time.Time `url:"since"`
	Until       time.Time `url:"until"`
}

// ---- deliveries ----

type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryPaused    DeliveryStatus = "paused"
	DeliverySkipped   DeliveryStatus = "skipped"
	DeliveryCancelled DeliveryStatus = "cancelled"
)

// Delivery is one event's delivery to one webhook.
type Delivery struct {
	ID            string          `json:"id"`
	ApplicationID string          `json:"application_id"`
	WebhookID     string          `json:"webhook_id"`
	EventID       string          `json:"event_id"`
	Event         string          `json:"event"`
	Payload       json.RawMessage `json:"payload"`
	Status        DeliveryStatus  `json:"status"`
	Attempt       int             `json:"attempt"`
	StatusCode    *int            `json:"status_code"`
	NextAttemptAt *time.Time      `json:"next_attempt_at"`
	DeliveredAt   *time.Time      `json:"delivered_at"`
	CreatedAt     time.Time       `json:"created_at"`
	WorkflowID    string          `json:"workflow_id"`
	// Waiting is set while the next attempt waits for room to be sent.
	Waiting *struct {
		Reason string    `json:"reason"` // endpoint_in_flight, application_share, worker_capacity, proxy_unavailable, resolver_unavailable
		Since  time.Time `json:"since"`
	} `json:"waiting"`
	// Attempts (Get and Test only).
	Attempts []Attempt `json:"attempts,omitempty"`
}

type Attempt struct {
	ID           string    `json:"id"`
	Attempt      int       `json:"attempt"`
	StatusCode   *int      `json:"status_code"`
	DurationMS   int       `json:"duration_ms"`
	Error        string    `json:"error"` // "" or timeout, connection_refused, dns, tls, blocked_address, http_status; proxy_unavailable, resolver_unavailable (hookrelay's own path, not the endpoint's)
	ResponseBody string    `json:"response_body"`
	CreatedAt    time.Time `json:"created_at"`
	Sends        int       `json:"sends"`
	InFlight     bool      `json:"in_flight"`
}

// DeliveryListOptions filters a delivery log. A webhook's log filters by Event; an application's by EventType.
type DeliveryListOptions struct {
	ListOptions
	Status    DeliveryStatus `url:"status"`
	Event     string         `url:"event"`
	EventType string         `url:"event_type"`
	Since     time.Time      `url:"since"`
	Until     time.Time      `url:"until"`
}

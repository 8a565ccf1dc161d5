package hookrelay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// Reasons Verify rejects a request; test them with errors.Is.
var (
	ErrMissingHeaders      = errors.New("hookrelay: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrInvalidTimestamp    = errors.New("hookrelay: invalid webhook-timestamp")
	ErrTimestampTooOld     = errors.New("hookrelay: webhook-timestamp is too old")
	ErrTimestampTooNew     = errors.New("hookrelay: webhook-timestamp is in the future")
	ErrNoMatchingSignature = errors.New("hookrelay: no matching signature")
)

// Verifier checks the Standard Webhooks signature of deliveries on the receiving end.
//
// Give it the webhook's secret and, during a rotation, the previous one as well: a request signed by either is
// accepted. (While a rotated secret is valid hookrelay signs with both, so an endpoint can switch over at its
// own pace.)
type Verifier struct {
	keys [][]byte
	// Tolerance is how far the webhook-timestamp may be from now (DefaultTolerance). Older requests are
	// rejected, so a captured request cannot be replayed later.
	Tolerance time.Duration
	now       func() time.Time
}

// NewVerifier returns a Verifier accepting signatures by any of the given secrets (whsec_…); empty strings are
// skipped, so NewVerifier(current, os.Getenv("PREVIOUS_SECRET")) works with or without a previous secret.
func NewVerifier(secrets ...string) (*Verifier, error) {
	v := &Verifier{Tolerance: DefaultTolerance, now: time.Now}
	for _, s := range secrets {
		if s != "" {
			v.keys = append(v.keys, secretKey(s))
		}
	}
	if len(v.keys) == 0 {
		return nil, errors.New("hookrelay: NewVerifier needs at least one secret")
	}
	return v, nil
}

// Verify checks the request's webhook-id, webhook-timestamp and webhook-signature headers against payload,
// the raw body as received (verify before parsing it). It returns nil when one of the signatures matches one of
// the secrets and the timestamp is within the tolerance.
func (v *Verifier) Verify(payload []byte, headers http.Header) error {
	id, ts, sigs := headers.Get("webhook-id"), headers.Get("webhook-timestamp"), headers.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	now := v.now().Unix()
	tolerance := int64(v.Tolerance / time.Second)
	if now-sec > tolerance {
		return ErrTimestampTooOld
	}
	if sec-now > tolerance {
		return ErrTimestampTooNew
	}
	for _, key := range v.keys {
		expected := mac(key, id, sec, payload)
		for _, candidate := range strings.Fields(sigs) {
			version, value, ok := strings.Cut(candidate, ",")
			if !ok || version != "v1" {
				continue
			}
			given, err := base64.StdEncoding.DecodeString(value)
			if err == nil && hmac.Equal(given, expected) {
				return nil
			}
		}
	}
	return ErrNoMatchingSignature
}

// Sign returns the webhook-signature value hookrelay sends for a message: "v1,<base64 HMAC-SHA256>". It is
// for tests of your receiver.
func Sign(secret, msgID string, timestamp time.Time, payload []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(secretKey(secret), msgID, timestamp.Unix(), payload))
}

func mac(key []byte, id string, timestamp int64, payload []byte) []byte {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "%s.%d.", id, timestamp)
	h.Write(payload)
	return h.Sum(nil)
}

// secretKey is the HMAC key of a secret: the base64 part of whsec_…, or the bytes of a secret of your own.
func secretKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
			if b, err := enc.DecodeString(rest); err == nil && len(b) > 0 {
				return b
			}
		}
	}
	return []byte(secret)
}

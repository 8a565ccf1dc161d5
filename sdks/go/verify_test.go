package hookrelay_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	hookrelay "github.com/hookrelay/hookrelay/sdks/go"
)

// A message signed by the worker's own signing code (src/domain/signature.ts), for a fixed secret and time.
const (
	vectorSecret    = "whsec_aG9va3JlbGF5LWdvLWFuZC1qYXZhLXRlc3Qtc2VjcmV0IQ=="
	vectorBody      = `{"id":"evt_1","type":"case.complete","timestamp":"2026-01-01T00:00:00.000Z","data":{"n":1}}`
	vectorSignature = "v1,DB89LK12eQTkP5h123GQmFoZiV6p4AmxoNX8oA/WMKY="
)

var vectorTime = time.Unix(1767225600, 0)

func vectorHeaders(signature string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", "evt_1")
	h.Set("webhook-timestamp", "1767225600")
	h.Set("webhook-signature", signature)
	return h
}

func verifierAt(t *testing.T, at time.Time, secrets ...string) *hookrelay.Verifier {
	t.Helper()
	v, err := hookrelay.NewVerifier(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	v.SetClock(func() time.Time { return at })
	return v
}

func TestVerifyAcceptsTheServersSignature(t *testing.T) {
	if err := verifierAt(t, vectorTime, vectorSecret).Verify([]byte(vectorBody), vectorHeaders(vectorSignature)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := hookrelay.Sign(vectorSecret, "evt_1", vectorTime, []byte(vectorBody)); got != vectorSignature {
		t.Fatalf("Sign = %s, want %s", got, vectorSignature)
	}
}

func TestVerifyAcceptsCurrentAndPreviousSecret(t *testing.T) {
	current := "whsec_" + "bmV3LXNlY3JldC1hZnRlci10aGUtcm90YXRpb24h"
	// During a rotation the header carries two signatures; either secret alone verifies it.
	both := hookrelay.Sign(current, "evt_1", vectorTime, []byte(vectorBody)) + " " + vectorSignature
	for _, secrets := range [][]string{{current}, {vectorSecret}, {current, vectorSecret}} {
		if err := verifierAt(t, vectorTime, secrets...).Verify([]byte(vectorBody), vectorHeaders(both)); err != nil {
			t.Errorf("secrets %v: %v", secrets, err)
		}
	}
	// A receiver that already has the new secret and keeps the old one accepts a request signed by the old only.
	if err := verifierAt(t, vectorTime, current, vectorSecret).Verify([]byte(vectorBody), vectorHeaders(vectorSignature)); err != nil {
		t.Errorf("previous secret: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	other := "whsec_" + "c29tZWJvZHktZWxzZXMtc2VjcmV0LTEyMzQ1Ng=="
	cases := []struct {
		name    string
		v       *hookrelay.Verifier
		body    string
		headers http.Header
		want    error
	}{
		{"another secret", verifierAt(t, vectorTime, other), vectorBody, vectorHeaders(vectorSignature), hookrelay.ErrNoMatchingSignature},
		{"a changed body", verifierAt(t, vectorTime, vectorSecret), vectorBody + " ", vectorHeaders(vectorSignature), hookrelay.ErrNoMatchingSignature},
		{"an old timestamp", verifierAt(t, vectorTime.Add(6*time.Minute), vectorSecret), vectorBody, vectorHeaders(vectorSignature), hookrelay.ErrTimestampTooOld},
		{"a future timestamp", verifierAt(t, vectorTime.Add(-6*time.Minute), vectorSecret), vectorBody, vectorHeaders(vectorSignature), hookrelay.ErrTimestampTooNew},
		{"no signature", verifierAt(t, vectorTime, vectorSecret), vectorBody, vectorHeaders(""), hookrelay.ErrMissingHeaders},
		{"another scheme", verifierAt(t, vectorTime, vectorSecret), vectorBody, vectorHeaders("v1a," + vectorSignature[3:]), hookrelay.ErrNoMatchingSignature},
	}
	for _, c := range cases {
		if err := c.v.Verify([]byte(c.body), c.headers); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := hookrelay.NewVerifier("", ""); err == nil {
		t.Error("NewVerifier without a secret: no error")
	}
}

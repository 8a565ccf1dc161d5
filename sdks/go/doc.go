// Package hookrelay is the Go client of the hookrelay REST API, and the receiver-side verification of the
// webhooks it delivers.
//
// A producer publishes events and manages its customers' endpoints:
//
//	client := hookrelay.New(os.Getenv("HOOKRELAY_API_KEY"), hookrelay.WithBaseURL("https://hookrelay.example.com"))
//	ev, err := client.Events.Publish(ctx, hookrelay.EventIn{Type: "invoice.paid", Data: map[string]any{"invoice": "A-1"}})
//
// Every call takes a context and returns *Error for an answer of the API that is not a success, so
//
//	var apiErr *hookrelay.Error
//	if errors.As(err, &apiErr) && apiErr.Code == hookrelay.CodeNotFound { … }
//
// Answers 429 and 503 are retried (honouring Retry-After); network errors, 502 and 504 are retried only where
// repeating the request is harmless. Publish sends an idempotency key, so a retried publish is stored once.
//
// A receiver checks what arrives with a Verifier (Standard Webhooks signatures):
//
//	v, err := hookrelay.NewVerifier(secret, previousSecret)
//	err = v.Verify(body, r.Header)
package hookrelay

package hookrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"

	hookrelay "github.com/hookrelay/hookrelay/sdks/go"
)

func Example() {
	ctx := context.Background()
	client := hookrelay.New(os.Getenv("HOOKRELAY_API_KEY"), hookrelay.WithBaseURL(os.Getenv("HOOKRELAY_API_URL")))

	// The catalog: an event type is created once (a second create is a conflict).
	if _, err := client.EventTypes.Create(ctx, hookrelay.EventTypeIn{Name: "invoice.paid"}); err != nil && !hookrelay.IsConflict(err) {
		log.Fatal(err)
	}
	// Your customer, under your own id, and their endpoint. The secret is in this answer only.
	if _, err := client.Applications.Upsert(ctx, "acme", hookrelay.ApplicationIn{Name: "Acme Corp"}); err != nil {
		log.Fatal(err)
	}
	wh, err := client.Applications.CreateWebhook(ctx, "acme", hookrelay.WebhookIn{
		URL:    "https://acme.example.com/hooks",
		Events: []string{"invoice.paid"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("give Acme this secret:", wh.Secret)

	ev, err := client.Events.Publish(ctx, hookrelay.EventIn{
		Application: "acme",
		Type:        "invoice.paid",
		Data:        map[string]any{"invoice": "A-1", "amount": 4200},
	})
	var apiErr *hookrelay.Error
	if errors.As(err, &apiErr) {
		log.Fatalf("%s: %s (request %s)", apiErr.Code, apiErr.Message, apiErr.RequestID)
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published", ev.ID, "to", ev.Deliveries, "webhook(s)")
}

func ExampleWebhooksService_All() {
	ctx := context.Background()
	client := hookrelay.New(os.Getenv("HOOKRELAY_API_KEY"))
	for wh, err := range client.Webhooks.All(ctx, &hookrelay.WebhookListOptions{Status: hookrelay.WebhookActive}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(wh.ID, wh.URL, wh.HealthStatus)
	}
}

func ExampleVerifier() {
	verifier, err := hookrelay.NewVerifier(os.Getenv("WEBHOOK_SECRET"), os.Getenv("WEBHOOK_PREVIOUS_SECRET"))
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/hooks", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if err := verifier.Verify(body, r.Header); err != nil {
			http.Error(w, "invalid signature", http.StatusBadRequest)
			return
		}
		var event struct {
			ID   string          `json:"id"` // the same on every retry: deduplicate on it
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent) // answer fast, do the work afterwards
	})
}

package targets

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
)

func TestEventRebuildsWhatRulesSaw(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	norm, _ := json.Marshal(&providers.Event{Type: "push", Repo: "octo/app", Branch: "main", Sender: "alice"})
	tests := []struct {
		name, contentType, body string
		wantAfter               any
	}{
		{"json", "application/json", `{"after":"abc"}`, "abc"},
		{"form", "application/x-www-form-urlencoded", `payload=%7B%22after%22%3A%22def%22%7D`, "def"},
		{"neither", "text/plain", `hello`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Event(&store.Event{ID: "e1", Source: "github", ReceivedAt: at, Normalized: norm,
				Header: http.Header{"Content-Type": {tt.contentType}, "Authorization": {"Bearer x"}}, Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			if ev.ID != "e1" || ev.Type != "push" || ev.Repo != "octo/app" || !ev.ReceivedAt.Equal(at) || ev.Headers["Authorization"] != "[redacted]" {
				t.Fatalf("event %+v", ev)
			}
			var after any
			if m, ok := ev.Payload.(map[string]any); ok {
				after = m["after"]
			}
			if after != tt.wantAfter {
				t.Fatalf("payload.after = %v, want %v", after, tt.wantAfter)
			}
		})
	}
}

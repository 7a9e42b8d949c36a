package targets

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

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

// The event a plugin gets carries the body's own JSON as its payload: the
// same event as Event's, decoded.
func TestTaskEventIsEventWithTheRawPayload(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	norm, _ := json.Marshal(&providers.Event{Type: "push", Repo: "octo/app", Branch: "main", Sender: "alice"})
	tests := []struct {
		name, contentType, body string
		wantPayload             string // compacted, key order kept
	}{
		{"json", "application/json", "\n {\"z\": 1, \"after\": \"abc\", \"id\": 12345678901234567890}\n", `{"z":1,"after":"abc","id":12345678901234567890}`},
		{"form", "application/x-www-form-urlencoded", `payload=%7B%22after%22%3A%22def%22%7D`, `{"after":"def"}`},
		{"neither", "text/plain", `hello`, `null`},
		{"json array", "application/json", `[1,2]`, `null`},
		{"json null", "application/json", `null`, `null`},
		{"broken json", "application/json", `{"a":`, `null`},
		{"empty", "application/json", ``, `null`},
		// JSON text is UTF-8: a stray byte becomes U+FFFD, as in Event.
		{"invalid utf-8", "application/json", "{\"a\": \"x\xffy\"}", "{\"a\":\"x\uFFFDy\"}"},
		{"invalid utf-8 in a form", "application/x-www-form-urlencoded", `payload=%7B%22a%22%3A%22x%FFy%22%7D`, "{\"a\":\"x\uFFFDy\"}"},
		// As sent: escaped, a body of < grew sixfold, past what a plugin
		// can be sent.
		{"html characters", "application/json", `{"a":"<b>&amp;</b>"}`, `{"a":"<b>&amp;</b>"}`},
		// Trailing data after the object, even a lone bracket, is no
		// JSON object: refused, as Event refuses it.
		{"closing bracket after the object", "application/json", `{"a":1}]`, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sev := &store.Event{ID: "e1", Source: "github", ReceivedAt: at, Normalized: norm,
				Header: http.Header{"Content-Type": {tt.contentType}}, Body: []byte(tt.body)}
			raw, _, err := taskEvent(sev)
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.Valid(raw) {
				t.Errorf("task event %q is not UTF-8, so not JSON text", raw)
			}
			var got struct {
				Payload json.RawMessage `json:"payload"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if string(got.Payload) != tt.wantPayload {
				t.Errorf("payload %s, want %s", got.Payload, tt.wantPayload)
			}
			// Apart from how numbers are written, it is Event's JSON.
			ev, err := Event(sev)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(ev)
			var a, b any
			_ = json.Unmarshal(raw, &a)
			_ = json.Unmarshal(want, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("task event %s\nwant the same as %s", raw, want)
			}
		})
	}
}

package targets

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// FuzzTaskEvent: whatever body a sender got stored, the event a plugin is
// given is valid JSON, and it is Event's, decoded.
func FuzzTaskEvent(f *testing.F) {
	for _, seed := range []struct{ contentType, body string }{
		{"application/json", `{"after":"abc","n":1.5e3,"list":[1,{"a":null}]}`},
		{"application/json", " \n{\"a\":\"<&>\"}\t"},
		{"application/x-www-form-urlencoded", `payload=%7B%22after%22%3A%22def%22%7D`},
		{"application/json", `{"a":"\xff"}`},
		{"application/json", `[]`},
		{"text/plain", `hello`},
	} {
		f.Add(seed.contentType, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		ev := &store.Event{ID: "e1", Source: "github", ReceivedAt: time.Unix(0, 0).UTC(),
			Header: http.Header{"Content-Type": {contentType}}, Body: body}
		raw, _, err := taskEvent(ev)
		if err != nil {
			t.Fatalf("taskEvent: %v", err)
		}
		if !json.Valid(raw) {
			t.Fatalf("not JSON: %q", raw)
		}
		want, err := Event(ev)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Payload any }
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		wantPayload := any(nil)
		if m, ok := want.Payload.(map[string]any); ok {
			wantPayload = m
		}
		if !reflect.DeepEqual(got.Payload, wantPayload) {
			t.Fatalf("payload %#v, want %#v (body %q)", got.Payload, wantPayload, body)
		}
	})
}

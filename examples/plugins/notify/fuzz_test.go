package main

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/plugins/sdk"
)

// The event a task carries comes from a webhook sender: whatever it holds,
// decoding and rendering it return a message or an error, never panic;
// an escaped message holds no <, > or & of the event's own, and a message
// stays within Slack's bound.
func FuzzRenderEvent(f *testing.F) {
	f.Add(`{"type":"push","repo":"acme/api","branch":"main","sender":"alice","payload":{"head_commit":{"message":"a < b"}}}`, "{{.Payload.head_commit.message}}")
	f.Add(`{"type":"x","payload":[1,2,{"<k>":"&"}]}`, DefaultTemplate)
	f.Add(`{"payload":"`+strings.Repeat("<", 100)+`"}`, "{{.Payload}}")
	f.Add(`{"type":"\u2028"}`, "{{.Type}}{{range $k, $v := .Payload}}{{$k}}{{end}}")
	f.Add(`not json`, DefaultTemplate)
	tmpl, err := parseTemplate("fuzz", "{{.Type}}|{{.Action}}|{{.Repo}}|{{.Sender}}|{{.Payload}}")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event, src string) {
		ev, err := decodeEvent(&sdk.Task{Route: "r", Event: json.RawMessage(event)}, true)
		if err != nil {
			return
		}
		msg, err := render(tmpl, ev)
		if err != nil {
			t.Fatalf("rendering a decoded event: %v", err)
		}
		// text/template's own "<no value>" aside.
		if strings.ContainsAny(strings.ReplaceAll(msg, "<no value>", ""), "<>") {
			t.Fatalf("escaped message %q holds < or >", msg)
		}
		if len(msg) > maxText+len("…") || (utf8.ValidString(event) && !utf8.ValidString(msg)) {
			t.Fatalf("message of %d bytes, valid UTF-8 %v", len(msg), utf8.ValidString(msg))
		}
		if user, err := parseTemplate("user", src); err == nil {
			_, _ = render(user, ev) // an error is fine, a panic is not
		}
	})
}

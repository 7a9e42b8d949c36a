package targets

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/token"
	"github.com/hookrelay/hookrelay/store"
)

// A plugin gets the request's header with the same headers redacted as in
// the event: the credential headers, and the header a token source reads
// its token from, which only its provider knows.
func TestTaskRedactsWhatTheProviderRedacted(t *testing.T) {
	p, err := token.New(providers.Options{Secrets: []providers.Secret{"deploy-s3cret"}, Header: "X-Deploy-Key"})
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{
		"Content-Type":   {"application/json"},
		"X-Deploy-Key":   {"deploy-s3cret"},
		"Authorization":  {"Bearer auth-s3cret"},
		"X-Gitlab-Token": {"gl-s3cret"},
		"X-Request-Id":   {"r-1"},
	}
	body := []byte(`{"ok":true}`)
	if err := p.Verify(&providers.Request{Header: header, Body: body}); err != nil {
		t.Fatal(err)
	}
	pev, err := p.Normalize(&providers.Request{Header: header, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	// As the server stores it (server.normalized).
	withNames, err := json.Marshal(&providers.Stored{Event: pev, Redacted: providers.RedactedNames(pev.Headers)})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"auth-s3cret", "gl-s3cret", "deploy-s3cret"}
	tests := []struct {
		name       string
		normalized []byte
		leaks      []string // what a stored event without the names still shows
	}{
		{"stored with the provider's names", withNames, nil},
		// Stored by an older hookrelay: the credential headers only.
		{"stored before the names", []byte(`{"type":"push"}`), []string{"deploy-s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &store.Event{ID: "e1", Source: "deploys", Header: header, Body: body, Normalized: tt.normalized}
			raw, h, err := taskEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			hb, _ := json.Marshal(h)
			for _, s := range secrets {
				leak := strings.Contains(string(raw), s) || strings.Contains(string(hb), s)
				if want := slices.Contains(tt.leaks, s); leak != want {
					t.Errorf("%s shown: %v, want %v\nevent %s\nheader %s", s, leak, want, raw, hb)
				}
			}
			if h.Get("X-Request-Id") != "r-1" || h.Get("Authorization") != "[redacted]" {
				t.Errorf("header %v", h)
			}
			if header.Get("X-Deploy-Key") != "deploy-s3cret" {
				t.Errorf("the stored header was changed: %v", header)
			}
			rebuilt, err := Event(ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := rebuilt.Headers["X-Deploy-Key"] == "[redacted]"; got != (tt.leaks == nil) {
				t.Errorf("event.headers X-Deploy-Key = %q", rebuilt.Headers["X-Deploy-Key"])
			}
		})
	}
}

package builtin

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// A delivery re-signed now verifies now, where its first signature is
// stale, and only for the body it was signed over.
func TestResign(t *testing.T) {
	tests := []struct {
		provider string
		secrets  []providers.Secret
		header   http.Header
	}{
		{"stripe", []providers.Secret{"whsec_old", "whsec_new"}, http.Header{}},
		{"slack", []providers.Secret{"8f742231b10e8888abcd99yyyzzz85a5"}, http.Header{}},
		{"standard", []providers.Secret{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, http.Header{"Webhook-Id": {"msg_1"}}},
		{"standard", []providers.Secret{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, http.Header{"Svix-Id": {"msg_2"}}},
	}
	body := []byte(`{"type":"payment_intent.succeeded"}`)
	now := time.Now()
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			p, err := Providers()[tt.provider](providers.Options{Secrets: tt.secrets})
			if err != nil {
				t.Fatal(err)
			}
			r, ok := p.(providers.Resigner)
			if !ok {
				t.Fatalf("%s is no Resigner", tt.provider)
			}
			h := tt.header.Clone()
			r.Resign(h, body, now.Add(-time.Hour)) // signed an hour ago
			if err := p.Verify(&providers.Request{Header: h, Body: body, Now: now.Add(-time.Hour)}); err != nil {
				t.Fatalf("verifying at its own time: %v", err)
			}
			if err := p.Verify(&providers.Request{Header: h, Body: body, Now: now}); !errors.Is(err, providers.ErrStale) {
				t.Fatalf("verifying an hour later: %v, want stale", err)
			}
			r.Resign(h, body, now)
			if at, ok := r.SignedAt(h); !ok || at.Unix() != now.Unix() {
				t.Fatalf("SignedAt after re-signing = %v, %v; want %v", at, ok, now.Truncate(time.Second))
			}
			if err := p.Verify(&providers.Request{Header: h, Body: body, Now: now}); err != nil {
				t.Fatalf("re-signed, verifying now: %v", err)
			}
			if err := p.Verify(&providers.Request{Header: h, Body: []byte(`{}`), Now: now}); !errors.Is(err, providers.ErrBadSignature) {
				t.Fatalf("re-signed, another body: %v, want a bad signature", err)
			}
			if tt.header.Get("Svix-Id") != "" && (h.Get("Svix-Signature") == "" || h.Get("Webhook-Signature") != "") {
				t.Fatalf("an svix-* delivery re-signed as %v, want its svix-* headers", h)
			}
		})
	}
}

package delivery

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/github"
	"github.com/hookrelay/hookrelay/providers/stripe"
	"github.com/hookrelay/hookrelay/store"
)

func TestResign(t *testing.T) {
	p, err := stripe.New(providers.Options{Secrets: []providers.Secret{"whsec_x"}})
	if err != nil {
		t.Fatal(err)
	}
	long, err := stripe.New(providers.Options{Secrets: []providers.Secret{"whsec_x"}, Tolerance: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	short, err := stripe.New(providers.Options{Secrets: []providers.Secret{"whsec_x"}, Tolerance: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := github.New(providers.Options{Secrets: []providers.Secret{"s"}})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"evt_1"}`)
	now := time.Now()
	signedAt := func(at time.Time) http.Header {
		h := http.Header{}
		p.(providers.Resigner).Resign(h, body, at)
		return h
	}
	tests := []struct {
		name     string
		provider providers.Provider
		header   http.Header
		body     []byte
		received time.Time
		want     bool
	}{
		{"fresh: as it came", p, signedAt(now.Add(-time.Second)), body, now.Add(-time.Second), false},
		{"about to go stale", p, signedAt(now.Add(-290 * time.Second)), body, now.Add(-290 * time.Second), true},
		{"kept an hour", p, signedAt(now.Add(-time.Hour)), body, now.Add(-time.Hour), true},
		{"edited body: never signed anew", p, signedAt(now.Add(-time.Hour)), []byte(`{"id":"evt_2"}`), now.Add(-time.Minute), false},
		{"no signature", p, http.Header{}, body, now.Add(-time.Hour), false},
		{"a source allowing an hour: by the vendor's five minutes", long, signedAt(now.Add(-10 * time.Minute)), body, now.Add(-10 * time.Minute), true},
		{"a source allowing 3 s: fresh all the same", short, signedAt(now.Add(-time.Minute)), body, now.Add(-time.Second), false},
		{"a provider without timestamps", gh, http.Header{}, body, now.Add(-time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header.Clone()
			ev := &store.Event{Body: tt.body, ReceivedAt: tt.received}
			if got := Resign(tt.provider, ev, h, now); got != tt.want {
				t.Fatalf("Resign = %v, want %v", got, tt.want)
			}
			if !tt.want && h.Get("Stripe-Signature") != tt.header.Get("Stripe-Signature") {
				t.Fatalf("header changed without re-signing: %q", h.Get("Stripe-Signature"))
			}
			if tt.want {
				if err := p.Verify(&providers.Request{Header: h, Body: tt.body, Now: now}); err != nil {
					t.Fatalf("re-signed delivery does not verify now: %v", err)
				}
			}
		})
	}
}

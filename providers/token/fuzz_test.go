package token

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
)

// isSentinel reports whether err wraps one of the provider sentinels, which
// is all the HTTP layer maps to a status.
func isSentinel(err error) bool {
	for _, s := range []error{providers.ErrMissingSignature, providers.ErrBadSignature, providers.ErrStale, providers.ErrMalformed} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzVerify(f *testing.F) {
	for _, d := range deliveries() {
		r := load(f, d.name)
		f.Add(r.Header.Get(d.authHeader()), r.Body)
	}
	f.Add("bearer\t"+string(testSecret), []byte{})
	p := newProvider(f, providers.Options{Secrets: []providers.Secret{wrongSecret, testSecret}})
	f.Fuzz(func(t *testing.T, value string, body []byte) {
		h := http.Header{}
		h.Set("Authorization", value)
		err := p.Verify(&providers.Request{Header: h, Body: body})
		if err != nil && !isSentinel(err) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if err == nil && !strings.Contains(value, string(testSecret)) && !strings.Contains(value, string(wrongSecret)) {
			t.Fatalf("accepted %q, which holds no token", value)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, d := range deliveries() {
		r := load(f, d.name)
		f.Add(r.Header.Get("Content-Type"), r.Body)
	}
	p := newProvider(f, providers.Options{Secrets: []providers.Secret{testSecret}})
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", contentType)
		h.Set("Authorization", "Bearer "+string(testSecret))
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if err != nil || e == nil || e.Provider != Name {
			t.Fatalf("Normalize = %+v, %v; it never fails", e, err)
		}
		if e.Headers["Authorization"] != "[redacted]" {
			t.Fatalf("token not redacted: %q", e.Headers["Authorization"])
		}
	})
}

package hmac

import (
	"errors"
	"net/http"
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

// FuzzVerify runs every testdata sender's configuration over fuzzed
// signature headers and bodies.
func FuzzVerify(f *testing.F) {
	ds := deliveries()
	for i, d := range ds {
		r := load(f, d.name)
		f.Add(uint8(i), r.Header.Get(d.opts.Header), r.Body)
	}
	ps := make([]providers.Provider, len(ds))
	for i, d := range ds {
		ps[i] = newProvider(f, d.options(testSecret))
	}
	f.Fuzz(func(t *testing.T, which uint8, sig string, body []byte) {
		i := int(which) % len(ds)
		h := http.Header{}
		h.Set(ds[i].opts.Header, sig)
		err := ps[i].Verify(&providers.Request{Header: h, Body: body})
		if err != nil && !isSentinel(err) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, d := range deliveries() {
		r := load(f, d.name)
		f.Add(r.Header.Get("Content-Type"), r.Body)
	}
	p := newProvider(f, providers.Options{Secrets: []providers.Secret{testSecret}, Header: "X-Signature"})
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", contentType)
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if err != nil || e == nil || e.Provider != Name {
			t.Fatalf("Normalize = %+v, %v; it never fails", e, err)
		}
	})
}

package stripe

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// FuzzVerify feeds arbitrary Stripe-Signature values and bodies to Verify:
// it must not panic, must fail only with one of the sentinel errors, and must
// never put the secret in an error.
func FuzzVerify(f *testing.F) {
	for _, s := range loadTestdata(f) {
		f.Add(s.req.Header.Get(SignatureHeader), s.req.Body, s.t)
	}
	f.Add("t=1,v1=,v1=zz,v0=", []byte("{}"), int64(1))
	f.Add("v1=00,t=-9223372036854775808", []byte(nil), int64(0))
	p, err := New(secrets(testSecret, oldSecret))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string, body []byte, now int64) {
		r := &providers.Request{Header: http.Header{SignatureHeader: {header}}, Body: body, Now: time.Unix(now, 0)}
		err := p.Verify(r)
		if err == nil {
			return
		}
		if !errors.Is(err, providers.ErrMissingSignature) && !errors.Is(err, providers.ErrBadSignature) &&
			!errors.Is(err, providers.ErrStale) && !errors.Is(err, providers.ErrMalformed) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), oldSecret) {
			t.Fatalf("error reveals a secret: %v", err)
		}
	})
}

// FuzzNormalize feeds arbitrary bodies to Normalize: it must not panic, and
// fails only with ErrMalformed.
func FuzzNormalize(f *testing.F) {
	for _, s := range loadTestdata(f) {
		f.Add(s.req.Body)
	}
	f.Add([]byte(`{"type":1e400}`))
	f.Add([]byte(`{"id":null,"type":"x"}`))
	p, err := New(secrets(testSecret))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := p.Normalize(&providers.Request{Header: http.Header{}, Body: body})
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error is not ErrMalformed: %v", err)
			}
			return
		}
		if e.Provider != Name || e.Type == "" || e.DeliveryID != e.DedupKey {
			t.Fatalf("bad event: %+v", e)
		}
	})
}

package stripe

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// FuzzVerify feeds arbitrary Stripe-Signature values and bodies to Verify:
// it must not panic, must fail only with one of the sentinel errors, and must
// never put the secret in an error.
func FuzzVerify(f *testing.F) {
	for _, r := range providertest.Testdata(f, signedAt) {
		f.Add(r.Header.Get(SignatureHeader), r.Body, r.Now.Unix())
	}
	f.Add("t=1,v1=,v1=zz,v0=", []byte("{}"), int64(1))
	f.Add("v1=00,t=-9223372036854775808", []byte(nil), int64(0))
	p, err := New(secrets(testSecret, oldSecret))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string, body []byte, now int64) {
		r := &providers.Request{Header: http.Header{SignatureHeader: {header}}, Body: body, Now: time.Unix(now, 0)}
		providertest.VerifyError(t, p.Verify(r), testSecret, oldSecret)
	})
}

// FuzzNormalize feeds arbitrary bodies to Normalize: it must not panic, and
// fails only with ErrMalformed.
func FuzzNormalize(f *testing.F) {
	for _, r := range providertest.Testdata(f, signedAt) {
		f.Add(r.Body)
	}
	f.Add([]byte(`{"type":1e400}`))
	f.Add([]byte(`{"id":null,"type":"x"}`))
	p, err := New(secrets(testSecret))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := p.Normalize(&providers.Request{Header: http.Header{}, Body: body})
		if providertest.NormalizeError(t, err) {
			return
		}
		if e.Provider != Name || e.Type == "" || e.DeliveryID != e.DedupKey {
			t.Fatalf("bad event: %+v", e)
		}
	})
}

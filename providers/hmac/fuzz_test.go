package hmac

import (
	"net/http"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// FuzzVerify runs every testdata sender's configuration over fuzzed
// signature headers and bodies.
func FuzzVerify(f *testing.F) {
	ds := deliveries()
	for i, d := range ds {
		r := providertest.Load(f, d.name+".http", nil)
		f.Add(uint8(i), r.Header.Get(d.opts.Header), r.Body)
	}
	ps := make([]providers.Provider, len(ds))
	for i, d := range ds {
		ps[i] = providertest.MustNew(f, New, d.options(testSecret))
	}
	f.Fuzz(func(t *testing.T, which uint8, sig string, body []byte) {
		i := int(which) % len(ds)
		h := http.Header{}
		h.Set(ds[i].opts.Header, sig)
		err := ps[i].Verify(&providers.Request{Header: h, Body: body})
		providertest.VerifyError(t, err)
	})
}

func FuzzNormalize(f *testing.F) {
	for _, d := range deliveries() {
		r := providertest.Load(f, d.name+".http", nil)
		f.Add(r.Header.Get("Content-Type"), r.Body)
	}
	p := providertest.MustNew(f, New, providers.Options{Secrets: []providers.Secret{testSecret}, Header: "X-Signature"})
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", contentType)
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if err != nil || e == nil || e.Provider != Name {
			t.Fatalf("Normalize = %+v, %v; it never fails", e, err)
		}
	})
}

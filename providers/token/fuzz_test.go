package token

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

func FuzzVerify(f *testing.F) {
	for _, d := range deliveries() {
		r := providertest.Load(f, d.name+".http", nil)
		f.Add(r.Header.Get(d.authHeader()), r.Body)
	}
	f.Add("bearer\t"+string(testSecret), []byte{})
	p := providertest.MustNew(f, New, providers.Options{Secrets: []providers.Secret{wrongSecret, testSecret}})
	f.Fuzz(func(t *testing.T, value string, body []byte) {
		h := http.Header{}
		h.Set("Authorization", value)
		err := p.Verify(&providers.Request{Header: h, Body: body})
		providertest.VerifyError(t, err)
		if err == nil && !strings.Contains(value, string(testSecret)) && !strings.Contains(value, string(wrongSecret)) {
			t.Fatalf("accepted %q, which holds no token", value)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, d := range deliveries() {
		r := providertest.Load(f, d.name+".http", nil)
		f.Add(r.Header.Get("Content-Type"), r.Body)
	}
	p := providertest.MustNew(f, New, providers.Options{Secrets: []providers.Secret{testSecret}})
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

package github

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// FuzzVerify feeds arbitrary bodies and signature headers to Verify. It
// must never panic, and must accept only a body whose HMAC under the
// secret is the header's.
func FuzzVerify(f *testing.F) {
	for _, r := range providertest.Testdata(f, nil) {
		f.Add(r.Body, r.Header.Get(SHA256SignatureHeader), r.Header.Get(SHA1SignatureHeader))
	}
	f.Add([]byte("Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "")
	f.Add([]byte{}, "", "sha1=")
	p := providertest.MustNew(f, New, providers.Options{Secrets: secrets(wrongSecret, testSecret), AllowSHA1: true})
	f.Fuzz(func(t *testing.T, body []byte, sig256, sig1 string) {
		h := http.Header{}
		if sig256 != "" {
			h.Set(SHA256SignatureHeader, sig256)
		}
		if sig1 != "" {
			h.Set(SHA1SignatureHeader, sig1)
		}
		err := p.Verify(&providers.Request{Header: h, Body: body})
		providertest.VerifyError(t, err)
		if err == nil && h.Get(SHA256SignatureHeader) != "" {
			want := "sha256=" + hex.EncodeToString(providers.MAC(sha256.New, []byte(testSecret), body))
			if !strings.EqualFold(h.Get(SHA256SignatureHeader), want) {
				t.Fatalf("accepted %q for a body whose signature is %s", sig256, want)
			}
		}
	})
}

// FuzzNormalize feeds arbitrary bodies, content types and event names to
// Normalize. It must never panic, and a success is always a github Event.
func FuzzNormalize(f *testing.F) {
	for _, r := range providertest.Testdata(f, nil) {
		f.Add(r.Body, r.Header.Get("Content-Type"), r.Header.Get(EventTypeHeader))
	}
	f.Add([]byte(`{"ref":1,"pull_request":{"head":{"ref":["x"]}}}`), "application/json", "push")
	f.Add([]byte(`payload=%7B%22ref%22%3Anull%7D`), "application/x-www-form-urlencoded; charset=utf-8", "push")
	p := providertest.MustNew(f, New, providers.Options{Secrets: secrets(testSecret)})
	f.Fuzz(func(t *testing.T, body []byte, contentType, event string) {
		h := http.Header{"Content-Type": {contentType}, "X-Github-Event": {event}, "X-Github-Delivery": {"d"}}
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if err == nil && (e == nil || e.Provider != Name || e.Payload == nil) {
			t.Fatalf("Normalize returned %+v without an error", e)
		}
	})
}

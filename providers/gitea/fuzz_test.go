package gitea

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// FuzzVerify feeds arbitrary bodies, content types and signature headers to
// Verify. It must never panic, and must accept only a body (or, for a form
// body, a payload field) whose HMAC under the secret is the header's.
func FuzzVerify(f *testing.F) {
	for _, r := range providertest.Testdata(f, nil) {
		f.Add(r.Body, r.Header.Get("Content-Type"), r.Header.Get(SignatureHeader), r.Header.Get(HubSignatureHeader))
	}
	f.Add([]byte("Hello, World!"), "", "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "")
	f.Add([]byte("payload=x&payload=y"), "application/x-www-form-urlencoded", "", "sha256=")
	p := providertest.MustNew(f, New, providers.Options{Secrets: secrets(wrongSecret, testSecret)})
	f.Fuzz(func(t *testing.T, body []byte, contentType, sig, hub string) {
		h := http.Header{"Content-Type": {contentType}}
		if sig != "" {
			h.Set(SignatureHeader, sig)
		}
		if hub != "" {
			h.Set(HubSignatureHeader, hub)
		}
		if err := p.Verify(&providers.Request{Header: h, Body: body}); err != nil {
			providertest.VerifyError(t, err)
			return
		}
		signed := [][]byte{body}
		if payload, err := providers.FormPayload(body); err == nil && providers.IsForm(contentType) {
			signed = append(signed, payload)
		}
		for _, b := range signed {
			want := hmacHex(testSecret, b)
			if strings.EqualFold(h.Get(SignatureHeader), want) || (h.Get(SignatureHeader) == "" && strings.EqualFold(h.Get(HubSignatureHeader), "sha256="+want)) {
				return
			}
		}
		t.Fatalf("accepted signature %q / %q for body %q", sig, hub, body)
	})
}

// FuzzNormalize feeds arbitrary bodies, content types and event headers to
// Normalize. It must never panic, and a success is always a gitea Event.
func FuzzNormalize(f *testing.F) {
	for _, r := range providertest.Testdata(f, nil) {
		f.Add(r.Body, r.Header.Get("Content-Type"), r.Header.Get(EventTypeHeader))
	}
	f.Add([]byte(`{"ref":{},"sender":{"login":7},"pull_request":{"head":{"ref":"refs/"}}}`), "application/json", "push")
	p := providertest.MustNew(f, New, providers.Options{Secrets: secrets(testSecret)})
	f.Fuzz(func(t *testing.T, body []byte, contentType, eventType string) {
		h := http.Header{"Content-Type": {contentType}, "X-Gitea-Event-Type": {eventType}}
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if err == nil && (e == nil || e.Provider != Name || e.Payload == nil) {
			t.Fatalf("Normalize returned %+v without an error", e)
		}
	})
}

package gitea

import (
	"net/http"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
)

// FuzzVerify feeds arbitrary bodies, content types and signature headers to
// Verify. It must never panic, and must accept only a body (or, for a form
// body, a payload field) whose HMAC under the secret is the header's.
func FuzzVerify(f *testing.F) {
	for _, file := range testdataFiles(f) {
		r := load(f, file)
		f.Add(r.Body, r.Header.Get("Content-Type"), r.Header.Get(SignatureHeader), r.Header.Get(HubSignatureHeader))
	}
	f.Add([]byte("Hello, World!"), "", "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "")
	f.Add([]byte("payload=x&payload=y"), "application/x-www-form-urlencoded", "", "sha256=")
	p := mustNew(f, providers.Options{Secrets: secrets(wrongSecret, testSecret)})
	f.Fuzz(func(t *testing.T, body []byte, contentType, sig, hub string) {
		h := http.Header{"Content-Type": {contentType}}
		if sig != "" {
			h.Set(SignatureHeader, sig)
		}
		if hub != "" {
			h.Set(HubSignatureHeader, hub)
		}
		if p.Verify(&providers.Request{Header: h, Body: body}) != nil {
			return
		}
		signed := [][]byte{body}
		if payload, err := formPayload(body); err == nil && providers.IsForm(contentType) {
			signed = append(signed, payload)
		}
		for _, b := range signed {
			want := hmacHex(testSecret, b)
			if eqFold(h.Get(SignatureHeader), want) || (h.Get(SignatureHeader) == "" && eqFold(h.Get(HubSignatureHeader), "sha256="+want)) {
				return
			}
		}
		t.Fatalf("accepted signature %q / %q for body %q", sig, hub, body)
	})
}

// eqFold compares hex strings ignoring ASCII case.
func eqFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if a[i]|0x20 != b[i]|0x20 {
			return false
		}
	}
	return true
}

// FuzzNormalize feeds arbitrary bodies, content types and event headers to
// Normalize. It must never panic, and a success is always a gitea Event.
func FuzzNormalize(f *testing.F) {
	for _, file := range testdataFiles(f) {
		r := load(f, file)
		f.Add(r.Body, r.Header.Get("Content-Type"), r.Header.Get(EventTypeHeader))
	}
	f.Add([]byte(`{"ref":{},"sender":{"login":7},"pull_request":{"head":{"ref":"refs/"}}}`), "application/json", "push")
	p := mustNew(f, providers.Options{Secrets: secrets(testSecret)})
	f.Fuzz(func(t *testing.T, body []byte, contentType, eventType string) {
		h := http.Header{"Content-Type": {contentType}, "X-Gitea-Event-Type": {eventType}}
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if err == nil && (e == nil || e.Provider != Name || e.Payload == nil) {
			t.Fatalf("Normalize returned %+v without an error", e)
		}
	})
}

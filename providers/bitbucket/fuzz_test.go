package bitbucket

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// FuzzVerify feeds arbitrary bodies and X-Hub-Signature values to Verify.
// It must never panic, and must accept only a body whose HMAC under the
// secret is the header's.
func FuzzVerify(f *testing.F) {
	for _, r := range providertest.Testdata(f, nil) {
		f.Add(r.Body, r.Header.Get(SignatureHeader))
	}
	f.Add([]byte("Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	f.Add([]byte(`{"test":true}`), "sha256=")
	p := providertest.MustNew(f, New, providers.Options{Secrets: secrets(wrongSecret, testSecret)})
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		h := http.Header{}
		h.Set(SignatureHeader, sig)
		if err := p.Verify(&providers.Request{Header: h, Body: body}); err != nil {
			providertest.VerifyError(t, err)
			return
		}
		if want := sign(testSecret, body); !strings.EqualFold(h.Get(SignatureHeader), want) {
			t.Fatalf("accepted %q for a body signed %s", sig, want)
		}
	})
}

// FuzzNormalize feeds arbitrary bodies and event keys to Normalize, with
// Cloud or Data Center id headers. It must never panic, and a success is
// always a bitbucket Event.
func FuzzNormalize(f *testing.F) {
	for _, r := range providertest.Testdata(f, nil) {
		f.Add(r.Body, r.Header.Get(EventKeyHeader), r.Header.Get(RequestIDHeader) != "")
	}
	f.Add([]byte(`{"eventKey":1,"push":{"changes":[null,{"new":[]}]},"changes":[{"ref":"x"}],"pullRequest":{"fromRef":[]}}`), ":", false)
	f.Add([]byte(`{"repository":{"slug":{},"project":{"key":[]}},"pullrequest":{"source":{"branch":null}}}`), "pr:", true)
	p := providertest.MustNew(f, New, providers.Options{Secrets: secrets(testSecret)})
	f.Fuzz(func(t *testing.T, body []byte, key string, dc bool) {
		h := http.Header{"X-Event-Key": {key}, "X-Request-Uuid": {"c1"}}
		if dc {
			h = http.Header{"X-Event-Key": {key}, "X-Request-Id": {"d1"}}
		}
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if err == nil && (e == nil || e.Provider != Name || e.Payload == nil) {
			t.Fatalf("Normalize returned %+v without an error", e)
		}
	})
}

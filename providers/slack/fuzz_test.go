package slack

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// FuzzVerify feeds arbitrary signature and timestamp headers and bodies to
// Verify: it must not panic, must fail only with one of the sentinel errors,
// and must never put the secret in an error.
func FuzzVerify(f *testing.F) {
	for _, r := range providertest.Testdata(f, signedAt) {
		f.Add(r.Header.Get(SignatureHeader), r.Header.Get(TimestampHeader), r.Body, r.Now.Unix())
	}
	f.Add("v0=", "", []byte(nil), int64(0))
	f.Add("v0=zz", "-9223372036854775808", []byte("{}"), int64(-1))
	p, err := New(secrets(testSecret))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte, now int64) {
		r := &providers.Request{Header: http.Header{SignatureHeader: {sig}, TimestampHeader: {ts}}, Body: body, Now: time.Unix(now, 0)}
		providertest.VerifyError(t, p.Verify(r), testSecret)
	})
}

// FuzzNormalize feeds arbitrary bodies, as JSON and as forms, to Normalize:
// it must not panic, fails only with ErrMalformed, and an event always has a
// type, a dedup key equal to its delivery id, and a Reply only when it is a
// URL verification.
func FuzzNormalize(f *testing.F) {
	for _, r := range providertest.Testdata(f, signedAt) {
		f.Add(r.Header.Get("Content-Type"), r.Body)
	}
	f.Add(formType, []byte("payload=%7B%22type%22%3A1%7D"))
	f.Add(jsonType, []byte(`{"type":"url_verification","challenge":1e400}`))
	p, err := New(secrets(testSecret))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		e, err := p.Normalize(&providers.Request{Header: http.Header{"Content-Type": {contentType}}, Body: body})
		if providertest.NormalizeError(t, err) {
			return
		}
		if e.Provider != Name || e.Type == "" || e.DeliveryID != e.DedupKey {
			t.Fatalf("bad event: %+v", e)
		}
		if e.Reply != nil && e.Type != TypeURLVerification {
			t.Fatalf("reply %+v for type %q", e.Reply, e.Type)
		}
	})
}

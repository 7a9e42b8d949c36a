package gitlab

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
	"github.com/hookrelay/hookrelay/providers/standard"
)

func FuzzVerify(f *testing.F) {
	for _, d := range deliveries() {
		r := load(f, d.name)
		f.Add(r.Header.Get(HeaderToken), r.Header.Get(standard.HeaderID), r.Header.Get(standard.HeaderTimestamp), r.Header.Get(standard.HeaderSignature), r.Body)
	}
	p := newProvider(f, testToken, testSigningToken)
	f.Fuzz(func(t *testing.T, token, id, ts, sig string, body []byte) {
		h := http.Header{}
		for k, v := range map[string]string{HeaderToken: token, standard.HeaderID: id, standard.HeaderTimestamp: ts, standard.HeaderSignature: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		now := time.Unix(1776783760, 0)
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil {
			now = time.Unix(sec, 0)
		}
		err := p.Verify(&providers.Request{Header: h, Body: body, Now: now})
		providertest.VerifyError(t, err)
		if err == nil && token != string(testToken) && sig == "" {
			t.Fatalf("accepted without the token or a signature")
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, d := range deliveries() {
		f.Add(load(f, d.name).Body)
	}
	f.Add([]byte(`{"object_kind":"pipeline","object_attributes":{"ref":"refs/x","tag":"yes"},"merge_request":[]}`))
	p := newProvider(f, testToken)
	f.Fuzz(func(t *testing.T, body []byte) {
		h := http.Header{}
		h.Set(HeaderEventUUID, "uuid")
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if providertest.NormalizeError(t, err) {
			return
		}
		if e.Provider != Name || e.DeliveryID != "uuid" || e.DedupKey != "uuid" {
			t.Fatalf("event %+v", e)
		}
	})
}

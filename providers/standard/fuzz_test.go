package standard

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// isSentinel reports whether err wraps one of the provider sentinels, which
// is all the HTTP layer maps to a status.
func isSentinel(err error) bool {
	for _, s := range []error{providers.ErrMissingSignature, providers.ErrBadSignature, providers.ErrStale, providers.ErrMalformed} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzVerify(f *testing.F) {
	for _, d := range deliveries() {
		r := load(f, d.name)
		hid, hts, hsig := names(d.svix)
		f.Add(d.svix, r.Header.Get(hid), r.Header.Get(hts), r.Header.Get(hsig), r.Body)
	}
	f.Add(false, "", "", "v1a,x v1, v1,,", []byte("{}"))
	p := newProvider(f, providers.Options{Secrets: []providers.Secret{oldSecret, testSecret}})
	f.Fuzz(func(t *testing.T, svix bool, id, ts, sig string, body []byte) {
		hid, hts, hsig := names(svix)
		h := http.Header{}
		h.Set(hid, id)
		h.Set(hts, ts)
		h.Set(hsig, sig)
		now := time.Unix(1700000000, 0)
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil {
			now = time.Unix(sec, 0)
		}
		err := p.Verify(&providers.Request{Header: h, Body: body, Now: now})
		if err != nil && !isSentinel(err) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, d := range deliveries() {
		f.Add(load(f, d.name).Body)
	}
	f.Add([]byte(`{"type":7}`))
	p := newProvider(f, providers.Options{Secrets: []providers.Secret{testSecret}})
	f.Fuzz(func(t *testing.T, body []byte) {
		h := http.Header{}
		h.Set(HeaderID, "msg_fuzz")
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error is not ErrMalformed: %v", err)
			}
			return
		}
		if e.Provider != Name || e.DeliveryID != "msg_fuzz" {
			t.Fatalf("event %+v", e)
		}
	})
}

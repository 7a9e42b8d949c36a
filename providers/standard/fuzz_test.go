package standard

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

func FuzzVerify(f *testing.F) {
	for _, d := range deliveries() {
		r := load(f, d.name)
		hid, hts, hsig := names(d.svix)
		f.Add(d.svix, r.Header.Get(hid), r.Header.Get(hts), r.Header.Get(hsig), r.Body)
	}
	f.Add(false, "", "", "v1a,x v1, v1,,", []byte("{}"))
	p := providertest.MustNew(f, New, providers.Options{Secrets: []providers.Secret{oldSecret, testSecret}})
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
		providertest.VerifyError(t, err)
	})
}

func FuzzNormalize(f *testing.F) {
	for _, d := range deliveries() {
		f.Add(load(f, d.name).Body)
	}
	f.Add([]byte(`{"type":7}`))
	p := providertest.MustNew(f, New, providers.Options{Secrets: []providers.Secret{testSecret}})
	f.Fuzz(func(t *testing.T, body []byte) {
		h := http.Header{}
		h.Set(HeaderID, "msg_fuzz")
		e, err := p.Normalize(&providers.Request{Header: h, Body: body})
		if providertest.NormalizeError(t, err) {
			return
		}
		if e.Provider != Name || e.DeliveryID != "msg_fuzz" {
			t.Fatalf("event %+v", e)
		}
	})
}

package stripe

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

var _ providers.Resigner = (*Provider)(nil)

// Resign implements providers.Resigner: Stripe-Signature becomes
// t=now with a v1 entry per secret, as Stripe signs during a rotation.
func (p *Provider) Resign(h http.Header, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range p.secrets {
		b.WriteString(",v1=" + hex.EncodeToString(providers.MAC(sha256.New, s.Reveal(), []byte(ts), []byte{'.'}, body)))
	}
	h.Set(SignatureHeader, b.String())
}

// SignedAt implements providers.Resigner: Stripe-Signature's t.
func (p *Provider) SignedAt(h http.Header) (time.Time, bool) {
	sh, err := parseSignatureHeader(h.Get(SignatureHeader))
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sh.t, 0), true
}

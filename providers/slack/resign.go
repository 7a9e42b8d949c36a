package slack

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

var _ providers.Resigner = (*Provider)(nil)

// Resign implements providers.Resigner: X-Slack-Request-Timestamp becomes
// now, and X-Slack-Signature its v0 signature under the source's first
// secret (Slack sends one signature).
func (p *Provider) Resign(h http.Header, body []byte, now time.Time) {
	if len(p.secrets) == 0 {
		return
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := providers.MAC(sha256.New, p.secrets[0].Reveal(), []byte(signatureVersion+":"+ts+":"), body)
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, signatureVersion+"="+hex.EncodeToString(mac))
}

// SignedAt implements providers.Resigner: X-Slack-Request-Timestamp.
func (p *Provider) SignedAt(h http.Header) (time.Time, bool) {
	return providers.SignedAtHeader(h, TimestampHeader)
}

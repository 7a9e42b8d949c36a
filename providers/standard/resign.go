package standard

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

var _ providers.Resigner = (*Provider)(nil)

// Resign implements providers.Resigner: the timestamp header becomes now
// and the signature header a v1 entry per key, under the header names
// the delivery came with (webhook-* or svix-*); the message id is kept.
func (p *Provider) Resign(h http.Header, body []byte, now time.Time) {
	names := headerNames(h)
	id, ts := h.Get(names[0]), strconv.FormatInt(now.Unix(), 10)
	sigs := make([]string, len(p.keys))
	for i, k := range p.keys {
		sigs[i] = Sign(k, id, ts, body)
	}
	h.Set(names[1], ts)
	h.Set(names[2], strings.Join(sigs, " "))
}

// SignedAt implements providers.Resigner: the timestamp header, under
// the names the delivery came with.
func (p *Provider) SignedAt(h http.Header) (time.Time, bool) {
	return providers.SignedAtHeader(h, headerNames(h)[1])
}

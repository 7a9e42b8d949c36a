package bitbucket

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify implements providers.Provider. It checks X-Hub-Signature
// ("sha256=<hex>", HMAC-SHA256 of the exact body bytes) against every
// secret of the source, in constant time.
func (p *Provider) Verify(r *providers.Request) error {
	d := delivery(r.Header)
	v := r.Header.Get(SignatureHeader)
	if v == "" {
		return fmt.Errorf("%s: verifying %s: %w: no %s header (is a secret set on the Bitbucket webhook?)",
			Name, d, providers.ErrMissingSignature, SignatureHeader)
	}
	enc, ok := strings.CutPrefix(v, "sha256=")
	if !ok {
		return fmt.Errorf("%s: verifying %s: %w: %s does not start with \"sha256=\"", Name, d, providers.ErrBadSignature, SignatureHeader)
	}
	sig, err := hex.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("%s: verifying %s: %w: %s is not hex", Name, d, providers.ErrBadSignature, SignatureHeader)
	}
	if !providers.AnyMAC(sha256.New, p.secrets, sig, r.Body) {
		return fmt.Errorf("%s: verifying %s: %w: %s matches none of the source's secrets", Name, d, providers.ErrBadSignature, SignatureHeader)
	}
	return nil
}

// delivery names the delivery in an error by its Cloud X-Request-UUID or,
// failing that, its Data Center X-Request-Id (see providers.Delivery).
func delivery(h http.Header) string {
	id := h.Get(RequestUUIDHeader)
	if id == "" {
		id = h.Get(RequestIDHeader)
	}
	return providers.Delivery(id, RequestUUIDHeader+" or "+RequestIDHeader)
}

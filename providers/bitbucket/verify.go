package bitbucket

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify implements providers.Provider. It checks X-Hub-Signature
// ("sha256=<hex>", HMAC-SHA256 of the exact body bytes) against every
// secret of the source, in constant time.
func (p *Provider) Verify(r *providers.Request) error {
	id := r.Header.Get(RequestUUIDHeader)
	if id == "" {
		id = r.Header.Get(RequestIDHeader)
	}
	v := r.Header.Get(SignatureHeader)
	if v == "" {
		return fmt.Errorf("%s: verifying %s: %w: no %s header (is a secret set on the Bitbucket webhook?)",
			Name, delivery(id), providers.ErrMissingSignature, SignatureHeader)
	}
	enc, ok := strings.CutPrefix(v, "sha256=")
	if !ok {
		return fmt.Errorf("%s: verifying %s: %w: %s does not start with \"sha256=\"", Name, delivery(id), providers.ErrBadSignature, SignatureHeader)
	}
	sig, err := hex.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("%s: verifying %s: %w: %s is not hex", Name, delivery(id), providers.ErrBadSignature, SignatureHeader)
	}
	if !providers.AnyMAC(sha256.New, p.secrets, sig, r.Body) {
		return fmt.Errorf("%s: verifying %s: %w: %s matches none of the source's secrets", Name, delivery(id), providers.ErrBadSignature, SignatureHeader)
	}
	return nil
}

// delivery names a delivery in an error. The id comes from a request
// header, so it is quoted and cut short.
func delivery(id string) string {
	if id == "" {
		return "delivery (no " + RequestUUIDHeader + " or " + RequestIDHeader + ")"
	}
	if len(id) > 64 {
		id = id[:64] + "..."
	}
	return fmt.Sprintf("delivery %q", id)
}

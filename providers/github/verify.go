package github

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify implements providers.Provider. It checks X-Hub-Signature-256 over
// the exact body bytes (for a form body, the raw form bytes) against every
// secret of the source, in constant time. The legacy SHA-1 X-Hub-Signature
// is only looked at when X-Hub-Signature-256 is absent, and only counts
// when the source sets allow_sha1.
func (p *Provider) Verify(r *providers.Request) error {
	id := r.Header.Get(DeliveryIDHeader)
	if v := r.Header.Get(SHA256SignatureHeader); v != "" {
		return p.check(id, SHA256SignatureHeader, "sha256=", sha256.New, v, r.Body)
	}
	if v := r.Header.Get(SHA1SignatureHeader); v != "" {
		if !p.allowSHA1 {
			return fmt.Errorf("%s: verifying %s: %w: only the SHA-1 %s was sent and SHA-1 is not allowed for this source (allow_sha1)",
				Name, providers.Delivery(id, DeliveryIDHeader), providers.ErrMissingSignature, SHA1SignatureHeader)
		}
		return p.check(id, SHA1SignatureHeader, "sha1=", sha1.New, v, r.Body)
	}
	return fmt.Errorf("%s: verifying %s: %w: no %s header (is a secret set on the GitHub webhook?)",
		Name, providers.Delivery(id, DeliveryIDHeader), providers.ErrMissingSignature, SHA256SignatureHeader)
}

// check verifies one "<algo>=<hex>" header value against the body.
func (p *Provider) check(id, header, prefix string, h func() hash.Hash, value string, body []byte) error {
	enc, ok := strings.CutPrefix(value, prefix)
	if !ok {
		return fmt.Errorf("%s: verifying %s: %w: %s does not start with %q", Name, providers.Delivery(id, DeliveryIDHeader), providers.ErrBadSignature, header, prefix)
	}
	sig, err := hex.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("%s: verifying %s: %w: %s is not hex", Name, providers.Delivery(id, DeliveryIDHeader), providers.ErrBadSignature, header)
	}
	if !providers.AnyMAC(h, p.secrets, sig, body) {
		return fmt.Errorf("%s: verifying %s: %w: %s matches none of the source's secrets", Name, providers.Delivery(id, DeliveryIDHeader), providers.ErrBadSignature, header)
	}
	return nil
}

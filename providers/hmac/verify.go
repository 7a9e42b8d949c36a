package hmac

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify checks the configured header against the HMAC of the exact body
// under each secret. The prefix is matched case-insensitively, and hex
// signatures in either case.
func (p *Provider) Verify(r *providers.Request) error {
	v, err := providers.GenericHeader(Name, r.Header, p.header)
	if err != nil {
		return err
	}
	if p.prefix != "" {
		if len(v) < len(p.prefix) || !strings.EqualFold(v[:len(p.prefix)], p.prefix) {
			return fmt.Errorf("%s: %s does not start with %q: %w", providers.GenericErrorPrefix(Name, r.Header), p.header, p.prefix, providers.ErrBadSignature)
		}
		v = v[len(p.prefix):]
	}
	got, ok := p.decode(v)
	if !ok {
		return fmt.Errorf("%s: %s is not %s: %w", providers.GenericErrorPrefix(Name, r.Header), p.header, p.encoding, providers.ErrBadSignature)
	}
	if !providers.AnyMAC(p.hash, p.secrets, got, r.Body) {
		return fmt.Errorf("%s: %s is no HMAC-%s of the body under any secret: %w", providers.GenericErrorPrefix(Name, r.Header), p.header, strings.ToUpper(p.algorithm), providers.ErrBadSignature)
	}
	return nil
}

// decode returns the signature's bytes. Base64 is accepted in the standard
// and URL-safe alphabets, padded or not: senders differ, and the bytes
// compared are the same.
func (p *Provider) decode(v string) ([]byte, bool) {
	if p.encoding == "hex" {
		b, err := hex.DecodeString(v)
		return b, err == nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b, true
		}
	}
	return nil, false
}

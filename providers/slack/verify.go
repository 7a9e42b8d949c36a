package slack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify checks r's X-Slack-Signature over the exact body bytes, before
// anything parses the body: "v0=" + hex HMAC-SHA256 of
// "v0:" + X-Slack-Request-Timestamp + ":" + body, under any of the source's
// secrets.
//
// A missing signature or timestamp header, or a signature that is not a v0
// one, is ErrMissingSignature; a v0 signature that is not hex or does not
// match is ErrBadSignature. The signature is checked before the timestamp:
// a forgery is ErrBadSignature whatever its age, a genuine request signed
// outside the tolerance (stale or far-future) is ErrStale, and a signed
// timestamp that is not Unix seconds is ErrMalformed. r.Now is the receipt
// time; when zero, the current time is used.
func (p *Provider) Verify(r *providers.Request) error {
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return fmt.Errorf("%s: no %s header: %w", Name, SignatureHeader, providers.ErrMissingSignature)
	}
	ts := r.Header.Get(TimestampHeader)
	if ts == "" {
		return fmt.Errorf("%s: no %s header: %w", Name, TimestampHeader, providers.ErrMissingSignature)
	}
	h, ok := strings.CutPrefix(sig, signatureVersion+"=")
	if !ok {
		return fmt.Errorf("%s: %s is not a %s signature: %w", Name, SignatureHeader, signatureVersion, providers.ErrMissingSignature)
	}
	got, err := hex.DecodeString(h)
	if err != nil {
		return fmt.Errorf("%s: %s is not hex: %w", Name, SignatureHeader, providers.ErrBadSignature)
	}
	prefix := []byte(signatureVersion + ":" + ts + ":")
	if !providers.AnyMAC(sha256.New, p.secrets, got, prefix, r.Body) {
		return fmt.Errorf("%s: request signed at %s: %w", Name, providers.Truncate(ts, 20), providers.ErrBadSignature)
	}
	if err := providers.CheckTimestamp(ts, r.Now, p.tolerance); err != nil {
		return fmt.Errorf("%s: %s: %w", Name, TimestampHeader, err)
	}
	return nil
}

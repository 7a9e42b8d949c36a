package stripe

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify checks r's Stripe-Signature header over the exact body bytes, before
// anything parses the body.
//
// A missing header, or a header with no v1 entry, is ErrMissingSignature; a
// header without a t= entry, with two, or with one that is not Unix seconds
// is ErrMalformed (it is not a Stripe header, and which t was signed would be
// ambiguous). v0 and unknown schemes, and v1 entries that are not hex, are
// ignored as Stripe's libraries do. The delivery passes when any v1 entry
// equals the HMAC under any of the source's secrets, so both sides of a
// secret rotation verify.
//
// The signature is checked before the timestamp: a forged delivery is
// ErrBadSignature whatever its age, a genuine one signed outside the
// tolerance (either way: stale or far-future) is ErrStale. Both must pass.
// r.Now is the receipt time; when zero, the current time is used.
func (p *Provider) Verify(r *providers.Request) error {
	raw := r.Header.Get(SignatureHeader)
	if raw == "" {
		return fmt.Errorf("%s: no %s header: %w", Name, SignatureHeader, providers.ErrMissingSignature)
	}
	sh, err := parseSignatureHeader(raw)
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(sh.t, 10)

	// Each secret's MAC is computed once and compared with every v1 entry
	// (AnyMACOf), so an attacker's header with many entries costs
	// comparisons, not hashing of the body.
	if !providers.AnyMACOf(sha256.New, p.secrets, sh.v1, []byte(ts), []byte{'.'}, r.Body) {
		return fmt.Errorf("%s: delivery signed at t=%s: none of its %d v1 signatures matches: %w", Name, ts, sh.nv1, providers.ErrBadSignature)
	}

	if err := providers.CheckTimestamp(ts, r.Now, p.tolerance); err != nil {
		return fmt.Errorf("%s: delivery signed at t=%s: %w", Name, ts, err)
	}
	return nil
}

// signatureHeader is a parsed Stripe-Signature header.
type signatureHeader struct {
	t   int64
	v1  [][]byte // decoded v1 entries
	nv1 int      // v1 entries seen, decodable or not
}

// parseSignatureHeader splits "t=...,v1=...,v0=..." into the timestamp and the
// v1 signatures. Entries are separated by commas; blanks around them (as in
// Stripe's documentation examples) are allowed.
func parseSignatureHeader(raw string) (signatureHeader, error) {
	var sh signatureHeader
	haveT := false
	for item := range strings.SplitSeq(raw, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(item), "=")
		if !found {
			continue
		}
		switch k {
		case "t":
			if haveT {
				return sh, fmt.Errorf("%s: %s header has two t= entries: %w", Name, SignatureHeader, providers.ErrMalformed)
			}
			t, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return sh, fmt.Errorf("%s: %s header: t= is not Unix seconds: %w", Name, SignatureHeader, providers.ErrMalformed)
			}
			sh.t, haveT = t, true
		case "v1":
			sh.nv1++
			if sig, err := hex.DecodeString(v); err == nil {
				sh.v1 = append(sh.v1, sig)
			}
		}
	}
	if !haveT {
		return sh, fmt.Errorf("%s: %s header has no t= entry: %w", Name, SignatureHeader, providers.ErrMalformed)
	}
	if sh.nv1 == 0 {
		return sh, fmt.Errorf("%s: %s header has no v1 signature: %w", Name, SignatureHeader, providers.ErrMissingSignature)
	}
	return sh, nil
}

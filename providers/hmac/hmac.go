// Package hmac verifies deliveries from any sender that signs the body with
// an HMAC and a shared secret, when no dedicated provider exists: the
// header, hash, encoding and prefix are configured per source.
package hmac

import (
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Headers read for the delivery id of a generic sender, in this order.
// X-Request-Id comes after X-Delivery-Id because proxies and load
// balancers add one of their own.
const (
	// HeaderDeliveryID is a sender's id for one delivery.
	HeaderDeliveryID = "X-Delivery-Id"
	// HeaderRequestID is a request id, the sender's or a proxy's.
	HeaderRequestID = "X-Request-Id"
	// HeaderIdempotencyKey is equal across retries of one delivery; it
	// is the only header taken as the dedup key.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// Defaults for the options a source may leave out.
const (
	// DefaultAlgorithm is the hash when the algorithm option is empty.
	DefaultAlgorithm = "sha256"
	// DefaultEncoding is the signature's encoding when the option is empty.
	DefaultEncoding = "hex"
)

// Name is the provider name set in Event.Provider.
const Name = "hmac"

// Provider verifies a configured HMAC header; it is safe for concurrent use.
type Provider struct {
	secrets   []providers.Secret
	header    string // canonical
	algorithm string
	hash      func() hash.Hash
	encoding  string
	prefix    string
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider from o: header is required; algorithm is sha1,
// sha256 (default) or sha512; encoding is hex (default) or base64; prefix
// is optional.
func New(o providers.Options) (providers.Provider, error) {
	if err := providers.NeedSecrets(Name, o); err != nil {
		return nil, err
	}
	if o.AllowSHA1 {
		return nil, fmt.Errorf("%s: option allow_sha1 does not apply (set algorithm: sha1)", Name)
	}
	if o.Tolerance != 0 {
		return nil, fmt.Errorf("%s: option tolerance does not apply (the signature covers the body only, no timestamp)", Name)
	}
	if o.Header == "" {
		return nil, fmt.Errorf("%s: option header is required: the header carrying the signature, e.g. X-Signature-256", Name)
	}
	if !ValidHeaderName(o.Header) {
		return nil, fmt.Errorf("%s: option header %q is not a valid header name", Name, o.Header)
	}
	algorithm := strings.ToLower(o.Algorithm)
	if algorithm == "" {
		algorithm = DefaultAlgorithm
	}
	h, err := providers.HashFunc(algorithm)
	if err != nil {
		return nil, fmt.Errorf("%s: option algorithm: %w", Name, err)
	}
	encoding := strings.ToLower(o.Encoding)
	switch encoding {
	case "":
		encoding = DefaultEncoding
	case "hex", "base64":
	default:
		return nil, fmt.Errorf("%s: option encoding %q: want hex or base64", Name, o.Encoding)
	}
	return &Provider{
		secrets:   slices.Clone(o.Secrets),
		header:    http.CanonicalHeaderKey(o.Header),
		algorithm: algorithm,
		hash:      h,
		encoding:  encoding,
		prefix:    o.Prefix,
	}, nil
}

// ValidHeaderName reports whether name is an HTTP field name (RFC 9110
// token), so a typo in a configured header name fails at load time rather
// than as a missing signature on every delivery.
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

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
	if unused := providers.UnusedOptions(o, "header", "algorithm", "encoding", "prefix"); len(unused) > 0 {
		why := "the signature covers the body only, no timestamp" // tolerance
		if unused[0] == "allow_sha1" {
			why = "set algorithm: sha1"
		}
		return nil, fmt.Errorf("%s: option %s does not apply (%s)", Name, unused[0], why)
	}
	if o.Header == "" {
		return nil, fmt.Errorf("%s: option header is required: the header carrying the signature, e.g. X-Signature-256", Name)
	}
	if !providers.ValidHeaderName(o.Header) {
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

// Package providers defines what every webhook provider module implements:
// verify a delivery over the exact bytes received, then normalise it into
// one Event type that rules match against. Each vendor lives in its own
// sub-package; package builtin lists them.
package providers

import (
	"errors"
	"net/http"
	"time"
)

// Sentinel errors. The HTTP layer maps them to status codes with errors.Is:
// ErrMissingSignature, ErrBadSignature and ErrStale to 401, ErrMalformed to
// 400. Messages never contain a secret.
var (
	ErrMissingSignature = errors.New("missing signature")
	ErrBadSignature     = errors.New("signature mismatch")
	ErrStale            = errors.New("timestamp outside the tolerance")
	ErrMalformed        = errors.New("malformed delivery")
)

// Request is a received delivery as a provider sees it: plain headers and
// the exact body bytes, never an HTTP server type, so providers are tested
// and fuzzed without a server.
type Request struct {
	Header http.Header
	Body   []byte
	// Now is the receipt time, for timestamp tolerance checks; the zero
	// time means the current time.
	Now time.Time
}

// Provider verifies and normalises one vendor's deliveries. A Provider is
// built per source from its Options and is safe for concurrent use.
type Provider interface {
	// Verify checks the delivery's signature or token against the source's
	// secrets (any one may match, for rotation), in constant time.
	Verify(r *Request) error
	// Normalize decodes a verified delivery into an Event. It fills what
	// the vendor states and leaves the rest empty, never inventing values.
	// ID, Source and ReceivedAt are set by the caller.
	Normalize(r *Request) (*Event, error)
}

// Options configure a provider for one source. Each provider reads the
// fields it documents and rejects, with an error naming the option, any
// other field that is set: a misplaced option is a mistake to report, not
// to ignore.
type Options struct {
	// Secrets are the source's secrets; several during rotation.
	Secrets []Secret
	// AllowSHA1 accepts GitHub's legacy X-Hub-Signature (HMAC-SHA1).
	AllowSHA1 bool
	// Tolerance is the accepted age (and clock skew) of signed timestamps;
	// zero means DefaultTolerance.
	Tolerance time.Duration
	// Header names the header holding the signature (hmac) or token (token).
	Header string
	// Algorithm is sha1, sha256 or sha512 (hmac).
	Algorithm string
	// Encoding is hex or base64 (hmac).
	Encoding string
	// Prefix precedes the encoded signature, e.g. "sha256=" (hmac).
	Prefix string
}

// DefaultTolerance is the age a signed timestamp may have, as Stripe and
// Slack recommend.
const DefaultTolerance = 5 * time.Minute

// Factory builds a provider for a source.
type Factory func(Options) (Provider, error)

// MaxBody caps what any provider is handed; the server enforces it once.
const MaxBody = 25 << 20

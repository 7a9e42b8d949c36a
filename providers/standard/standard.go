// Package standard verifies and normalises Standard Webhooks deliveries
// (https://www.standardwebhooks.com): the scheme Svix sends, with its
// svix-* header aliases, and the one GitLab's signing token uses. The
// gitlab package reuses VerifyHeaders and DecodeKey rather than copying them.
package standard

import (
	"fmt"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// Header names of the Standard Webhooks specification. Header lookups are
// case-insensitive; these are the spellings the specification uses.
const (
	// HeaderID carries the message id, the same on every retry.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the signing time in Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries space-separated "v1,<base64>" signatures.
	HeaderSignature = "webhook-signature"
)

// Svix's names for the same three headers, sent by Svix-powered senders
// (Clerk, Resend and others). They are used when no webhook-* header is set.
const (
	// SvixHeaderID is Svix's name for HeaderID.
	SvixHeaderID = "svix-id"
	// SvixHeaderTimestamp is Svix's name for HeaderTimestamp.
	SvixHeaderTimestamp = "svix-timestamp"
	// SvixHeaderSignature is Svix's name for HeaderSignature.
	SvixHeaderSignature = "svix-signature"
)

// SecretPrefix starts a Standard Webhooks secret: "whsec_" + base64(key).
const SecretPrefix = "whsec_"

// Name is the provider name set in Event.Provider.
const Name = "standard"

// Provider verifies Standard Webhooks signatures. It holds the decoded keys
// only, and is safe for concurrent use.
type Provider struct {
	keys      [][]byte
	tolerance time.Duration // zero: providers.DefaultTolerance
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider from o. Every secret must be "whsec_" followed by
// base64, or the bare base64 key; a secret that does not decode is an
// error here rather than a failed signature on every delivery.
func New(o providers.Options) (providers.Provider, error) {
	if err := providers.CheckOptions(Name, o, "the scheme fixes HMAC-SHA256, base64 and its headers", "tolerance"); err != nil {
		return nil, err
	}
	keys := make([][]byte, len(o.Secrets))
	for i, s := range o.Secrets {
		k, err := DecodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("%s: secret %d: %w", Name, i+1, err)
		}
		keys[i] = k
	}
	return &Provider{keys: keys, tolerance: o.Tolerance}, nil
}

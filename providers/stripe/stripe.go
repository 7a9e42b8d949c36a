// Package stripe verifies and normalises Stripe webhook events. Stripe signs
// each delivery in the Stripe-Signature header with HMAC-SHA256 over
// "<t>.<body>", keyed with the endpoint's whole signing secret (whsec_...),
// and sends the event object as the JSON body.
package stripe

import (
	"slices"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// Name is the provider name sources configure and events carry.
const Name = "stripe"

// SignatureHeader carries "t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]": the
// signing time and one v1 signature per active secret of the endpoint.
const SignatureHeader = "Stripe-Signature"

// Provider verifies and normalises Stripe deliveries for one source. It is
// immutable after New and safe for concurrent use.
type Provider struct {
	secrets   []providers.Secret
	tolerance time.Duration // zero: providers.DefaultTolerance
}

var _ providers.Provider = (*Provider)(nil)

// New builds a Stripe provider. It needs at least one signing secret (several
// while an endpoint secret is being rolled) and reads Options.Tolerance (zero
// means providers.DefaultTolerance). The hmac-only options (allow_sha1,
// header, algorithm, encoding, prefix) are rejected rather than ignored,
// because Stripe's scheme is fixed and a source setting them is misconfigured.
func New(o providers.Options) (providers.Provider, error) {
	why := "Stripe always signs with hex HMAC-SHA256, as v1= entries of " + SignatureHeader
	if err := providers.CheckOptions(Name, o, why, "tolerance"); err != nil {
		return nil, err
	}
	return &Provider{secrets: slices.Clone(o.Secrets), tolerance: o.Tolerance}, nil
}

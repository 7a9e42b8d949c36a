// Package stripe verifies and normalises Stripe webhook events. Stripe signs
// each delivery in the Stripe-Signature header with HMAC-SHA256 over
// "<t>.<body>", keyed with the endpoint's whole signing secret (whsec_...),
// and sends the event object as the JSON body.
package stripe

import (
	"fmt"
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
	tolerance time.Duration
}

var _ providers.Provider = (*Provider)(nil)

// New builds a Stripe provider. It needs at least one signing secret (several
// while an endpoint secret is being rolled) and reads Options.Tolerance (zero
// means providers.DefaultTolerance). The hmac-only options (allow_sha1,
// header, algorithm, encoding, prefix) are rejected rather than ignored,
// because Stripe's scheme is fixed and a source setting them is misconfigured.
func New(o providers.Options) (providers.Provider, error) {
	if err := providers.NeedSecrets(Name, o); err != nil {
		return nil, err
	}
	switch {
	case o.AllowSHA1:
		return nil, fmt.Errorf("%s: option allow_sha1 does not apply: Stripe signs with HMAC-SHA256 only", Name)
	case o.Header != "":
		return nil, fmt.Errorf("%s: option header does not apply: Stripe always signs in %s", Name, SignatureHeader)
	case o.Algorithm != "":
		return nil, fmt.Errorf("%s: option algorithm does not apply: Stripe always uses HMAC-SHA256", Name)
	case o.Encoding != "":
		return nil, fmt.Errorf("%s: option encoding does not apply: Stripe signatures are always hex", Name)
	case o.Prefix != "":
		return nil, fmt.Errorf("%s: option prefix does not apply: Stripe signatures are v1= entries of %s", Name, SignatureHeader)
	case o.Tolerance < 0:
		return nil, fmt.Errorf("%s: option tolerance must not be negative, got %s", Name, o.Tolerance)
	}
	tol := o.Tolerance
	if tol == 0 {
		tol = providers.DefaultTolerance
	}
	return &Provider{
		secrets:   append([]providers.Secret(nil), o.Secrets...),
		tolerance: tol,
	}, nil
}

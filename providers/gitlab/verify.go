package gitlab

import (
	"fmt"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/standard"
)

// Verify accepts a delivery when either configured form proves it: its
// X-Gitlab-Token equals a secret token, or its Standard Webhooks signature
// matches a signing token within the tolerance. A form is tried only when
// it is both configured and present, so a source with only signing tokens
// never accepts the replayable plain token.
func (p *Provider) Verify(r *providers.Request) error {
	id := providers.Delivery(r.Header.Get(HeaderEventUUID), HeaderEventUUID)
	token := r.Header.Get(HeaderToken)
	tryToken := len(p.tokens) > 0 && token != ""
	trySig := len(p.keys) > 0 && standard.Present(r.Header)
	if !tryToken && !trySig {
		return fmt.Errorf("%s: %s: %s: %w", Name, id, p.missing(token != "", standard.Present(r.Header)), providers.ErrMissingSignature)
	}
	var tokenErr, sigErr error
	if tryToken {
		if providers.AnyToken(p.tokens, token) {
			return nil
		}
		tokenErr = fmt.Errorf("%s matches no secret token: %w", HeaderToken, providers.ErrBadSignature)
	}
	if trySig {
		sigErr = standard.VerifyHeaders(r.Header, r.Body, p.keys, r.Now, p.tolerance)
		if sigErr == nil {
			return nil
		}
	}
	switch {
	case tokenErr != nil && sigErr != nil:
		return fmt.Errorf("%s: %s: %w; %w", Name, id, tokenErr, sigErr)
	case tokenErr != nil:
		return fmt.Errorf("%s: %s: %w", Name, id, tokenErr)
	default:
		return fmt.Errorf("%s: %s: %w", Name, id, sigErr)
	}
}

// missing says what the delivery lacks, given what is configured, so an
// operator sees at once whether GitLab or hookrelay is set up differently.
func (p *Provider) missing(hasToken, hasSig bool) string {
	switch {
	case len(p.keys) == 0 && hasSig:
		return "no " + HeaderToken + " header (the delivery is signed, but no signing token whsec_… is configured)"
	case len(p.tokens) == 0 && hasToken:
		return "no " + standard.HeaderSignature + " header (" + HeaderToken + " is present, but only signing tokens are configured)"
	case len(p.tokens) == 0:
		return "no " + standard.HeaderSignature + " header"
	case len(p.keys) == 0:
		return "no " + HeaderToken + " header"
	}
	return "no " + HeaderToken + " or " + standard.HeaderSignature + " header"
}

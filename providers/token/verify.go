package token

import (
	"fmt"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/hmac"
)

// Verify compares the header with every secret in constant time (AnyToken).
// In Authorization both "Bearer <secret>" (the scheme in any case) and the
// bare secret are accepted; any other header must hold the bare secret.
func (p *Provider) Verify(r *providers.Request) error {
	v := r.Header.Get(p.header)
	if v == "" {
		return fmt.Errorf("%s: no %s header: %w", hmac.Context(Name, r.Header), p.header, providers.ErrMissingSignature)
	}
	ok := providers.AnyToken(p.secrets, v)
	if p.header == "Authorization" {
		if scheme, cred, found := strings.Cut(v, " "); found && strings.EqualFold(scheme, "Bearer") {
			// Both comparisons always run, so timing does not tell
			// which form matched.
			ok = providers.AnyToken(p.secrets, strings.TrimLeft(cred, " ")) || ok
		}
	}
	if !ok {
		return fmt.Errorf("%s: %s matches no token: %w", hmac.Context(Name, r.Header), p.header, providers.ErrBadSignature)
	}
	return nil
}

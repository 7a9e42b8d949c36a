package token

import (
	"fmt"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Verify compares the header with every secret in constant time (AnyToken).
// In Authorization both "Bearer <secret>" (the scheme in any case) and the
// bare secret are accepted; any other header must hold the bare secret.
func (p *Provider) Verify(r *providers.Request) error {
	v, err := providers.GenericHeader(Name, r.Header, p.header)
	if err != nil {
		return err
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
		return fmt.Errorf("%s: %s matches no token: %w", providers.GenericErrorPrefix(Name, r.Header), p.header, providers.ErrBadSignature)
	}
	return nil
}

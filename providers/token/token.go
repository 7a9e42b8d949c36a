// Package token verifies deliveries from senders that can only send a
// static secret in a header, such as Alertmanager's or Grafana's bearer
// credentials. It proves who sent the request, not what was sent: the token
// does not cover the body, and a captured request can be replayed.
package token

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/hookrelay/hookrelay/providers"
)

// DefaultHeader is the header read when the header option is empty.
const DefaultHeader = "Authorization"

// Name is the provider name set in Event.Provider.
const Name = "token"

// Provider compares a header with the source's secrets; it is safe for
// concurrent use.
type Provider struct {
	secrets []providers.Secret
	header  string // canonical
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider from o. The header option defaults to
// Authorization; signing options (algorithm, encoding, prefix, allow_sha1,
// tolerance) do not apply and are rejected.
func New(o providers.Options) (providers.Provider, error) {
	if err := providers.CheckOptions(Name, o, "a token is compared as it is; use provider hmac for signatures", "header"); err != nil {
		return nil, err
	}
	header := o.Header
	if header == "" {
		header = DefaultHeader
	}
	if !providers.ValidHeaderName(header) {
		return nil, fmt.Errorf("%s: option header %q is not a valid header name", Name, header)
	}
	return &Provider{secrets: slices.Clone(o.Secrets), header: http.CanonicalHeaderKey(header)}, nil
}

// Package token verifies deliveries from senders that can only send a
// static secret in a header, such as Alertmanager's or Grafana's bearer
// credentials. It proves who sent the request, not what was sent: the token
// does not cover the body, and a captured request can be replayed.
package token

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/hmac"
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
	if err := providers.NeedSecrets(Name, o); err != nil {
		return nil, err
	}
	var set []string
	if o.AllowSHA1 {
		set = append(set, "allow_sha1")
	}
	if o.Tolerance != 0 {
		set = append(set, "tolerance")
	}
	for _, f := range []struct{ name, v string }{{"algorithm", o.Algorithm}, {"encoding", o.Encoding}, {"prefix", o.Prefix}} {
		if f.v != "" {
			set = append(set, f.name)
		}
	}
	if len(set) > 0 {
		return nil, fmt.Errorf("%s: option %s does not apply (a token is compared as it is; use provider hmac for signatures)", Name, strings.Join(set, ", "))
	}
	header := o.Header
	if header == "" {
		header = DefaultHeader
	}
	if !hmac.ValidHeaderName(header) {
		return nil, fmt.Errorf("%s: option header %q is not a valid header name", Name, header)
	}
	return &Provider{secrets: slices.Clone(o.Secrets), header: http.CanonicalHeaderKey(header)}, nil
}

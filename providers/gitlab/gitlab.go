// Package gitlab verifies and normalises GitLab webhooks: project, group and
// system hooks. A hook proves itself with its secret token (X-Gitlab-Token,
// compared in constant time) or, with GitLab's newer signing token, with a
// Standard Webhooks signature, verified by package standard.
package gitlab

import (
	"fmt"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/standard"
)

// Headers GitLab sends with every delivery.
const (
	// HeaderToken carries the hook's secret token as plain text.
	HeaderToken = "X-Gitlab-Token"
	// HeaderEvent names the hook, e.g. "Push Hook" or "System Hook".
	HeaderEvent = "X-Gitlab-Event"
	// HeaderEventUUID identifies the event; recursive hooks share it.
	HeaderEventUUID = "X-Gitlab-Event-UUID"
	// HeaderWebhookUUID identifies the configured hook that sent it.
	HeaderWebhookUUID = "X-Gitlab-Webhook-UUID"
	// HeaderInstance is the sending instance's URL.
	HeaderInstance = "X-Gitlab-Instance"
	// HeaderIdempotencyKey is equal across retries of one delivery
	// (GitLab 17.4 and later).
	HeaderIdempotencyKey = "Idempotency-Key"
)

// SystemHook is the X-Gitlab-Event value of system hooks.
const SystemHook = "System Hook"

// Name is the provider name set in Event.Provider.
const Name = "gitlab"

// Provider verifies GitLab deliveries against secret tokens and signing
// tokens; it is safe for concurrent use.
type Provider struct {
	tokens    []providers.Secret // compared with X-Gitlab-Token
	keys      [][]byte           // decoded signing tokens (whsec_…)
	tolerance time.Duration      // zero: providers.DefaultTolerance
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider from o. A secret starting with "whsec_" is a signing
// token (GitLab only accepts signing tokens in that form) and must decode;
// any other secret is a secret token. Both kinds may be mixed, for rotation
// or for a migration from one to the other.
func New(o providers.Options) (providers.Provider, error) {
	if err := providers.CheckOptions(Name, o, "GitLab sends X-Gitlab-Token or Standard Webhooks headers", "tolerance"); err != nil {
		return nil, err
	}
	p := &Provider{tolerance: o.Tolerance}
	for i, s := range o.Secrets {
		if !strings.HasPrefix(string(s), standard.SecretPrefix) {
			p.tokens = append(p.tokens, s)
			continue
		}
		k, err := standard.DecodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("%s: secret %d starts with %s but is not a signing token: %w", Name, i+1, standard.SecretPrefix, err)
		}
		p.keys = append(p.keys, k)
	}
	return p, nil
}

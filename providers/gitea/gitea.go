// Package gitea verifies and normalises Gitea and Forgejo webhook
// deliveries: the hex HMAC-SHA256 in X-Gitea-Signature, X-Forgejo-Signature
// or X-Hub-Signature-256, JSON or form-encoded (payload=...) bodies, and the
// X-Gitea-* / X-Forgejo-* headers.
package gitea

import (
	"net/http"
	"slices"

	"github.com/hookrelay/hookrelay/providers"
)

// Name is the provider name used in configuration and in Event.Provider.
const Name = "gitea"

// Headers Gitea and Forgejo send. Both also send X-Gogs-* and X-GitHub-*
// copies, which this package does not read.
const (
	// SignatureHeader is the hex HMAC-SHA256 of the payload, no prefix.
	SignatureHeader = "X-Gitea-Signature"
	// ForgejoSignatureHeader is Forgejo's copy of SignatureHeader.
	ForgejoSignatureHeader = "X-Forgejo-Signature"
	// HubSignatureHeader is the same HMAC as "sha256=<hex>", GitHub style.
	HubSignatureHeader = "X-Hub-Signature-256"
	// EventHeader is the coarse event, e.g. "issues" for a label change.
	EventHeader = "X-Gitea-Event"
	// ForgejoEventHeader is Forgejo's copy of EventHeader.
	ForgejoEventHeader = "X-Forgejo-Event"
	// EventTypeHeader is the fine event type, e.g. "issue_label" (Gitea
	// 1.13 and later).
	EventTypeHeader = "X-Gitea-Event-Type"
	// ForgejoEventTypeHeader is Forgejo's copy of EventTypeHeader.
	ForgejoEventTypeHeader = "X-Forgejo-Event-Type"
	// DeliveryHeader is the UUID of the delivery.
	DeliveryHeader = "X-Gitea-Delivery"
	// ForgejoDeliveryHeader is Forgejo's copy of DeliveryHeader.
	ForgejoDeliveryHeader = "X-Forgejo-Delivery"
)

// Provider verifies and normalises Gitea and Forgejo deliveries for one
// source. It is immutable after New and safe for concurrent use.
type Provider struct {
	secrets []providers.Secret
}

var _ providers.Provider = (*Provider)(nil)

// New builds a Gitea/Forgejo provider. It needs at least one secret and
// rejects every other option: the scheme (HMAC-SHA256, hex) is fixed and
// carries no timestamp.
func New(o providers.Options) (providers.Provider, error) {
	if err := providers.CheckOptions(Name, o, "Gitea and Forgejo always sign with hex HMAC-SHA256 and send no timestamp"); err != nil {
		return nil, err
	}
	return &Provider{secrets: slices.Clone(o.Secrets)}, nil
}

// first returns the first non-empty value of the named headers.
func first(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// Package github verifies and normalises GitHub webhook deliveries: the
// HMAC-SHA256 X-Hub-Signature-256 over the exact body, JSON or
// form-encoded (payload=...) bodies, and the X-GitHub-* headers.
package github

import (
	"slices"

	"github.com/hookrelay/hookrelay/providers"
)

// Name is the provider name used in configuration and in Event.Provider.
const Name = "github"

// Headers GitHub sends with every delivery.
const (
	// SHA256SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of
	// the body under the webhook's secret.
	SHA256SignatureHeader = "X-Hub-Signature-256"
	// SHA1SignatureHeader carries "sha1=" and the hex HMAC-SHA1 of the
	// body; GitHub still sends it for old receivers. Accepted only with
	// Options.AllowSHA1.
	SHA1SignatureHeader = "X-Hub-Signature"
	// EventTypeHeader names the event, e.g. "push" or "pull_request".
	EventTypeHeader = "X-GitHub-Event"
	// DeliveryIDHeader is the GUID of the delivery; a redelivery keeps it.
	DeliveryIDHeader = "X-GitHub-Delivery"
	// HookIDHeader is the id of the webhook that sent the delivery.
	HookIDHeader = "X-GitHub-Hook-ID"
	// HookTargetTypeHeader is the kind of resource the webhook is on:
	// repository, organization, business, marketplace::listing or
	// integration.
	HookTargetTypeHeader = "X-GitHub-Hook-Installation-Target-Type"
	// HookTargetIDHeader is the id of that resource.
	HookTargetIDHeader = "X-GitHub-Hook-Installation-Target-ID"
)

// Provider verifies and normalises GitHub deliveries for one source. It is
// immutable after New and safe for concurrent use.
type Provider struct {
	secrets   []providers.Secret
	allowSHA1 bool
}

var _ providers.Provider = (*Provider)(nil)

// New builds a GitHub provider. It needs at least one secret; AllowSHA1 is
// the only other option it reads, and it rejects the generic HMAC options
// (header, algorithm, encoding, prefix, tolerance) because GitHub's scheme
// is fixed and carries no timestamp.
func New(o providers.Options) (providers.Provider, error) {
	why := "GitHub always signs with HMAC-SHA256 in " + SHA256SignatureHeader + " and sends no timestamp (only allow_sha1 can be set)"
	if err := providers.CheckOptions(Name, o, why, "allow_sha1"); err != nil {
		return nil, err
	}
	return &Provider{secrets: slices.Clone(o.Secrets), allowSHA1: o.AllowSHA1}, nil
}

// Package bitbucket verifies and normalises Bitbucket Cloud and Bitbucket
// Data Center (Server) webhook deliveries: the "sha256=<hex>" HMAC-SHA256 in
// X-Hub-Signature and the X-Event-Key header. Which of the two sent a
// delivery is told from the payload's shape; see Normalize.
package bitbucket

import (
	"slices"

	"github.com/hookrelay/hookrelay/providers"
)

// Name is the provider name used in configuration and in Event.Provider.
const Name = "bitbucket"

// Headers Bitbucket Cloud and Data Center send.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
	// (Cloud and Data Center alike; absent when the webhook has no secret).
	SignatureHeader = "X-Hub-Signature"
	// EventKeyHeader names the event: "repo:push", "pullrequest:created"
	// (Cloud), "repo:refs_changed", "pr:opened" (Data Center).
	EventKeyHeader = "X-Event-Key"
	// RequestUUIDHeader is Bitbucket Cloud's id of the delivery.
	RequestUUIDHeader = "X-Request-UUID"
	// HookUUIDHeader is Bitbucket Cloud's id of the webhook.
	HookUUIDHeader = "X-Hook-UUID"
	// AttemptNumberHeader is Bitbucket Cloud's attempt counter, from 1.
	AttemptNumberHeader = "X-Attempt-Number"
	// RequestIDHeader is Bitbucket Data Center's id of the delivery.
	RequestIDHeader = "X-Request-Id"
)

// Provider verifies and normalises Bitbucket deliveries for one source. It
// is immutable after New and safe for concurrent use.
type Provider struct {
	secrets []providers.Secret
}

var _ providers.Provider = (*Provider)(nil)

// New builds a Bitbucket provider for Cloud and Data Center webhooks. It
// needs at least one secret and rejects every other option: the scheme
// (HMAC-SHA256, "sha256=" + hex) is fixed and carries no timestamp.
func New(o providers.Options) (providers.Provider, error) {
	if err := providers.CheckOptions(Name, o, "Bitbucket always signs with HMAC-SHA256 in "+SignatureHeader+" and sends no timestamp"); err != nil {
		return nil, err
	}
	return &Provider{secrets: slices.Clone(o.Secrets)}, nil
}

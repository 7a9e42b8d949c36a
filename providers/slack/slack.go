// Package slack verifies and normalises requests from Slack apps: Events API
// callbacks (JSON), slash commands and interactivity (form-encoded). Slack
// signs each request in X-Slack-Signature with HMAC-SHA256 over
// "v0:<X-Slack-Request-Timestamp>:<body>", keyed with the app's signing secret.
package slack

import (
	"slices"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

// Name is the provider name sources configure and events carry.
const Name = "slack"

// Header names Slack signs a request with.
const (
	// SignatureHeader carries "v0=<hex>", the request's signature.
	SignatureHeader = "X-Slack-Signature"
	// TimestampHeader carries the Unix seconds the request was signed at;
	// it is part of the signed message.
	TimestampHeader = "X-Slack-Request-Timestamp"
)

// Event types this provider gives requests that are not Events API
// callbacks; an event_callback takes its inner event's type instead.
const (
	// TypeURLVerification is the Events API handshake; its Event carries
	// the Reply that answers Slack's challenge.
	TypeURLVerification = "url_verification"
	// TypeEventCallback is the Events API envelope; Normalize reports the
	// inner event's type (app_mention, message, ...) rather than this.
	TypeEventCallback = "event_callback"
	// TypeSlashCommand is a slash command invocation (a form with command=).
	TypeSlashCommand = "slash_command"
	// TypeInteractive is an interactivity request (a form with payload=):
	// block_actions, view_submission, shortcut, ...
	TypeInteractive = "interactive"
)

// signatureVersion prefixes the signed message and the signature.
const signatureVersion = "v0"

// Provider verifies and normalises Slack requests for one source. It is
// immutable after New and safe for concurrent use.
type Provider struct {
	secrets   []providers.Secret
	tolerance time.Duration // zero: providers.DefaultTolerance
}

var _ providers.Provider = (*Provider)(nil)

// New builds a Slack provider. It needs at least one signing secret (two
// while rotating: Slack has one signing secret per app, so rotation means
// accepting the old and the new one until the app is updated) and reads
// Options.Tolerance (zero means providers.DefaultTolerance, Slack's advice).
// The hmac-only options are rejected, since Slack's scheme is fixed.
func New(o providers.Options) (providers.Provider, error) {
	why := "Slack always signs with hex HMAC-SHA256, as " + signatureVersion + "=<hex> in " + SignatureHeader
	if err := providers.CheckOptions(Name, o, why, "tolerance"); err != nil {
		return nil, err
	}
	return &Provider{secrets: slices.Clone(o.Secrets), tolerance: o.Tolerance}, nil
}

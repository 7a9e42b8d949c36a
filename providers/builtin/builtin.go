// Package builtin lists the providers hookrelay ships, explicitly: adding
// one is a folder under providers/ and a line here.
package builtin

import (
	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/bitbucket"
	"github.com/hookrelay/hookrelay/providers/gitea"
	"github.com/hookrelay/hookrelay/providers/github"
	"github.com/hookrelay/hookrelay/providers/gitlab"
	"github.com/hookrelay/hookrelay/providers/hmac"
	"github.com/hookrelay/hookrelay/providers/slack"
	"github.com/hookrelay/hookrelay/providers/standard"
	"github.com/hookrelay/hookrelay/providers/stripe"
	"github.com/hookrelay/hookrelay/providers/token"
)

// Providers returns the factories of the built-in providers by the name a
// source's `provider:` uses.
func Providers() map[string]providers.Factory {
	return map[string]providers.Factory{
		"github":    github.New,
		"gitlab":    gitlab.New,
		"gitea":     gitea.New,
		"forgejo":   gitea.New,
		"bitbucket": bitbucket.New,
		"stripe":    stripe.New,
		"slack":     slack.New,
		"standard":  standard.New,
		"hmac":      hmac.New,
		"token":     token.New,
	}
}

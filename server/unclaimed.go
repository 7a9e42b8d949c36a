package server

import (
	"context"
	"log/slog"

	"github.com/hookrelay/hookrelay/dispatch"
)

// Reloads is a hooks file in force that says when it was reloaded.
type Reloads interface {
	Rules
	Subscribe() (<-chan struct{}, func())
}

// WarnUnclaimed logs, for the hooks file in force and after each reload,
// every route that sends to a channel no client has claimed yet: the first
// client to connect to that name will own it and get its events. Without
// a client key (open is true) anyone may be that client. It returns when
// ctx ends.
func WarnUnclaimed(ctx context.Context, rules Reloads, channels Channels, open bool, log *slog.Logger) {
	changed, stop := rules.Subscribe()
	defer stop()
	for {
		for _, u := range unclaimed(rules.Current(), channels) {
			if open {
				log.WarnContext(ctx, "route sends to a channel nobody has claimed; the first client to connect to it will own it and get its events, and without --client-key anyone can: claim it now, or set --client-key",
					"route", u.route, "channel", u.channel)
			} else {
				log.InfoContext(ctx, "route sends to a channel nobody has claimed yet; its events wait for the first client to claim it",
					"route", u.route, "channel", u.channel)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// unclaimedRoute is a route and the unclaimed channel it sends to.
type unclaimedRoute struct{ route, channel string }

// unclaimed lists cfg's routes to channels that channels does not know,
// in the file's order.
func unclaimed(cfg *dispatch.Config, channels Channels) []unclaimedRoute {
	if cfg == nil {
		return nil
	}
	var out []unclaimedRoute
	for _, r := range cfg.Routes {
		if r.To.Kind == dispatch.TargetTunnel && !channels.Exists(r.To.Name) {
			out = append(out, unclaimedRoute{r.Name, r.To.Name})
		}
	}
	return out
}

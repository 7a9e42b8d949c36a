package server

import (
	"context"
	"log/slog"

	"github.com/hookrelay/hookrelay/dispatch"
)

// WarnUnclaimed logs every route of cfg that sends to a channel no client
// has claimed yet: the first client to connect to that name will own it
// and get its events. Without a client key (open is true) anyone may be
// that client, which is worth a warning. The server calls it for each
// hooks file it loads.
func WarnUnclaimed(ctx context.Context, cfg *dispatch.Config, channels Channels, open bool, log *slog.Logger) {
	if cfg == nil {
		return
	}
	for _, r := range cfg.Routes {
		if r.To.Kind != dispatch.TargetTunnel || channels.Exists(r.To.Name) {
			continue
		}
		if open {
			log.WarnContext(ctx, "route sends to a channel nobody has claimed; the first client to connect to it will own it and get its events, and without --client-key anyone can: claim it now, or set --client-key",
				"route", r.Name, "channel", r.To.Name)
		} else {
			log.InfoContext(ctx, "route sends to a channel nobody has claimed yet; its events wait for the first client to claim it",
				"route", r.Name, "channel", r.To.Name)
		}
	}
}

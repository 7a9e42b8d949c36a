package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// releaseChannel answers DELETE /api/channels/{name}, for the admin or
// the channel's owner: the channel and its owner's token are forgotten, its
// client is told to stop, and the next client to claim the name owns it.
// Its queued events stay queued for that client.
func (a *api) releaseChannel(c echo.Context, p principal) error {
	name := c.Param("name")
	if !p.admin && p.channel != name {
		return echo.NewHTTPError(http.StatusForbidden, "a channel's token can release only its own channel; use the admin token")
	}
	// Released first: a reconnect of its client is refused from now on
	// (store.ErrReleased), and one attaching at this moment finds the name
	// gone and stops (see connect). Then its connection, if any, is told;
	// not one of a next owner who claimed the name meanwhile.
	owner, err := a.s.channels.Release(name)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no channel "+name)
	}
	if err != nil {
		return err
	}
	out := ChannelReleased{Name: name}
	out.Disconnected = a.s.hub.Drop(name, string(owner), tunnel.CloseReleased, "the channel was released")
	out.Queued.Events, out.Queued.Bytes = a.s.cfg.Events.QueueLen("tunnel:" + name)
	a.s.cfg.Log.Info("channel released", "channel", name, "by", p.String(), "disconnected", out.Disconnected, "queued", out.Queued.Events)
	return c.JSON(http.StatusOK, out)
}

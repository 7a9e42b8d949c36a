package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
)

// replayTarget is a target of a replay and the route that first chose it.
type replayTarget struct{ target, route string }

// replay answers POST /api/events/{id}/replay: the event goes again to its
// targets (or the one named), as new deliveries of the same event; with an
// edited body, a new event that records the original in EditedFrom.
func (a *api) replay(c echo.Context, p principal) error {
	req, err := a.replayRequest(c)
	if err != nil {
		return err
	}
	ev, ds, err := a.visibleEvent(c, p)
	if err != nil {
		return err
	}
	targets, err := a.replayTargets(p, req.To, ev, ds)
	if err != nil {
		return err
	}
	now := time.Now()
	res := ReplayResult{EventID: ev.ID}
	nds := make([]*store.Delivery, len(targets))
	for i, t := range targets {
		id, err := newID()
		if err != nil {
			return err
		}
		nds[i] = &store.Delivery{ID: id, EventID: ev.ID, Route: t.route, Target: t.target, CreatedAt: now}
		res.Deliveries = append(res.Deliveries, id)
	}
	ctx := c.Request().Context()
	if req.Body == nil {
		// Once asked, the replay does not depend on the caller staying.
		if err := a.s.cfg.Events.Enqueue(context.WithoutCancel(ctx), nds); err != nil {
			return a.queueError(err, "replaying event "+ev.ID)
		}
		for _, d := range nds {
			a.s.cfg.Deliveries.Kick(d.Target)
		}
	} else {
		if int64(len(*req.Body)) > a.s.cfg.MaxBody {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("the edited body of %d bytes exceeds the limit of %d bytes", len(*req.Body), a.s.cfg.MaxBody))
		}
		id, err := newID()
		if err != nil {
			return err
		}
		// The provider's normalised view described the original body, so
		// the copy has none; its type stays, for listings.
		header := ev.Header.Clone()
		if header.Get("Content-Length") != "" {
			header.Set("Content-Length", strconv.Itoa(len(*req.Body)))
		}
		edited := &store.Event{ID: id, Source: ev.Source, Channel: ev.Channel, Type: ev.Type, ReceivedAt: now,
			Method: ev.Method, Target: ev.Target, Host: ev.Host, Header: header, Body: *req.Body, EditedFrom: ev.ID}
		// But the names of the headers its provider redacted go with the
		// header they describe: the API, plugins and scripts hide them.
		if names := providers.StoredRedacted(ev.Normalized); len(names) > 0 {
			if edited.Normalized, err = json.Marshal(struct {
				Redacted []string `json:"redacted_headers"`
			}{names}); err != nil {
				return err
			}
		}
		if err := a.s.store(ctx, edited, nds); err != nil {
			return err
		}
		res.EventID, res.EditedFrom = id, ev.ID
	}
	a.s.cfg.Log.Info("event replayed", "event_id", res.EventID, "edited_from", res.EditedFrom, "original", ev.ID,
		"deliveries", strings.Join(res.Deliveries, ","), "by", p.String())
	return c.JSON(http.StatusAccepted, res)
}

// replayRequest reads the optional JSON body of a replay.
func (a *api) replayRequest(c echo.Context) (ReplayRequest, error) {
	var req ReplayRequest
	// Base64 makes the edited body a third larger; the rest is small.
	limit := a.s.cfg.MaxBody/3*4 + 64<<10
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, io.EOF): // no body: replay as it was
		return req, nil
	case errors.As(err, &tooLarge):
		return req, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("the replay request exceeds the limit of %d bytes", limit))
	default:
		return req, echo.NewHTTPError(http.StatusBadRequest,
			`the replay request must be JSON {"to": "tunnel:NAME", "body": "<base64>"}, both optional: `+err.Error())
	}
}

// replayTargets picks where a replay goes: the target named, or the
// event's own distinct targets, those its routes chose (a /webhook
// event's channel), not those earlier replays were told. A channel's
// owner replays to its own channel only.
func (a *api) replayTargets(p principal, to string, ev *store.Event, ds []*store.Delivery) ([]replayTarget, error) {
	if to != "" {
		name, ok := strings.CutPrefix(to, "tunnel:")
		if !ok || !store.ValidName(name) {
			return nil, echo.NewHTTPError(http.StatusBadRequest, `"to" must be a tunnel target, tunnel:NAME`)
		}
		if !p.mayTarget(to) {
			return nil, echo.NewHTTPError(http.StatusForbidden, "a channel's token replays to its own channel only, "+p.target())
		}
		if !a.s.channels.Exists(name) {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "no channel "+name+" on this server")
		}
		return []replayTarget{{target: to}}, nil
	}
	var out []replayTarget
	seen := map[string]bool{}
	for _, d := range ds {
		// Its own: where a route sent it, or a /webhook request's channel;
		// not where a replay by hand sent it.
		own := d.Route != "" || (ev.Channel != "" && d.Target == "tunnel:"+ev.Channel)
		if own && !seen[d.Target] && p.mayTarget(d.Target) {
			seen[d.Target] = true
			out = append(out, replayTarget{target: d.Target, route: d.Route})
		}
	}
	if len(out) == 0 && ev.Channel != "" && p.mayTarget("tunnel:"+ev.Channel) {
		out = append(out, replayTarget{target: "tunnel:" + ev.Channel})
	}
	if len(out) == 0 {
		msg := "event " + ev.ID + " went to no target of its own to replay it to (where a replay with \"to\" sent it does not count): name one with \"to\""
		if ev.DuplicateOf != "" {
			msg = "event " + ev.ID + " is a duplicate of " + ev.DuplicateOf + " and was never delivered: replay that one, or name a target with \"to\""
		}
		return nil, echo.NewHTTPError(http.StatusConflict, msg)
	}
	return out, nil
}

// retry answers POST /api/deliveries/{id}/retry: a dead (or waiting)
// delivery is due again now, with its id, so the app can tell it is the
// same one. A delivered one is not sent again: replay its event for that.
func (a *api) retry(c echo.Context, p principal) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	d, err := a.delivery(ctx, id, p)
	if err != nil {
		return err
	}
	if d.Status == store.Delivered {
		return echo.NewHTTPError(http.StatusConflict, "delivery "+id+" was delivered; replay event "+d.EventID+" to send it again")
	}
	if _, running := a.s.cfg.Deliveries.Running(id); running {
		// Its attempt's outcome, recorded when it ends, would overwrite the
		// retry.
		return echo.NewHTTPError(http.StatusConflict, "delivery "+id+" is being attempted now; wait for its end, or cancel it, then retry")
	}
	d, err = a.s.cfg.Events.Retry(context.WithoutCancel(ctx), id)
	if err != nil {
		return a.queueError(err, "retrying delivery "+id)
	}
	a.s.cfg.Deliveries.Kick(d.Target)
	a.s.cfg.Log.Info("delivery retried", "delivery_id", id, "event_id", d.EventID, "target", d.Target, "by", p.String())
	return c.JSON(http.StatusAccepted, RetryResult{Delivery: d})
}

// delivery is delivery id, which p may act on: one to p's channel, or
// any for the admin.
func (a *api) delivery(ctx context.Context, id string, p principal) (*store.Delivery, error) {
	d, err := a.s.cfg.Events.Delivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, "no delivery "+id)
	}
	if err != nil {
		return nil, err
	}
	if !p.mayTarget(d.Target) {
		return nil, forbidden("delivery " + id)
	}
	return d, nil
}

// queueError maps an error of queueing deliveries to the caller's answer.
func (a *api) queueError(err error, doing string) error {
	if answer := a.s.limitError(err); answer != nil {
		return answer
	}
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, doing+": no longer stored")
	}
	return fmt.Errorf("%s: %w", doing, err)
}

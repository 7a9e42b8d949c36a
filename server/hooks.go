package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// Rules gives the hooks file in force; dispatch.Live is one.
type Rules interface {
	Current() *dispatch.Config
}

// hook receives POST /hooks/{source}[/rest]: verify, normalise, match, then
// answer 202 and deliver in the background (or pass one tunnel target's
// answer through, for routes with respond: passthrough).
func (s *Server) hook(c echo.Context) error {
	r := c.Request()
	name := c.Param("source")
	var cfg *dispatch.Config
	if s.cfg.Rules != nil {
		cfg = s.cfg.Rules.Current()
	}
	if cfg == nil || cfg.Sources[name] == nil {
		return echo.NewHTTPError(http.StatusNotFound, "unknown source "+name)
	}
	src := cfg.Sources[name]
	if len(src.AllowIPs) > 0 {
		ip := clientIP(r, src.TrustedProxies)
		if !inAny(ip, src.AllowIPs) {
			s.cfg.Log.Warn("delivery refused", "source", name, "reason", "ip not allowed", "ip", ip.String())
			return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("source %s does not accept deliveries from %s", name, ip))
		}
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	req := &providers.Request{Header: r.Header, Body: body, Now: time.Now()}
	if err := src.Provider.Verify(req); err != nil {
		s.cfg.Log.Warn("delivery refused", "source", name, "reason", err.Error())
		return echo.NewHTTPError(rejectStatus(err), err.Error())
	}
	ev, err := src.Provider.Normalize(req)
	if err != nil {
		s.cfg.Log.Warn("delivery refused", "source", name, "reason", err.Error())
		return echo.NewHTTPError(rejectStatus(err), err.Error())
	}
	id, err := newID()
	if err != nil {
		return err
	}
	ev.ID, ev.Source, ev.ReceivedAt = id, name, req.Now
	ev.Provider = src.ProviderName // as configured: "forgejo" stays forgejo
	if ev.Reply != nil {
		s.cfg.Log.Info("event answered by its provider", "event_id", ev.ID, "source", name, "type", ev.Type)
		return c.Blob(ev.Reply.Status, ev.Reply.ContentType, ev.Reply.Body)
	}
	routes, errs := cfg.Match(ev)
	for _, err := range errs {
		s.cfg.Log.Warn("rule failed; route skipped", "event_id", ev.ID, "err", err)
	}
	names := make([]string, len(routes))
	for i, rt := range routes {
		names[i] = rt.Name
	}
	s.cfg.Log.Info("event received", "event_id", ev.ID, "source", name, "type", ev.Type, "action", ev.Action,
		"delivery_id", ev.DeliveryID, "routes", strings.Join(names, ","))
	target, err := suffixAfter(r, "/hooks/")
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	head := tunnel.NewRequestHead(r, target, s.trustedPeer(r))
	delivery.StripHeaders(head.Header)
	head.ContentLength = int64(len(body))
	if len(routes) == 1 && routes[0].Respond == dispatch.RespondPassthrough {
		// The sender waits for the app's answer, as with a sync channel:
		// nothing is stored.
		head.Header.Set(delivery.HeaderEventID, ev.ID)
		head.Header.Set(delivery.HeaderRoute, routes[0].Name)
		return s.passthrough(c, routes[0], head, body)
	}
	norm, err := normalized(ev)
	if err != nil {
		return err
	}
	stored := &store.Event{ID: ev.ID, Source: name, Type: ev.Type, DedupKey: ev.DedupKey, ReceivedAt: ev.ReceivedAt,
		Method: head.Method, Target: head.Target, Host: head.Host, Header: head.Header, Body: body, Normalized: norm}
	q := queued{EventID: ev.ID, Routes: names, Deliveries: []string{}, Status: "queued"}
	ds := make([]*store.Delivery, 0, len(routes))
	for _, rt := range routes {
		if rt.Respond == dispatch.RespondPassthrough {
			s.cfg.Log.Warn("respond: passthrough ignored: the event matched several routes", "event_id", ev.ID, "route", rt.Name)
		}
		did, err := newID()
		if err != nil {
			return err
		}
		ds = append(ds, &store.Delivery{ID: did, EventID: ev.ID, Route: rt.Name, Target: rt.Queue()})
		q.Deliveries = append(q.Deliveries, did)
		if rt.To.Kind != dispatch.TargetTunnel {
			q.Tasks = append(q.Tasks, did)
		}
	}
	if len(routes) == 0 {
		q.Status = "unrouted"
		s.cfg.Log.Info("event unrouted", "event_id", ev.ID, "source", name, "type", ev.Type)
	}
	err = s.store(r.Context(), stored, ds)
	if err == nil && len(routes) == 0 && ev.Type == "ping" {
		c.Response().Header().Set(delivery.HeaderEventID, ev.ID)
		return c.JSON(http.StatusOK, q) // a ping is answered, not queued
	}
	if errors.Is(err, store.ErrDuplicate) {
		s.cfg.Log.Info("duplicate event not delivered again", "event_id", ev.ID, "source", name, "dedup_key", ev.DedupKey)
	}
	return answerStored(c, err, q)
}

// normalized is the provider's event as stored: without the payload and
// headers, which the stored body and header hold already, but with the
// names of the headers the provider redacted.
func normalized(ev *providers.Event) (json.RawMessage, error) {
	e := *ev
	e.Payload, e.Headers = nil, nil
	b, err := json.Marshal(&providers.Stored{Event: &e, Redacted: providers.RedactedNames(ev.Headers)})
	if err != nil {
		return nil, fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	return b, nil
}

// passthrough delivers to the route's tunnel now and answers with the local
// app's response, within the sync timeout.
func (s *Server) passthrough(c echo.Context, rt *dispatch.Route, head *tunnel.RequestHead, body []byte) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.SyncTimeout)
	defer cancel()
	rh, rb, err := s.hub.Exchange(ctx, rt.To.Name, head, bytes.NewReader(body))
	if err != nil {
		return s.exchangeError(c, rt.To.Name, err)
	}
	defer rb.Close()
	defer context.AfterFunc(c.Request().Context(), func() { rb.Close() })()
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(responseWriteTimeout))
	return s.copyResponse(c, rt.To.Name, rh, rb)
}

// rejectStatus maps a provider error to the status the sender gets.
func rejectStatus(err error) int {
	switch {
	case errors.Is(err, providers.ErrMissingSignature), errors.Is(err, providers.ErrBadSignature), errors.Is(err, providers.ErrStale):
		return http.StatusUnauthorized
	default:
		return http.StatusBadRequest
	}
}

package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/tunnel"
)

// Rules gives the hooks file in force; dispatch.Live is one.
type Rules interface {
	Current() *dispatch.Config
}

// Headers hookrelay adds to deliveries of /hooks events.
const (
	HeaderEventID = "X-Hookrelay-Event-Id"
	HeaderRoute   = "X-Hookrelay-Route"
)

// hookReadTimeout bounds reading a delivery's body.
const hookReadTimeout = 30 * time.Second

// accepted is the answer to an accepted event.
type accepted struct {
	EventID string   `json:"event_id"`
	Routes  []string `json:"routes"`
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
	if r.ContentLength > s.cfg.MaxBody {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, s.cfg.MaxBody))
	}
	if r.ContentLength != 0 { // see webhook: never on a body-less request
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(hookReadTimeout))
	}
	limited := &limitReader{r: r.Body, n: s.cfg.MaxBody}
	body, err := io.ReadAll(limited)
	if err != nil {
		if limited.over.Load() {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the limit of %d bytes", s.cfg.MaxBody))
		}
		return echo.NewHTTPError(http.StatusBadRequest, "reading the request body failed")
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
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("event id: %w", err)
	}
	ev.ID, ev.Source, ev.ReceivedAt = id.String(), name, req.Now
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
	if len(routes) == 0 {
		s.cfg.Log.Info("event unrouted", "event_id", ev.ID, "source", name, "type", ev.Type)
		status := http.StatusAccepted
		if ev.Type == "ping" {
			status = http.StatusOK
		}
		return c.JSON(status, accepted{EventID: ev.ID, Routes: names})
	}
	target, err := suffixAfter(r, "/hooks/")
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	head := tunnel.NewRequestHead(r, target, s.trustedPeer(r))
	head.ContentLength = int64(len(body))
	head.Header.Set(HeaderEventID, ev.ID)
	if len(routes) == 1 && routes[0].Respond == dispatch.RespondPassthrough {
		head.Header.Set(HeaderRoute, routes[0].Name)
		return s.passthrough(c, routes[0], head, body)
	}
	for _, rt := range routes {
		if rt.Respond == dispatch.RespondPassthrough {
			s.cfg.Log.Warn("respond: passthrough ignored: the event matched several routes", "event_id", ev.ID, "route", rt.Name)
		}
		h := *head
		h.Header = head.Header.Clone()
		h.Header.Set(HeaderRoute, rt.Name)
		if !s.bg.add(1) {
			s.cfg.Log.Warn("delivery not started: the server is shutting down", "event_id", ev.ID, "route", rt.Name)
			continue
		}
		go func() {
			defer s.bg.done()
			s.deliver(ev.ID, rt, &h, body)
		}()
	}
	return c.JSON(http.StatusAccepted, accepted{EventID: ev.ID, Routes: names})
}

// deliver sends one event to one tunnel target in the background.
func (s *Server) deliver(eventID string, rt *dispatch.Route, head *tunnel.RequestHead, body []byte) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.DeliveryTimeout)
	defer cancel()
	start := time.Now()
	rh, rb, err := s.hub.Exchange(ctx, rt.To.Name, head, bytes.NewReader(body))
	if err != nil {
		s.cfg.Log.Warn("delivery failed", "event_id", eventID, "route", rt.Name, "target", rt.To.String(), "err", err)
		return
	}
	stop := context.AfterFunc(ctx, func() { rb.Close() }) // the timeout bounds the body too
	_, _ = io.Copy(io.Discard, io.LimitReader(rb, 1<<20))
	stop()
	rb.Close()
	s.cfg.Log.Info("delivered", "event_id", eventID, "route", rt.Name, "target", rt.To.String(),
		"status", rh.Status, "duration", time.Since(start))
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

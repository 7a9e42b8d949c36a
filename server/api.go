package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/store"
)

// api serves /api: inspection and replay of stored events. Every request
// carries a bearer token: the admin token, which sees every channel, or a
// channel's token with the channel named in HeaderChannel, which sees that
// channel only.
type api struct {
	s *Server
	// adminHash is the SHA-256 of the admin token; admin is false when
	// the server has none, and then no token is an admin's.
	adminHash [32]byte
	admin     bool
}

// routesAPI registers the /api endpoints.
func (s *Server) routesAPI(e *echo.Echo) {
	a := &api{s: s, admin: s.cfg.AdminToken != "", adminHash: sha256.Sum256([]byte(s.cfg.AdminToken))}
	g := e.Group("/api")
	g.GET("/events", a.auth(a.listEvents))
	g.GET("/events/:id", a.auth(a.showEvent))
	g.POST("/events/:id/replay", a.auth(a.replay))
	g.POST("/deliveries/:id/retry", a.auth(a.retry))
	g.POST("/deliveries/:id/cancel", a.auth(a.cancelDelivery))
	g.GET("/channels", a.auth(a.listChannels))
	g.DELETE("/channels/:name", a.auth(a.releaseChannel))
	g.GET("/tasks", a.auth(a.listTasks))
	g.GET("/tasks/:id", a.auth(a.showTask))
	g.GET("/tasks/:id/log", a.auth(a.taskLog))
	g.POST("/tasks/:id/cancel", a.auth(a.cancelTask))
	g.GET("/plugins", a.auth(a.listPlugins))
}

// principal is who an /api request acts for: the admin, or the owner of
// one channel.
type principal struct {
	admin   bool
	channel string
}

// String names the principal in log lines: "admin" or "channel:NAME".
func (p principal) String() string {
	if p.admin {
		return "admin"
	}
	return "channel:" + p.channel
}

// target is the delivery target of the principal's channel.
func (p principal) target() string { return "tunnel:" + p.channel }

// mayTarget reports whether the principal may see or cause deliveries to
// target.
func (p principal) mayTarget(target string) bool { return p.admin || target == p.target() }

// sees reports whether the principal may see ev, whose deliveries are ds:
// a channel's owner sees the requests to its channel and the events
// delivered to it.
func (p principal) sees(ev *store.Event, ds []*store.Delivery) bool {
	if p.admin || ev.Channel == p.channel {
		return true
	}
	return slices.ContainsFunc(ds, func(d *store.Delivery) bool { return d.Target == p.target() })
}

// forbidden answers a request for another channel's data.
func forbidden(what string) error {
	return echo.NewHTTPError(http.StatusForbidden, what+" belongs to another channel: use its channel's token or the admin token")
}

// errNoCredentials asks for a token.
var errNoCredentials = echo.NewHTTPError(http.StatusUnauthorized,
	"missing credentials: send Authorization: Bearer <token>, with the admin token or a channel's token and its name in "+HeaderChannel)

// auth authenticates an /api request and passes its principal on. Tokens
// are compared as SHA-256 hashes in constant time, and are never logged
// or echoed.
func (a *api) auth(next func(echo.Context, principal) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.Response().Header().Set("Cache-Control", "no-store")
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="hookrelay"`)
			return errNoCredentials
		}
		if a.isAdmin(token) {
			return next(c, principal{admin: true})
		}
		channel := r.Header.Get(HeaderChannel)
		if channel == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="hookrelay"`)
			return echo.NewHTTPError(http.StatusUnauthorized,
				"the token is not the admin token; a channel's token needs the channel's name in "+HeaderChannel)
		}
		err := a.s.channels.Verify(channel, token)
		switch {
		case err == nil:
			return next(c, principal{channel: channel})
		case errors.Is(err, store.ErrWrongToken), errors.Is(err, store.ErrNotFound):
			if store.ValidName(channel) {
				a.s.cfg.Log.Warn("api request refused", "channel", channel, "remote", r.RemoteAddr, "reason", "bad token")
			} else {
				a.s.cfg.Log.Warn("api request refused", "remote", r.RemoteAddr, "reason", "bad channel name")
			}
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="hookrelay", error="invalid_token"`)
			// The same answer for an unknown channel and a wrong token: it
			// does not tell which channels exist.
			return echo.NewHTTPError(http.StatusUnauthorized, "bad credentials: the token is neither the admin token nor the token of the channel in "+HeaderChannel)
		default:
			return err
		}
	}
}

// bearer extracts the token of an Authorization: Bearer header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// isAdmin reports whether token is the admin token.
func (a *api) isAdmin(token string) bool {
	if !a.admin {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], a.adminHash[:]) == 1
}

// eventStatuses are the statuses an event listing filters on.
var eventStatuses = []string{store.Pending, store.Delivered, store.Dead, "duplicate", "unrouted"}

// listEvents answers GET /api/events: newest first, a page at a time.
func (a *api) listEvents(c echo.Context, p principal) error {
	q := c.QueryParams()
	f := store.Filter{Source: q.Get("source"), Channel: q.Get("channel"), Type: q.Get("type"), Key: q.Get("key"), Status: q.Get("status"), Before: q.Get("before")}
	if !p.admin {
		if f.Channel != "" && f.Channel != p.channel {
			return echo.NewHTTPError(http.StatusForbidden, "a channel's token sees its own channel only, not "+f.Channel+": use "+f.Channel+"'s token or the admin token")
		}
		f.Channel = p.channel
	}
	if f.Status != "" && !slices.Contains(eventStatuses, f.Status) {
		return echo.NewHTTPError(http.StatusBadRequest, "status must be one of "+strings.Join(eventStatuses, ", "))
	}
	var err error
	if f.Since, err = queryTime(q.Get("since"), "since"); err != nil {
		return err
	}
	if f.Until, err = queryTime(q.Get("until"), "until"); err != nil {
		return err
	}
	limit, err := queryLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	f.Limit = limit + 1 // one more tells whether there is a next page
	evs, err := a.s.cfg.Events.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := EventList{Events: evs}
	if len(evs) > limit {
		out.Events = evs[:limit]
		out.Next = out.Events[limit-1].ID
	}
	for i := range out.Events {
		e := &out.Events[i]
		redact(&e.Event)
		// Each target once, though replays add deliveries to it; for a
		// channel's owner, only its own: other channels' names are theirs.
		seen := map[string]bool{}
		e.Targets = slices.DeleteFunc(e.Targets, func(t string) bool {
			drop := seen[t] || !p.mayTarget(t)
			seen[t] = true
			return drop
		})
	}
	return c.JSON(http.StatusOK, out)
}

// queryLimit parses a list's limit query parameter: 1 to MaxListLimit;
// empty is DefaultListLimit.
func queryLimit(v string) (int, error) {
	if v == "" {
		return DefaultListLimit, nil
	}
	limit, err := strconv.Atoi(v)
	if err != nil || limit < 1 || limit > MaxListLimit {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(MaxListLimit))
	}
	return limit, nil
}

// nonNegative parses query parameter name's value v; empty is 0.
func nonNegative(v, name string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, name+" must be a whole number, 0 or more")
	}
	return n, nil
}

// queryTime parses an RFC 3339 query parameter; empty is the zero time.
func queryTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, echo.NewHTTPError(http.StatusBadRequest, name+" must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

// visibleEvent loads an event and its deliveries that p may see: 404 for
// an unknown id, 403 for another channel's event.
func (a *api) visibleEvent(c echo.Context, p principal) (*store.Event, []*store.Delivery, error) {
	ctx := c.Request().Context()
	id := c.Param("id")
	ev, err := a.s.cfg.Events.Event(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// An id a client printed may be of a request auto mode answered
		// directly, which is not stored.
		return nil, nil, echo.NewHTTPError(http.StatusNotFound, "no event "+id+": it may never have been stored (an auto-mode channel's app answered it at once) or been pruned since (--retention, --store-max)")
	}
	if err != nil {
		return nil, nil, err
	}
	ds, err := a.s.cfg.Events.Deliveries(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !p.sees(ev, ds) {
		return nil, nil, forbidden("event " + id)
	}
	return ev, ds, nil
}

// redact hides the credentials in a stored event's header, as plugins and
// scripts see it: a source's token (X-Gitlab-Token, a token source's own
// header) would let whoever reads it forge deliveries to /hooks. The body
// and the header stay whole in the store, and replays send them as they
// came.
func redact(ev *store.Event) {
	ev.Header = providers.RedactHeader(ev.Header, providers.StoredRedacted(ev.Normalized)...)
}

// normalizedView is a stored event's normalised view as rules saw it: the
// store keeps it without its headers and payload, which the request's
// header and body hold; they are put back (credentials redacted).
func normalizedView(ev *store.Event) json.RawMessage {
	if len(ev.Normalized) == 0 {
		return nil
	}
	out, redact, err := providers.FromStored(ev.Normalized, ev.Header)
	if err != nil {
		return ev.Normalized
	}
	out.ID, out.Source, out.ReceivedAt = ev.ID, ev.Source, ev.ReceivedAt
	out.Payload = providers.StoredPayload(ev.Header, ev.Body)
	b, err := json.Marshal(providers.Stored{Event: out, Redacted: redact})
	if err != nil {
		return ev.Normalized
	}
	return b
}

// showEvent answers GET /api/events/{id}. A channel's owner sees only the
// deliveries to its channel: the answers of other channels' apps are
// theirs.
func (a *api) showEvent(c echo.Context, p principal) error {
	ev, ds, err := a.visibleEvent(c, p)
	if err != nil {
		return err
	}
	ev.Normalized = normalizedView(ev)
	redact(ev)
	out := EventDetail{Event: ev, Deliveries: []DeliveryDetail{}}
	for _, d := range ds {
		if !p.mayTarget(d.Target) {
			continue
		}
		at, err := a.s.cfg.Events.Attempts(c.Request().Context(), d.ID)
		if err != nil {
			return err
		}
		if at == nil {
			at = []store.Attempt{}
		}
		out.Deliveries = append(out.Deliveries, DeliveryDetail{Delivery: *d, Attempts: at})
	}
	return c.JSON(http.StatusOK, out)
}

// listChannels answers GET /api/channels: every channel for the admin,
// its own for a channel's owner.
func (a *api) listChannels(c echo.Context, p principal) error {
	out := ChannelList{Channels: []ChannelStatus{}}
	for _, ch := range a.s.channels.List() {
		if !p.admin && ch.Name != p.channel {
			continue
		}
		if ch.Mode == "" {
			ch.Mode = a.s.cfg.DefaultMode
		}
		n, b := a.s.cfg.Events.QueueLen("tunnel:" + ch.Name)
		out.Channels = append(out.Channels, ChannelStatus{ChannelInfo: ch, Connected: a.s.hub.Connected(ch.Name), Queued: QueueLength{Events: n, Bytes: b}})
	}
	if p.admin {
		// Names nobody owns, with events waiting for whoever claims them.
		targets, err := a.s.cfg.Events.Targets(c.Request().Context())
		if err != nil {
			return err
		}
		for _, t := range targets {
			name, ok := strings.CutPrefix(t, "tunnel:")
			if !ok || a.s.channels.Exists(name) {
				continue
			}
			n, b := a.s.cfg.Events.QueueLen(t)
			out.Channels = append(out.Channels, ChannelStatus{ChannelInfo: store.ChannelInfo{Name: name}, Unclaimed: true, Queued: QueueLength{Events: n, Bytes: b}})
		}
		slices.SortFunc(out.Channels, func(x, y ChannelStatus) int { return strings.Compare(x.Name, y.Name) })
	}
	return c.JSON(http.StatusOK, out)
}

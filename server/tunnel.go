package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// newChannel answers GET /new as webhook-over-websocket does, plus the
// token that owns the channel.
func (s *Server) newChannel(c echo.Context) error {
	if !s.clientKeyOK(c.Request()) {
		return s.errClientKey(c.Request())
	}
	if !s.mayCreate() {
		return errTooManyChannels
	}
	name, token, err := s.channels.CreateOpen()
	if err != nil {
		return fmt.Errorf("creating channel: %w", err)
	}
	s.cfg.Log.Info("channel created", "channel", name)
	return c.JSON(http.StatusOK, map[string]string{"channel_id": name, "token": token})
}

// connect upgrades GET /ws/{channel} to a tunnel connection: the native
// protocol when the client offers its subprotocol, else the legacy one.
func (s *Server) connect(c echo.Context) error {
	r := c.Request()
	channel := c.Param("channel")
	if !s.clientKeyOK(r) {
		return s.errClientKey(r)
	}
	if !upgradeable(r) {
		// Checked before any channel is claimed: a request that cannot be
		// upgraded must not create a channel whose token nobody receives.
		return echo.NewHTTPError(http.StatusBadRequest, "a WebSocket upgrade (version 13) is required")
	}
	if !s.channels.Exists(channel) && !s.mayCreate() {
		return errTooManyChannels
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	var issued string
	var owner store.Owner
	var err error
	if token == "" && !slices.Contains(websocket.Subprotocols(r), tunnel.Subprotocol) {
		// A legacy client: it cannot hold a token.
		owner, err = s.channels.ClaimOpen(channel)
	} else {
		issued, owner, err = s.channels.Claim(channel, token)
	}
	switch {
	case errors.Is(err, store.ErrWrongToken):
		s.cfg.Log.Warn("channel connection refused", "channel", channel, "remote", r.RemoteAddr, "reason", "wrong token")
		msg := "channel " + channel + " is owned by another token: connect with the token it was claimed with (--token, or the tokens file of the client that claimed it)"
		if token == "" {
			msg = "channel " + channel + " is claimed: present its token (hookrelay client stores it when it claims a channel)"
		}
		return echo.NewHTTPError(http.StatusForbidden, msg)
	case errors.Is(err, store.ErrReleased):
		s.cfg.Log.Warn("channel connection refused", "channel", channel, "remote", r.RemoteAddr, "reason", "released")
		c.Response().Header().Set(tunnel.HeaderReleased, "1")
		return echo.NewHTTPError(http.StatusGone, "channel "+channel+" was released (by the server's admin or its own token) while this client was away: its token no longer owns the name")
	case errors.Is(err, store.ErrBadName):
		return echo.NewHTTPError(http.StatusBadRequest, "bad channel name: "+store.NameRule+"; clients without a token can only use channels from /new")
	case errors.Is(err, store.ErrBadToken):
		return echo.NewHTTPError(http.StatusBadRequest, "malformed channel token")
	case err != nil:
		return fmt.Errorf("claiming channel: %w", err)
	}
	if m := r.Header.Get(tunnel.HeaderMode); m != "" {
		if err := s.channels.SetMode(channel, m); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "Hookrelay-Mode: "+err.Error())
		}
	}
	h := http.Header{}
	if issued != "" {
		h.Set(tunnel.HeaderToken, issued)
	}
	conn, err := s.upgrader.Upgrade(c.Response(), r, h)
	if err != nil {
		return nil // the upgrader has answered the client
	}
	var x interface {
		tunnel.Exchanger
		Run(context.Context) error
	}
	proto := "legacy"
	if conn.Subprotocol() == tunnel.Subprotocol {
		proto = tunnel.Subprotocol
		x = tunnel.NewSession(conn, s.cfg.Session, s.cfg.Log, nil)
	} else {
		x = tunnel.NewLegacySession(conn, s.cfg.Session, s.cfg.MaxBody*4/3+64<<10)
	}
	if !s.track.add(1) {
		x.Close(websocket.CloseGoingAway, "server shutting down")
		return nil
	}
	defer s.track.done()
	// Released between the claim above and the attach: the name is no
	// longer this client's, and it must not replace the next owner's
	// connection. A release after the attach drops it (Hub.Drop).
	detach, ok := s.hub.Attach(channel, string(owner), x, func() bool { return s.stillOwns(channel, owner) })
	defer detach()
	if !ok {
		x.Close(tunnel.CloseReleased, "the channel was released")
		return nil
	}
	if native, ok := x.(*tunnel.Session); ok {
		// Attached: now the client may say it is connected.
		_ = native.Hello(s.cfg.Version)
	}
	s.cfg.Log.Info("client connected", "channel", channel, "protocol", proto, "remote", r.RemoteAddr)
	err = x.Run(s.ctx)
	s.cfg.Log.Info("client disconnected", "channel", channel, "reason", err)
	return nil
}

// stillOwns reports whether owner, who claimed channel, still owns it:
// not if it was released since, even if claimed anew.
func (s *Server) stillOwns(channel string, owner store.Owner) bool {
	now, ok := s.channels.Owner(channel)
	return ok && now == owner
}

// responseWriteTimeout bounds writing the local app's answer to the
// sender, so a sender that never reads cannot hold a stream open.
const responseWriteTimeout = time.Minute

// upgradeable checks what the upgrader will, before a channel is claimed.
func upgradeable(r *http.Request) bool {
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-Websocket-Key"))
	return websocket.IsWebSocketUpgrade(r) && r.Method == http.MethodGet &&
		r.Header.Get("Sec-Websocket-Version") == "13" && err == nil && len(key) == 16
}

// webhook answers any request on /webhook/{channel}[/rest] as the
// channel's mode says: through the tunnel (sync), stored (async), or the
// local app's answer if it comes in time and stored otherwise (auto).
func (s *Server) webhook(c echo.Context) error {
	r := c.Request()
	channel := c.Param("channel")
	if r.ContentLength > s.cfg.MaxBody {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, s.cfg.MaxBody))
	}
	target, err := targetOf(r)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	mode := s.cfg.DefaultMode
	if !s.channels.Exists(channel) {
		// Nobody owns it: nothing is queued for it.
		mode = store.ModeSync
	} else if m := s.channels.Mode(channel); m != "" {
		mode = m
	}
	if mode != store.ModeSync {
		return s.webhookStored(c, channel, target, mode)
	}
	return s.webhookSync(c, channel, target)
}

// webhookSync tunnels the request to the channel's client as it arrives
// and passes the local app's answer back.
func (s *Server) webhookSync(c echo.Context, channel, target string) error {
	r := c.Request()
	rc := http.NewResponseController(c.Response())
	// The body streams to the client while the answer may already come
	// back (an app may answer before reading it all): HTTP/1 must not close
	// the request body when the response starts.
	_ = rc.EnableFullDuplex()
	// With full duplex, a body left unread makes the server panic when it
	// reads the next request on the connection (golang/go#68560); closing
	// it, last, avoids that.
	defer r.Body.Close()
	// A sender must deliver its body within the sync timeout, as it must
	// get its answer within it: a stalled sender cannot hold a stream.
	if r.ContentLength != 0 {
		// Only with a body: without one, net/http's background read would
		// take the deadline for the sender leaving and cut a long answer.
		_ = rc.SetReadDeadline(time.Now().Add(s.cfg.SyncTimeout))
	}
	head := tunnel.NewRequestHead(r, target, s.trustedPeer(r))
	delivery.StripHeaders(head.Header)
	var body io.Reader
	var limited *limitReader
	if r.ContentLength != 0 {
		limited = &limitReader{r: r.Body, n: s.cfg.MaxBody}
		body = limited
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.SyncTimeout)
	defer cancel()
	rh, rbody, err := s.hub.Exchange(ctx, channel, head, body)
	if err != nil {
		if limited != nil && limited.over.Load() {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the limit of %d bytes", s.cfg.MaxBody))
		}
		return s.exchangeError(c, channel, err)
	}
	defer rbody.Close()
	// If the sender goes away while the answer streams, abort the exchange
	// so the local app's request is cancelled too.
	defer context.AfterFunc(r.Context(), func() { rbody.Close() })()
	_ = rc.SetWriteDeadline(time.Now().Add(responseWriteTimeout))
	return s.copyResponse(c, channel, rh, rbody)
}

// exchangeError answers the sender when the tunnel could not deliver.
func (s *Server) exchangeError(c echo.Context, channel string, err error) error {
	switch {
	case errors.Is(err, tunnel.ErrNotConnected):
		return echo.NewHTTPError(http.StatusServiceUnavailable, "no client is connected to channel "+channel)
	case errors.Is(err, tunnel.ErrHeadTooLarge):
		return echo.NewHTTPError(http.StatusRequestHeaderFieldsTooLarge, "request headers too large for the tunnel")
	case c.Request().Context().Err() != nil:
		return nil // the sender went away
	case errors.Is(err, context.DeadlineExceeded):
		return echo.NewHTTPError(http.StatusGatewayTimeout,
			fmt.Sprintf("no answer within %s (--sync-timeout) from the app behind channel %s, or from its client", s.cfg.SyncTimeout, channel))
	default:
		return echo.NewHTTPError(http.StatusBadGateway, "the tunnel to channel "+channel+" failed before the client answered").SetInternal(err)
	}
}

// copyResponse passes the local app's answer to the sender, flushing each
// chunk when the length is unknown (a streamed answer).
func (s *Server) copyResponse(c echo.Context, channel string, rh *tunnel.ResponseHead, body io.Reader) error {
	w := c.Response()
	for k, vs := range rh.Header {
		w.Header()[k] = vs
	}
	// The answer to a HEAD carries no body on the tunnel, but the length
	// the app declared is the sender's to see.
	declared := c.Request().Method == http.MethodHead && rh.Header.Get("Content-Length") != ""
	if rh.ContentLength >= 0 && !declared {
		w.Header().Set("Content-Length", strconv.FormatInt(rh.ContentLength, 10))
	}
	w.WriteHeader(rh.Status)
	var err error
	if rh.ContentLength >= 0 {
		_, err = io.Copy(w, body)
	} else {
		err = copyFlushing(w, body)
	}
	if err != nil {
		s.cfg.Log.Warn("response body interrupted", "channel", channel, "err", err)
	}
	return nil
}

// copyFlushing copies r to w, flushing after every read.
func copyFlushing(w *echo.Response, r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			w.Flush()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// targetOf is what follows /webhook/{channel} in the escaped path, plus the
// query: the part the client appends to the local app's URL.
func targetOf(r *http.Request) (string, error) {
	return suffixAfter(r, "/webhook/")
}

// suffixAfter returns the escaped path after prefix and its first segment
// (the channel or source), plus the query. Dot segments are refused: they
// would climb out of the local app's path prefix.
func suffixAfter(r *http.Request, prefix string) (string, error) {
	p := strings.TrimPrefix(r.URL.EscapedPath(), prefix)
	rest := ""
	if i := strings.IndexByte(p, '/'); i >= 0 {
		rest = p[i:]
	}
	for seg := range strings.SplitSeq(rest, "/") {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return "", errors.New("the path has a malformed escape")
		}
		// An escaped / or \ makes new segments for apps that unescape first.
		for piece := range strings.FieldsFuncSeq(u, func(r rune) bool { return r == '/' || r == '\\' }) {
			if piece == "." || piece == ".." {
				return "", errors.New("the path must not contain . or .. segments")
			}
		}
	}
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		rest += "?" + r.URL.RawQuery
	}
	return rest, nil
}

// limitReader fails reads past n bytes and remembers that it did, so the
// handler can answer 413 for a chunked body that is too large.
type limitReader struct {
	r    io.Reader
	n    int64
	over atomic.Bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		for {
			n, err := l.r.Read(one[:])
			if n > 0 {
				l.over.Store(true)
				return 0, errors.New("request body too large")
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

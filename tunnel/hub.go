package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// WebSocket close codes that tell a client to stop rather than reconnect.
const (
	// CloseReplaced is sent to a client whose channel was taken over by a
	// newer connection presenting the same token.
	CloseReplaced = 4001
	// CloseReleased is sent to a client whose channel was released (by the
	// server's admin, or with the channel's token): the name is free for
	// the next claim.
	CloseReleased = 4002
)

// HeaderReleased marks the server's 410 to a token whose channel was
// released, so that a client forgets that token only when hookrelay (not
// some proxy on the way) said so.
const HeaderReleased = "Hookrelay-Released"

// ErrNotConnected means no client is connected to the channel.
var ErrNotConnected = errors.New("no client connected to the channel")

// Exchanger carries one HTTP exchange to a connected client: the native
// Session and the LegacySession both are one.
type Exchanger interface {
	// Exchange sends the request and waits for the response head. The body
	// of the response is read from the returned ReadCloser, which the caller
	// must close.
	Exchange(ctx context.Context, head *RequestHead, body io.Reader) (*ResponseHead, io.ReadCloser, error)
	// Close ends the connection with a WebSocket close code and reason.
	Close(code int, reason string)
	// Done is closed when the connection has ended.
	Done() <-chan struct{}
}

var (
	_ Exchanger = (*Session)(nil)
	_ Exchanger = (*LegacySession)(nil)
)

// Exchange implements Exchanger on the native protocol.
func (s *Session) Exchange(ctx context.Context, head *RequestHead, body io.Reader) (*ResponseHead, io.ReadCloser, error) {
	st, rh, err := s.Open(ctx, head, body)
	if err != nil {
		return nil, nil, err
	}
	return rh, st, nil
}

// Hub holds the connected client of every channel on this node. It is safe
// for concurrent use; the server constructs one and passes it around.
type Hub struct {
	log   *slog.Logger
	mu    sync.Mutex
	conns map[string]attached
	// attached is told of every attach; set before the hub is used.
	onAttach func(channel string)
}

// attached is a channel's connection and who it was made for.
type attached struct {
	c     Exchanger
	owner string
}

// NewHub returns an empty hub.
func NewHub(log *slog.Logger) *Hub {
	return &Hub{log: log, conns: make(map[string]attached)}
}

// Attach makes c the connection of channel, closing any previous one (a
// laptop that slept leaves a half-open connection behind). owner says
// whom c serves (the channel's owner when it connected), so that Drop
// can tell it from a later owner's connection. owns, checked under the
// hub's lock, says whether owner still owns the channel: if not (it was
// released since c's claim), c is not attached, ok is false, and the
// connection there, perhaps the next owner's, is left alone. The returned
// function detaches c, unless a newer connection already replaced it.
func (h *Hub) Attach(channel, owner string, c Exchanger, owns func() bool) (detach func(), ok bool) {
	h.mu.Lock()
	if !owns() {
		h.mu.Unlock()
		return func() {}, false
	}
	old := h.conns[channel]
	h.conns[channel] = attached{c: c, owner: owner}
	h.mu.Unlock()
	if old.c != nil {
		h.log.Info("channel connection replaced", "channel", channel)
		old.c.Close(CloseReplaced, "replaced by a newer connection for this channel")
	}
	if h.onAttach != nil {
		h.onAttach(channel)
	}
	return func() {
		h.mu.Lock()
		if h.conns[channel].c == c {
			delete(h.conns, channel)
		}
		h.mu.Unlock()
	}, true
}

// OnAttach makes fn be called, without blocking, whenever a client attaches
// to a channel (so queued deliveries can start). Call it before the hub is
// used.
func (h *Hub) OnAttach(fn func(channel string)) { h.onAttach = fn }

// Connected reports whether a client is attached to channel.
func (h *Hub) Connected(channel string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns[channel].c != nil
}

// Exchange forwards one request to the client of channel.
func (h *Hub) Exchange(ctx context.Context, channel string, head *RequestHead, body io.Reader) (*ResponseHead, io.ReadCloser, error) {
	h.mu.Lock()
	c := h.conns[channel].c
	h.mu.Unlock()
	if c == nil {
		return nil, nil, fmt.Errorf("channel %s: %w", channel, ErrNotConnected)
	}
	return c.Exchange(ctx, head, body)
}

// Drop closes channel's connection if it has one made for owner, telling
// the client why; a connection of another owner stays. It reports whether
// one was closed.
func (h *Hub) Drop(channel, owner string, code int, reason string) bool {
	h.mu.Lock()
	a, ok := h.conns[channel]
	ok = ok && a.owner == owner
	if ok {
		delete(h.conns, channel)
	}
	h.mu.Unlock()
	if !ok {
		return false
	}
	a.c.Close(code, reason)
	return true
}

// CloseAll closes every connection, telling clients why.
func (h *Hub) CloseAll(code int, reason string) {
	h.mu.Lock()
	conns := make([]Exchanger, 0, len(h.conns))
	for _, a := range h.conns {
		conns = append(conns, a.c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.Close(code, reason)
	}
}

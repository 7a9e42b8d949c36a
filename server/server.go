// Package server assembles hookrelay's public HTTP server: the tunnel
// endpoints compatible with webhook-over-websocket (/new, /ws/{channel},
// /webhook/{channel}/...) and /healthz. It is the only package that
// imports echo.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// Channels is the registry of channels and their owner tokens.
type Channels interface {
	// Claim authorises a connection to channel name with token; issued is a
	// token created for a channel that did not exist before, and owner who
	// owns the channel now.
	Claim(name, token string) (issued string, owner store.Owner, err error)
	// CreateOpen creates a channel with a random name for legacy clients.
	CreateOpen() (name, token string, err error)
	// ClaimOpen authorises a legacy client, which has no token.
	ClaimOpen(name string) (store.Owner, error)
	// Exists reports whether a channel is registered.
	Exists(name string) bool
	// Owner is who owns a channel now, if it is registered.
	Owner(name string) (store.Owner, bool)
	// Mode is the channel's mode (store.ModeAuto, ...); empty if unset.
	Mode(name string) string
	// SetMode sets the channel's mode; empty restores the default.
	SetMode(name, mode string) error
	// Verify checks that token owns the channel, creating nothing.
	Verify(name, token string) error
	// List describes every channel.
	List() []store.ChannelInfo
	// Release forgets a channel and its owner's token, and returns that
	// owner.
	Release(name string) (store.Owner, error)
}

// Events is the event store as the server uses it.
type Events interface {
	store.Events
	// QueueLen is the number and size of a target's pending deliveries.
	QueueLen(target string) (n, bytes int64)
}

// PluginStates reports the state of each plugin process by name; the
// script runner is "exec".
type PluginStates interface {
	PluginStates() map[string]host.Status
}

// TaskOutputs gives the output so far of a task being run, from the
// plugin that runs it (the script runner for an exec target), and its live
// log.
type TaskOutputs interface {
	TaskOutput(ctx context.Context, target, taskID string) (string, error)
	// TaskLog is the task's live log from byte from of log logID, or the
	// next attempt's once that one is read to its end (see
	// host.Plugin.Log); a chunk with no ID when no plugin keeps one.
	TaskLog(ctx context.Context, target, taskID, logID string, from int64) (host.LogChunk, error)
}

// Deliveries drains the stored queues (a *delivery.Engine).
type Deliveries interface {
	// Kick tells it that a target may have work.
	Kick(target string)
	// Hold and Complete bracket an attempt made outside it; Release ends
	// a hold without an attempt to record.
	Hold(deliveryID string)
	Release(deliveryID string)
	Complete(ctx context.Context, d *store.Delivery, start time.Time, a *delivery.Answer, err error)
	// Policy is its retry policy; its Timeout bounds every attempt.
	Policy() delivery.Policy
	// Running reports whether a delivery is being attempted now.
	Running(deliveryID string) (since time.Time, ok bool)
	// Cancel ends a delivery for good: a waiting one dies at once, one being
	// attempted is stopped; delivery.ErrEnded for one that has ended,
	// delivery.ErrEnding for one whose outcome is being recorded.
	Cancel(ctx context.Context, deliveryID, by string) error
}

// Config configures a Server.
type Config struct {
	// SyncTimeout bounds the wait for the local app's response head.
	SyncTimeout time.Duration
	// MaxBody is the largest request body accepted, in bytes.
	MaxBody int64
	// ClientKey, when set, is required to create or connect any channel.
	ClientKey string
	// Session tunes the liveness checks of tunnel connections.
	Session tunnel.SessionOptions
	// TrustedProxies are the peers (say, the TLS-terminating proxy in front)
	// whose X-Forwarded-Proto and X-Forwarded-Host are passed on as set.
	TrustedProxies []netip.Prefix
	// NewChannelsPerMinute bounds how fast channels can be created, across
	// all clients (0: unbounded). Reconnects to existing channels never
	// count. It keeps an open server's registry from being flooded.
	NewChannelsPerMinute int
	// Version is sent to clients in the hello frame.
	Version string
	// Rules is the hooks file in force; nil serves no /hooks sources.
	Rules Rules
	// Events stores every request before it is acknowledged with 202.
	Events Events
	// Deliveries delivers what Events holds.
	Deliveries Deliveries
	// DefaultMode is the mode of channels that have none (store.ModeAuto).
	DefaultMode string
	// Plugins reports the plugin processes (nil: none).
	Plugins PluginStates
	// TaskOutputs, when set, shows a running task's output so far.
	TaskOutputs TaskOutputs
	// AdminToken grants the /api endpoints for every channel; channel
	// tokens grant them for their own channel. Empty: no admin.
	AdminToken string
	Log        *slog.Logger
}

// Server is hookrelay's HTTP server.
type Server struct {
	cfg      Config
	hub      *tunnel.Hub
	channels Channels
	echo     *echo.Echo
	upgrader websocket.Upgrader
	keyHash  [32]byte
	// creations limits new channels; nil when unbounded.
	creations *rate.Limiter
	// track counts tunnel connections, which outlive their HTTP handlers'
	// view of the server once hijacked, so shutdown can wait for them.
	track tracker
	// bg counts background deliveries, which shutdown lets finish.
	bg tracker
	// ctx ends every tunnel connection when the server shuts down.
	ctx    context.Context
	cancel context.CancelFunc
}

// New builds a server around a hub, a channel registry, and the event store
// and delivery engine in cfg, which are required.
func New(cfg Config, hub *tunnel.Hub, channels Channels) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DefaultMode == "" {
		cfg.DefaultMode = store.ModeAuto
	}
	s := &Server{cfg: cfg, hub: hub, channels: channels, keyHash: sha256.Sum256([]byte(cfg.ClientKey))}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if n := cfg.NewChannelsPerMinute; n > 0 {
		s.creations = rate.NewLimiter(rate.Every(time.Minute/time.Duration(n)), n)
	}
	s.upgrader = websocket.Upgrader{
		Subprotocols:    []string{tunnel.Subprotocol},
		ReadBufferSize:  64 << 10,
		WriteBufferSize: 64 << 10,
		// Channels are protected by tokens, not by origin: no browser
		// session is involved.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.recoverer, s.accessLog)
	e.GET("/healthz", s.health)
	e.GET("/new", s.newChannel)
	e.GET("/ws/:channel", s.connect)
	e.Any("/webhook/:channel", s.webhook)
	e.Any("/webhook/:channel/*", s.webhook)
	e.Any("/hooks/:source", s.hook)
	e.Any("/hooks/:source/*", s.hook)
	s.routesAPI(e)
	s.echo = e
	return s
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers on ln until ctx ends, then shuts down gracefully: clients
// are told the server is going away, requests in flight get up to grace to
// finish, and Serve returns once every connection has ended.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if serr := hs.Shutdown(sctx); errors.Is(serr, context.DeadlineExceeded) {
		_ = hs.Close()
	}
	// Deliveries in flight get the rest of the grace period; then every
	// tunnel is told the server is going away, and Serve waits for them.
	s.bg.closeAndWait(sctx)
	s.cancel()
	s.track.closeAndWait(context.Background())
	s.bg.closeAndWait(context.Background())
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// mayCreate reports whether a new channel may be created now.
func (s *Server) mayCreate() bool {
	return s.creations == nil || s.creations.Allow()
}

// errTooManyChannels answers a creation over the limit.
var errTooManyChannels = echo.NewHTTPError(http.StatusTooManyRequests, "too many new channels on this server just now; try again in a minute")

// clientKeyOK checks the shared client key, when the server has one.
func (s *Server) clientKeyOK(r *http.Request) bool {
	if s.cfg.ClientKey == "" {
		return true
	}
	got := sha256.Sum256([]byte(r.Header.Get(tunnel.HeaderClientKey)))
	return subtle.ConstantTimeCompare(got[:], s.keyHash[:]) == 1
}

// errClientKey is the refusal of a request without the client key: none
// given, or another.
func (s *Server) errClientKey(r *http.Request) error {
	if r.Header.Get(tunnel.HeaderClientKey) == "" {
		return echo.NewHTTPError(http.StatusUnauthorized, "this server requires a client key (--client-key)")
	}
	return echo.NewHTTPError(http.StatusUnauthorized, "wrong client key (--client-key): it is not this server's")
}

func (s *Server) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

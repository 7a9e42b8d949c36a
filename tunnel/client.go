package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/hookrelay/hookrelay/store"
)

// Header names of the tunnel handshake.
const (
	// HeaderToken carries a newly issued channel token in the upgrade
	// response; the client stores it and presents it as a bearer token.
	HeaderToken = "Hookrelay-Token"
	// HeaderClientKey carries the server's shared client key, when it has one.
	HeaderClientKey = "Hookrelay-Client-Key"
	// HeaderMode sets the channel's mode (auto, sync, async) on connect.
	HeaderMode = "Hookrelay-Mode"
)

// ErrRefused wraps every error that retrying cannot fix: a wrong token, a
// missing client key, a bad URL. The client stops on it.
var ErrRefused = errors.New("refused by the server")

// TokenStore remembers channel tokens and the default channel per server.
type TokenStore interface {
	Get(server, channel string) (string, error)
	Put(server, channel, token string) error
	DefaultChannel(server string) (string, error)
	SetDefaultChannel(server, channel string) error
}

// ClientConfig configures a Client.
type ClientConfig struct {
	// Server is the public base URL of hookrelay server.
	Server *url.URL
	// Target is the local app; its path is kept as a prefix.
	Target *url.URL
	// Channel to claim or connect; empty asks the server for a new one once
	// and remembers it, so the URL stays the same across restarts.
	Channel string
	// Token overrides the stored token of the channel.
	Token string
	// ClientKey is the server's shared client key, if it requires one.
	ClientKey string
	// Mode, when set, becomes the channel's mode on the server: how
	// webhooks are answered, and queued, while this client is away too.
	Mode string
	// Concurrency bounds requests in flight to the local app.
	Concurrency int
	Tokens      TokenStore
	Session     SessionOptions
	// MinBackoff and MaxBackoff bound the wait between reconnects.
	MinBackoff, MaxBackoff time.Duration
	// Out receives the human-readable lines (connected, one per delivery).
	Out io.Writer
	// Quiet drops the per-delivery lines but those of failures.
	Quiet bool
	Log   *slog.Logger
}

// Client keeps a tunnel to hookrelay server open and replays what arrives
// against the local app.
type Client struct {
	cfg   ClientConfig
	local *http.Client
	slots chan struct{}
	// bufs recycles the buffers that copy response bodies into streams.
	bufs  sync.Pool
	outMu sync.Mutex
}

// NewClient checks cfg and returns a client; Run starts it.
func NewClient(cfg ClientConfig) (*Client, error) {
	for _, f := range []struct {
		name, example string
		u             *url.URL
	}{{"--server", "https://hooks.example.com", cfg.Server}, {"--to", "http://localhost:3000", cfg.Target}} {
		if f.u == nil {
			return nil, fmt.Errorf("%s is required", f.name)
		}
		if (f.u.Scheme != "http" && f.u.Scheme != "https") || f.u.Host == "" {
			return nil, fmt.Errorf("%s %q: want an http:// or https:// URL with a host, e.g. %s", f.name, f.u, f.example)
		}
	}
	if cfg.Target.RawQuery != "" {
		return nil, fmt.Errorf("--to %q: a query would be dropped: each request's own query is passed on", cfg.Target)
	}
	if cfg.Channel != "" && !store.ValidName(cfg.Channel) {
		return nil, fmt.Errorf("--channel %.64q: %s", cfg.Channel, store.NameRule)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 32
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true // the sender gets the app's bytes as they are
	tr.MaxIdleConnsPerHost = cfg.Concurrency
	tr.Proxy = nil // the target is local
	local := &http.Client{
		Transport: tr,
		// The sender sees the 3xx: the tunnel never follows redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c := &Client{cfg: cfg, local: local, slots: make(chan struct{}, cfg.Concurrency)}
	c.bufs.New = func() any { b := make([]byte, ChunkSize); return &b }
	return c, nil
}

// printf writes one human-readable line.
func (c *Client) printf(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.cfg.Out, format+"\n", args...)
}

// Run connects and reconnects until ctx ends (nil) or the server refuses
// the client (an error wrapping ErrRefused).
func (c *Client) Run(ctx context.Context) error {
	channel, err := c.resolveChannel()
	if err != nil {
		return err
	}
	token := c.cfg.Token
	if token == "" && c.cfg.Tokens != nil {
		if token, err = c.cfg.Tokens.Get(c.serverKey(), channel); err != nil {
			return fmt.Errorf("reading stored token: %w", err)
		}
	}
	claiming := false
	if token == "" && c.cfg.Tokens != nil {
		// Make the token here and store it before the first connect: the
		// server adopts it for a new channel, so a handshake lost on the
		// way can never leave a channel owned by a token nobody holds.
		if token, err = store.NewToken(); err != nil {
			return err
		}
		if err := c.cfg.Tokens.Put(c.serverKey(), channel, token); err != nil {
			return fmt.Errorf("storing channel token: %w", err)
		}
		claiming = true
	}
	c.printf("Forwarding %s -> %s", c.publicURL(channel), c.cfg.Target.Redacted())
	connectedBefore := false
	attempt := 0
	for {
		start := time.Now()
		sess, issued, err := c.dial(ctx, channel, token)
		if err == nil {
			if issued != "" {
				token = issued
				if c.cfg.Tokens != nil {
					if err := c.cfg.Tokens.Put(c.serverKey(), channel, issued); err != nil {
						sess.Close(websocket.CloseNormalClosure, "client could not store its token")
						return fmt.Errorf("storing channel token: %w", err)
					}
				}
				c.printf("Claimed channel %s; its token is stored for the next runs", channel)
			} else if claiming && !connectedBefore {
				c.printf("Claimed channel %s; its token is stored for the next runs", channel)
			}
			again := connectedBefore
			sess.OnHello(func(string) {
				// Only now is the channel attached at the server.
				if again {
					c.printf("%s reconnected", clock())
				} else {
					c.printf("%s connected", clock())
				}
			})
			connectedBefore = true
			err = sess.Run(ctx)
			if ctx.Err() != nil {
				return nil
			}
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == CloseReplaced {
				return fmt.Errorf("%w: another client took over channel %s", ErrRefused, channel)
			}
			if errors.As(err, &ce) && ce.Code == CloseReleased {
				c.forgetStoredToken(channel) // it owns nothing any more
				return fmt.Errorf("%w: channel %s was released (by the server's admin or its own token); the name is free for the next client to claim", ErrRefused, channel)
			}
			c.printf("%s disconnected: %v", clock(), err)
			if time.Since(start) > 10*time.Second {
				attempt = 0
			}
		} else {
			if errors.Is(err, ErrRefused) || ctx.Err() != nil {
				if claiming && !connectedBefore && c.cfg.Tokens != nil {
					// The token made for this claim never owned anything.
					_ = c.cfg.Tokens.Put(c.serverKey(), channel, "")
				}
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			// Its line is printed once; each retry is the log's at debug.
			c.cfg.Log.Debug("connect failed", "channel", channel, "attempt", attempt+1, "err", err)
			if attempt == 0 {
				c.printf("%s cannot reach the server, retrying: %v", clock(), err)
			}
		}
		wait := c.backoff(attempt)
		attempt++
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// backoff is a full-jitter exponential wait.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.MaxBackoff
	if attempt < 20 {
		d = min(c.cfg.MinBackoff<<attempt, c.cfg.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// dial opens one session; issued is a token the server just issued.
func (c *Client) dial(ctx context.Context, channel, token string) (*Session, string, error) {
	u := c.endpoint("/ws/" + url.PathEscape(channel))
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if c.cfg.ClientKey != "" {
		h.Set(HeaderClientKey, c.cfg.ClientKey)
	}
	if c.cfg.Mode != "" {
		h.Set(HeaderMode, c.cfg.Mode)
	}
	d := websocket.Dialer{
		Subprotocols:     []string{Subprotocol},
		HandshakeTimeout: 15 * time.Second,
		ReadBufferSize:   64 << 10,
		WriteBufferSize:  64 << 10,
	}
	conn, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			msg := serverMessage(resp)
			switch resp.StatusCode {
			case http.StatusGone:
				if resp.Header.Get(HeaderReleased) == "" {
					break // not hookrelay's word: a proxy's
				}
				// Released while this client was away: its token owns
				// nothing any more, and a new run claims the name anew.
				c.forgetStoredToken(channel)
				return nil, "", fmt.Errorf("%w: %s; this client's stored token is forgotten, so running it again claims the name anew (HTTP %d)", ErrRefused, msg, resp.StatusCode)
			case http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest:
				if !strings.Contains(msg, "channel "+channel) {
					msg = "channel " + channel + ": " + msg
				}
				return nil, "", fmt.Errorf("%w: %s (HTTP %d)", ErrRefused, msg, resp.StatusCode)
			}
			return nil, "", fmt.Errorf("connecting to %s: %s (HTTP %d)", c.cfg.Server, msg, resp.StatusCode)
		}
		return nil, "", fmt.Errorf("connecting to %s: %w", c.cfg.Server, err)
	}
	if conn.Subprotocol() != Subprotocol {
		conn.Close()
		return nil, "", fmt.Errorf("%w: the server does not speak %s", ErrRefused, Subprotocol)
	}
	sess := NewSession(conn, c.cfg.Session, c.cfg.Log, func(st *Stream, head *RequestHead) {
		c.serve(st, head)
	})
	return sess, resp.Header.Get(HeaderToken), nil
}

// serverMessage reads the error a refusing server explains itself with.
func serverMessage(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	if s := strings.TrimSpace(string(b)); s != "" {
		return s
	}
	return http.StatusText(resp.StatusCode)
}

// resolveChannel returns the configured channel, or the one this client
// chose earlier for this server, or chooses a new random one and remembers
// it, so that the URL stays the same across restarts. (Channels from the
// server's /new accept token-less legacy clients; ours never do.)
func (c *Client) resolveChannel() (string, error) {
	if c.cfg.Channel != "" {
		return c.cfg.Channel, nil
	}
	if c.cfg.Tokens == nil {
		return uuid.NewString(), nil
	}
	ch, err := c.cfg.Tokens.DefaultChannel(c.serverKey())
	if err != nil {
		return "", fmt.Errorf("reading stored channel: %w", err)
	}
	if ch != "" {
		return ch, nil
	}
	ch = uuid.NewString()
	if err := c.cfg.Tokens.SetDefaultChannel(c.serverKey(), ch); err != nil {
		return "", fmt.Errorf("storing channel: %w", err)
	}
	return ch, nil
}

func (c *Client) serverKey() string { return c.cfg.Server.String() }

// forgetStoredToken drops channel's token from the tokens file once it
// owns the channel no more (released). A token given with --token is not
// the stored one, which is then left alone.
func (c *Client) forgetStoredToken(channel string) {
	if c.cfg.Tokens != nil && c.cfg.Token == "" {
		_ = c.cfg.Tokens.Put(c.serverKey(), channel, "")
	}
}

// endpoint is a path under the server's base URL.
func (c *Client) endpoint(path string) *url.URL {
	u := *c.cfg.Server
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = ""
	return &u
}

// publicURL is the webhook URL to paste into GitHub, Stripe or Slack.
func (c *Client) publicURL(channel string) string {
	return c.endpoint("/webhook/" + url.PathEscape(channel)).String()
}

func clock() string { return time.Now().Format("15:04:05") }

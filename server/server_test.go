package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/store/sqlite"
	"github.com/hookrelay/hookrelay/tunnel"
)

func TestTargetOf(t *testing.T) {
	tests := []struct {
		url, want string
		bad       bool
	}{
		{"/webhook/alice", "", false},
		{"/webhook/alice/", "/", false},
		{"/webhook/alice/github", "/github", false},
		{"/webhook/alice/a%2Fb/c?x=1&y=%20", "/a%2Fb/c?x=1&y=%20", false},
		{"/webhook/alice?only=query", "?only=query", false},
		{"/webhook/alice/x?", "/x?", false},
		{"/webhook/alice/a..b/.well-known", "/a..b/.well-known", false},
		{"/webhook/alice/../../admin", "", true},
		{"/webhook/alice/x/%2e%2E/admin", "", true},
		{"/webhook/alice/./x", "", true},
		{"/webhook/alice/%2e%2e%2fadmin", "", true},
		{"/webhook/alice/..%2Fadmin", "", true},
		{"/webhook/alice/x/..%5Cadmin", "", true},
		{"/webhook/alice/a%2Fb", "/a%2Fb", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.url, nil)
			got, err := targetOf(r)
			if (err != nil) != tt.bad || got != tt.want {
				t.Fatalf("targetOf(%s) = %q, %v; want %q, error %v", tt.url, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestLimitReader(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		limit    int64
		wantOver bool
	}{
		{"under", 10, 11, false},
		{"exactly", 11, 11, false},
		{"one over", 12, 11, true},
		{"empty", 0, 11, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &limitReader{r: iotest.OneByteReader(bytes.NewReader(make([]byte, tt.size))), n: tt.limit}
			b, err := io.ReadAll(l)
			if l.over.Load() != tt.wantOver || (err != nil) != tt.wantOver {
				t.Fatalf("over=%v err=%v, want over=%v", l.over.Load(), err, tt.wantOver)
			}
			if !tt.wantOver && len(b) != tt.size {
				t.Fatalf("read %d bytes, want %d", len(b), tt.size)
			}
		})
	}
}

// rig is a server and a connected client in this process, on loopback.
type rig struct {
	url string
	srv *Server
}

func newRig(tb testing.TB, target string, cfg Config, client ...func(*tunnel.ClientConfig)) *rig {
	tb.Helper()
	channels, err := store.OpenChannels(filepath.Join(tb.TempDir(), "channels.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.SyncTimeout == 0 {
		cfg.SyncTimeout = 9 * time.Second
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 25 << 20
	}
	cfg.Session = tunnel.DefaultSessionOptions()
	if cfg.DefaultMode == "" {
		cfg.DefaultMode = store.ModeSync // most tests here are about the tunnel itself
	}
	hub := tunnel.NewHub(slog.New(slog.DiscardHandler))
	events, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	engine := delivery.New(events, map[string]delivery.Sender{"tunnel": delivery.TunnelSender{Hub: hub}}, rigPolicy(), nil)
	hub.OnAttach(engine.KickChannel)
	cfg.Events, cfg.Deliveries = events, engine
	ectx, stopEngine := context.WithCancel(context.Background())
	engineDone := make(chan struct{})
	go func() { defer close(engineDone); _ = engine.Run(ectx) }()
	tb.Cleanup(func() { stopEngine(); <-engineDone; events.Close() })
	srv := New(cfg, hub, channels)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ctx, ln, time.Second) }()
	r := &rig{url: "http://" + ln.Addr().String(), srv: srv}

	su, _ := url.Parse(r.url)
	tu, _ := url.Parse(target)
	out := &syncBuffer{ready: make(chan struct{})}
	cc := tunnel.ClientConfig{Server: su, Target: tu, Channel: "bench", Quiet: true, Out: out,
		Tokens: store.OpenTokens(filepath.Join(tb.TempDir(), "tokens.json")), Session: tunnel.DefaultSessionOptions()}
	for _, f := range client {
		f(&cc)
	}
	c, err := tunnel.NewClient(cc)
	if err != nil {
		tb.Fatal(err)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = c.Run(cctx) }()
	tb.Cleanup(func() { ccancel(); <-ran; cancel(); <-served })
	select {
	case <-out.ready:
	case <-time.After(10 * time.Second):
		tb.Fatal("client did not connect")
	}
	return r
}

// rigPolicy retries fast, so tests of retries take milliseconds.
func rigPolicy() delivery.Policy {
	return delivery.Policy{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxAttempts: 5, MaxAge: time.Hour, Timeout: 5 * time.Second}
}

// syncBuffer closes ready when the client prints that it is connected.
type syncBuffer struct {
	ready chan struct{}
	done  bool
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	if !s.done && strings.HasSuffix(strings.TrimSpace(string(p)), " connected") {
		s.done = true
		close(s.ready)
	}
	return len(p), nil
}

func TestServerInProcess(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answer before reading the body: the sender must still get it all
		// through, and the answer must arrive whole.
		w.Header().Set("X-Early", "1")
		w.WriteHeader(http.StatusAccepted)
		n, _ := io.Copy(io.Discard, r.Body)
		io.WriteString(w, strings.Repeat("z", int(n%1000)))
	}))
	defer app.Close()
	r := newRig(t, app.URL, Config{})
	body := bytes.Repeat([]byte("a"), 3<<20+7)
	resp, err := http.Post(r.url+"/webhook/bench/early", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Early") != "1" || len(got) != len(body)%1000 {
		t.Fatalf("got %d, %d bytes, X-Early %q", resp.StatusCode, len(got), resp.Header.Get("X-Early"))
	}
}

// An unread body on a full-duplex request must not break the next request
// on the same keep-alive connection (golang/go#68560).
func TestUnreadBodyKeepsConnectionUsable(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer app.Close()
	r := newRig(t, app.URL, Config{})
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	for i := range 50 {
		resp, err := client.Post(r.url+"/webhook/nobody/x", "application/json", strings.NewReader(`{"n":1}`))
		if err != nil {
			t.Fatalf("request %d on a reused connection: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("request %d: status %d, want 503", i, resp.StatusCode)
		}
	}
}

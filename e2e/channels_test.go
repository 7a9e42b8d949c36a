package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// expectEcho sends body to url and wants it back with 200.
func expectEcho(t *testing.T, url, body string) {
	t.Helper()
	resp, got := send(t, "POST", url, []byte(body), nil)
	if resp.StatusCode != 200 || string(got) != body {
		t.Fatalf("POST %s: %d %q, want 200 %q", url, resp.StatusCode, got, body)
	}
}

// forwardingURL is the webhook URL a client printed.
func forwardingURL(t *testing.T, c *client) string {
	t.Helper()
	line, _ := c.waitLine("Forwarding ", 0, 20*time.Second)
	f := strings.Fields(line)
	return f[1]
}

func TestClientRestartKeepsURL(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "")
	tokens := t.TempDir()

	tests := []struct {
		name string
		args []string
	}{
		{"channel from /new", nil},
		{"named channel", []string{"--channel", "carol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c1 := startClient(t, tokens, srv.url, a.URL, tt.args...)
			url1 := forwardingURL(t, c1)
			c1.connected(1)
			expectEcho(t, url1+"/first", "one")
			c1.signal(syscall.SIGINT)
			if code := c1.wait(10 * time.Second); code != 0 {
				t.Fatalf("client exit code %d", code)
			}

			c2 := startClient(t, tokens, srv.url, a.URL, tt.args...)
			url2 := forwardingURL(t, c2)
			c2.connected(1)
			if url1 != url2 {
				t.Fatalf("URL changed across restarts: %s then %s", url1, url2)
			}
			expectEcho(t, url2+"/second", "two")
		})
	}
}

func TestWrongTokenIsRefused(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "")
	owner := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "dave")
	owner.connected(1)

	tests := []struct {
		name string
		args []string
		says string
	}{
		{"another client's token", []string{"--channel", "dave"}, "owned by another token"},
		{"wrong token", []string{"--channel", "dave", "--token", "hrt_" + strings.Repeat("A", 43)}, "owned by another token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens := t.TempDir()
			thief := startClient(t, tokens, srv.url, a.URL, tt.args...)
			if code := thief.wait(20 * time.Second); code != 1 {
				t.Fatalf("exit code %d, want 1", code)
			}
			// The token it made for its failed claim is not kept.
			if b, _ := os.ReadFile(filepath.Join(tokens, "tokens.json")); bytes.Contains(b, []byte(`"dave"`)) {
				t.Fatalf("a refused claim left a token behind: %s", b)
			}
			if !strings.Contains(thief.stderr(), tt.says) {
				t.Fatalf("stderr %q does not say %q", thief.stderr(), tt.says)
			}
		})
	}
	// The owner was not disturbed.
	expectEcho(t, srv.url+"/webhook/dave/still-mine", "yes")
	if strings.Contains(srv.stderr(), "hrt_") {
		t.Fatal("a token appeared in the server log")
	}
}

// The server restarts on the same data and port: the channel and its
// token survive, and the running client reconnects by itself.
func TestServerRestartKeepsChannel(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "erin")
	c.connected(1)
	expectEcho(t, srv.url+"/webhook/erin/before", "before")

	srv.signal(syscall.SIGTERM)
	if code := srv.wait(15 * time.Second); code != 0 {
		t.Fatalf("server exit code %d after SIGTERM", code)
	}
	c.waitLine("disconnected", 0, 10*time.Second)

	addr := strings.TrimPrefix(srv.url, "http://")
	srv2 := startServer(t, srv.data, "--listen", addr)
	if srv2.url != srv.url {
		t.Fatalf("restarted on %s, want %s", srv2.url, srv.url)
	}
	c.connected(2)
	expectEcho(t, srv.url+"/webhook/erin/after", "after")

	// The restarted server still knows who owns the channel.
	thief := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "erin")
	if code := thief.wait(20 * time.Second); code != 1 {
		t.Fatalf("client without the token: exit code %d, want 1", code)
	}
}

// A client killed without a goodbye is replaced by its restarted self.
func TestClientKilledAndRestarted(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "")
	tokens := t.TempDir()
	c1 := startClient(t, tokens, srv.url, a.URL, "--channel", "frank")
	c1.connected(1)
	c1.signal(syscall.SIGKILL)
	c1.wait(10 * time.Second)

	c2 := startClient(t, tokens, srv.url, a.URL, "--channel", "frank")
	c2.connected(1)
	expectEcho(t, srv.url+"/webhook/frank/back", "back")
}

// A newer connection with the token takes the channel over; the older
// client stops with a message instead of fighting for it.
func TestNewerClientTakesOver(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "")
	tokens := t.TempDir()
	c1 := startClient(t, tokens, srv.url, a.URL, "--channel", "gina")
	c1.connected(1)
	c2 := startClient(t, tokens, srv.url, a.URL, "--channel", "gina")
	c2.connected(1)
	if code := c1.wait(20 * time.Second); code != 1 || !strings.Contains(c1.stderr(), "took over") {
		t.Fatalf("older client: exit code %d, stderr %q", code, c1.stderr())
	}
	expectEcho(t, srv.url+"/webhook/gina/x", "newest")
}

func TestClientKey(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "", "--client-key", "k3y-for-tests")

	resp, body := send(t, "GET", srv.url+"/new", nil, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(errorOf(t, body), "client key") {
		t.Fatalf("/new without key: %d %s", resp.StatusCode, body)
	}
	keyless := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "hank")
	if code := keyless.wait(20 * time.Second); code != 1 || !strings.Contains(keyless.stderr(), "client key") {
		t.Fatalf("client without key: exit code %d, stderr %q", code, keyless.stderr())
	}
	c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "hank", "--client-key", "k3y-for-tests")
	c.connected(1)
	expectEcho(t, srv.url+"/webhook/hank/x", "keyed")
	if strings.Contains(srv.stderr(), "k3y-for-tests") {
		t.Fatal("the client key appeared in the server log")
	}
}

// freezer is a TCP proxy whose connections can be frozen: bytes stop
// flowing but nothing is closed, as when a laptop sleeps.
type freezer struct {
	ln     net.Listener
	mu     sync.Mutex
	frozen bool
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
	})
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, in, out)
			f.mu.Unlock()
			go f.pipe(in, out)
			go f.pipe(out, in)
		}
	}()
	return f
}

// pipe copies until the connection is frozen, then holds it open silently.
func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		f.mu.Lock()
		frozen := f.frozen
		f.mu.Unlock()
		if frozen {
			return // drop the bytes; keep both sockets open
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

// freeze stops the current connections; new ones flow normally.
func (f *freezer) freeze() {
	f.mu.Lock()
	f.frozen = true
	f.mu.Unlock()
}

func (f *freezer) thaw() {
	f.mu.Lock()
	f.frozen = false
	f.mu.Unlock()
}

func TestHalfOpenConnectionIsDetected(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "")
	proxy := newFreezer(t, strings.TrimPrefix(srv.url, "http://"))
	c := startClient(t, t.TempDir(), "http://"+proxy.ln.Addr().String(), a.URL, "--channel", "ivy")
	c.connected(1)
	proxy.freeze()
	start := time.Now()
	c.waitLine("disconnected", 0, 15*time.Second)
	t.Logf("half-open connection detected after %s (read timeout 3s)", time.Since(start).Round(100*time.Millisecond))
	proxy.thaw()
	c.connected(2)
	expectEcho(t, srv.url+"/webhook/ivy/awake", "awake")
}

// A client written here from the webhook-over-websocket protocol: GET /new,
// a WebSocket with no subprotocol, JSON {"req_id","payload"} text messages
// whose payload is the base64 of a raw HTTP/1.1 request or response.
func TestLegacyClient(t *testing.T) {
	// Sync, as webhook-over-websocket answers: the readiness probe below
	// must not be queued.
	srv := startServer(t, "", "--default-mode", "sync")
	resp, body := send(t, "GET", srv.url+"/new", nil, nil)
	var nc struct {
		ChannelID string `json:"channel_id"`
	}
	if err := json.Unmarshal(body, &nc); err != nil || resp.StatusCode != 200 || len(nc.ChannelID) != 36 {
		t.Fatalf("/new: %d %s", resp.StatusCode, body)
	}
	legacyExchanges(t, srv, nc.ChannelID)
	// It reconnects, without a token, after a server restart.
	srv.signal(syscall.SIGTERM)
	srv.wait(15 * time.Second)
	srv = startServer(t, srv.data, "--listen", strings.TrimPrefix(srv.url, "http://"), "--default-mode", "sync")
	legacyExchanges(t, srv, nc.ChannelID)
	// A UUID the client chose itself works too; a plain name needs a token.
	legacyExchanges(t, srv, "5f0c6f5e-7a3b-4d2e-9c1f-8b7a6d5e4c3b")
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+strings.TrimPrefix(srv.url, "http://")+"/ws/plainname", nil); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("legacy client on a plain name: err %v", err)
	}
}

// legacyExchanges connects a legacy client to channel and checks three
// exchanges through it.
func legacyExchanges(t *testing.T, srv *server, channel string) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+strings.TrimPrefix(srv.url, "http://")+"/ws/"+channel, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		for {
			var m struct {
				ReqID   string `json:"req_id"`
				Payload []byte `json:"payload"`
			}
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(m.Payload)))
			if err != nil {
				return
			}
			b, _ := io.ReadAll(req.Body)
			answer := fmt.Sprintf("%s %s %s", req.Method, req.URL.RequestURI(), b)
			raw := fmt.Sprintf("HTTP/1.1 202 Accepted\r\nX-Legacy: yes\r\nContent-Length: %d\r\n\r\n%s", len(answer), answer)
			m.Payload = []byte(raw)
			if err := conn.WriteJSON(m); err != nil {
				return
			}
		}
	}()
	tests := []struct{ suffix, uri string }{
		{"/legacy/1?q=1", "/legacy/1?q=1"},
		{"", "/"}, // the URL legacy clients tell users to paste
		{"?x=1", "/?x=1"},
	}
	// The legacy protocol has no hello: the dial returns before the server
	// has attached the channel, so wait until it has.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := send(t, "GET", srv.url+"/webhook/"+channel+"/ready", nil, nil)
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, tt := range tests {
		resp, got := send(t, "POST", srv.url+"/webhook/"+channel+tt.suffix, []byte(fmt.Sprintf(`{"n":%d}`, i)), nil)
		want := fmt.Sprintf(`POST %s {"n":%d}`, tt.uri, i)
		if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Legacy") != "yes" || string(got) != want {
			t.Fatalf("legacy exchange %q: %d %q, want 202 %q", tt.suffix, resp.StatusCode, got, want)
		}
	}
}

// The channel a client picks for itself is owned by its token: a
// connection without it, legacy or not, cannot take it over.
func TestDefaultChannelCannotBeTakenOver(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, a.URL)
	url := forwardingURL(t, c)
	c.connected(1)
	channel := url[strings.LastIndex(url, "/")+1:]
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+strings.TrimPrefix(srv.url, "http://")+"/ws/"+channel, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("token-less connection to %s: err %v", channel, err)
	}
	expectEcho(t, url+"/still-mine", "mine")
}

// A second server on a data directory in use refuses to start, saying
// so: two would deliver the same queues twice.
func TestSecondServerOnTheSameDataRefuses(t *testing.T) {
	first := startServer(t, "")
	second := start(t, "server", nil, "server", "--listen", "127.0.0.1:0", "--data", first.data)
	if code := second.wait(10 * time.Second); code != 1 {
		t.Fatalf("second server exit code %d, want 1", code)
	}
	if !strings.Contains(second.stderr(), "in use by another hookrelay server (pid ") {
		t.Errorf("second server said: %s", second.stderr())
	}
	first.signal(syscall.SIGTERM)
	if code := first.wait(15 * time.Second); code != 0 {
		t.Fatalf("first server exit code %d", code)
	}
	again := startServer(t, first.data) // the lock died with the first
	again.signal(syscall.SIGTERM)
	again.wait(15 * time.Second)
}

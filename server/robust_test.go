package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/tunnel"
)

// An app that answers before reading the body (401, 413…) must have its
// whole answer reach the sender.
func TestEarlyAnswerReachesSender(t *testing.T) {
	answer := `{"error":"bad signature","detail":"` + strings.Repeat("x", 3000) + `"}`
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, answer)
	}))
	defer app.Close()
	r := newRig(t, app.URL, Config{})
	body := bytes.Repeat([]byte("b"), 5<<20)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			resp, err := http.Post(r.url+"/webhook/bench/x", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				errs <- fmt.Errorf("request %d: %v", i, err)
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusUnauthorized || string(got) != answer {
				errs <- fmt.Errorf("request %d: %d, %d of %d bytes, %v", i, resp.StatusCode, len(got), len(answer), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Headers too large for one frame get 431, and the tunnel, with the other
// requests on it, carries on.
func TestHugeHeadersDoNotBreakTheTunnel(t *testing.T) {
	release := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "ok")
	}))
	defer app.Close()
	r := newRig(t, app.URL, Config{})
	slow := make(chan int, 1)
	go func() {
		resp, err := http.Get(r.url + "/webhook/bench/slow")
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond)
	req, _ := http.NewRequest("GET", r.url+"/webhook/bench/big", nil)
	for i := range 2 {
		req.Header.Set(fmt.Sprintf("X-Big-%d", i), strings.Repeat("h", 524_250))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("huge headers: status %d, want 431", resp.StatusCode)
	}
	close(release)
	if code := <-slow; code != http.StatusOK {
		t.Fatalf("the request in flight got %d, want 200", code)
	}
}

// When the sender hangs up while the answer streams, the local app's
// request is cancelled and the server lets go.
func TestSenderGoneCancelsLocalRequest(t *testing.T) {
	cancelled := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(20 * time.Second):
		}
	}))
	defer app.Close()
	r := newRig(t, app.URL, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", r.url+"/webhook/bench/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != "first\n" {
		t.Fatalf("streamed answer: %q, %v (not flushed?)", line, err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the local app's request was not cancelled after the sender left")
	}
}

// Senders that stall mid-body cannot hold the client's slots: they are cut
// at the sync timeout and an honest sender gets through.
func TestStalledSendersDoNotBlockTheChannel(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	defer app.Close()
	r := newRig(t, app.URL, Config{SyncTimeout: time.Second}, func(c *tunnel.ClientConfig) { c.Concurrency = 2 })
	addr := strings.TrimPrefix(r.url, "http://")
	for range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /webhook/bench/stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part")
	}
	time.Sleep(2500 * time.Millisecond) // past the 1 s cut, with room for a loaded machine
	resp, err := http.Post(r.url+"/webhook/bench/honest", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("honest sender got %d behind stalled ones, want 200", resp.StatusCode)
	}
}

// A request that cannot be upgraded must not claim the channel.
func TestFailedUpgradeClaimsNothing(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer app.Close()
	r := newRig(t, app.URL, Config{})
	tests := []struct {
		name   string
		header map[string]string
	}{
		{"no upgrade at all", map[string]string{"Sec-WebSocket-Protocol": tunnel.Subprotocol}},
		{"bad key", map[string]string{"Sec-WebSocket-Protocol": tunnel.Subprotocol, "Connection": "Upgrade", "Upgrade": "websocket",
			"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "not-base64-of-16-bytes"}},
		{"old version", map[string]string{"Sec-WebSocket-Protocol": tunnel.Subprotocol, "Connection": "Upgrade", "Upgrade": "websocket",
			"Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			channel := fmt.Sprintf("carol%d", i)
			req, _ := http.NewRequest("GET", r.url+"/ws/"+channel, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
			if r.srv.channels.(interface{ Exists(string) bool }).Exists(channel) {
				t.Fatal("a failed upgrade claimed the channel")
			}
		})
	}
}

// An app may answer before a small body has even arrived; the answer
// stands.
func TestEarlyAnswerBeforeSmallSlowBody(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Full duplex: answer without first draining the body, as apps on
		// servers other than Go's HTTP/1 do.
		_ = http.NewResponseController(w).EnableFullDuplex()
		defer r.Body.Close() // golang/go#68560, in this app's server
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "no")
		w.(http.Flusher).Flush()
	}))
	defer app.Close()
	r := newRig(t, app.URL, Config{})
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("0123456789"))
		time.Sleep(300 * time.Millisecond)
		pw.Write(bytes.Repeat([]byte("x"), 90))
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", r.url+"/webhook/bench/slow-body", pr)
	req.ContentLength = 100
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || string(b) != "no" {
		t.Fatalf("got %d %q, want 401 \"no\"", resp.StatusCode, b)
	}
}

// An answer to a body-less request may take longer than the sync timeout
// once its head is back; it must arrive whole.
func TestLongAnswerToBodylessRequest(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(w, "second\n")
	}))
	defer app.Close()
	r := newRig(t, app.URL, Config{SyncTimeout: time.Second})
	resp, err := http.Get(r.url + "/webhook/bench/long")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "first\nsecond\n" {
		t.Fatalf("got %q, %v", b, err)
	}
}

// New channels are rate-limited; reconnects to existing ones are not.
func TestNewChannelRateLimit(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer app.Close()
	// The rig's own client creates "bench", the first of two allowed.
	r := newRig(t, app.URL, Config{NewChannelsPerMinute: 2})
	get := func(path string) int {
		resp, err := http.Get(r.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/new"); code != http.StatusOK {
		t.Fatalf("second new channel: %d, want 200", code)
	}
	if code := get("/new"); code != http.StatusTooManyRequests {
		t.Fatalf("third new channel: %d, want 429", code)
	}
	// An existing channel is still reachable and its client still connected.
	if code := get("/webhook/bench/x"); code != http.StatusOK {
		t.Fatalf("existing channel: %d, want 200", code)
	}
}

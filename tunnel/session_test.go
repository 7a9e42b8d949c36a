package tunnel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// pair connects a server-side session (which opens streams) to a client
// side one whose streams are served by accept, over a real loopback
// WebSocket.
func pair(t *testing.T, opts SessionOptions, accept AcceptFunc) *Session {
	t.Helper()
	got := make(chan *Session, 1)
	up := websocket.Upgrader{Subprotocols: []string{Subprotocol}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s := NewSession(conn, opts, slog.New(slog.DiscardHandler), nil)
		got <- s
		_ = s.Run(context.Background())
	}))
	t.Cleanup(ts.Close)
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := NewSession(conn, opts, slog.New(slog.DiscardHandler), accept)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = cs.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return <-got
}

// echoAccept answers every stream with the SHA-256 of its body.
func echoAccept(st *Stream, head *RequestHead) {
	defer st.Close()
	h := sha256.New()
	if _, err := io.Copy(h, st); err != nil {
		return
	}
	sum := fmt.Sprintf("%x %s %s", h.Sum(nil), head.Method, head.Target)
	_ = st.WriteHead(&ResponseHead{Status: 200, ContentLength: int64(len(sum)), Header: http.Header{"X-Seen": {head.Header.Get("X-In")}}}, false)
	_, _ = st.Write([]byte(sum))
	_ = st.CloseWrite()
}

func TestSessionExchanges(t *testing.T) {
	s := pair(t, DefaultSessionOptions(), echoAccept)
	tests := []struct {
		name string
		size int
		cl   int64 // -1: unknown length
	}{
		{"no body", 0, 0},
		{"small", 1024, 1024},
		{"window sized", InitialWindow, InitialWindow},
		{"chunked 3 MiB", 3 << 20, -1},
		{"known 5 MiB", 5 << 20, 5 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("0123456789abcdef"), tt.size/16+1)[:tt.size]
			head := &RequestHead{Method: "POST", Target: "/p?q=1", ContentLength: tt.cl, Header: http.Header{"X-In": {tt.name}}}
			rh, rb, err := s.Exchange(t.Context(), head, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer rb.Close()
			got, err := io.ReadAll(rb)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("%x POST /p?q=1", sha256.Sum256(body))
			if string(got) != want || rh.Header.Get("X-Seen") != tt.name {
				t.Fatalf("got %q (X-Seen %q), want %q", got, rh.Header.Get("X-Seen"), want)
			}
		})
	}
	waitStreams(t, s, 0)
}

func TestSessionConcurrent(t *testing.T) {
	s := pair(t, DefaultSessionOptions(), echoAccept)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			body := bytes.Repeat([]byte{byte(i)}, 1000+i*300)
			head := &RequestHead{Method: "PUT", Target: fmt.Sprintf("/%d", i), ContentLength: int64(len(body))}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, rb, err := s.Exchange(ctx, head, bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			defer rb.Close()
			got, _ := io.ReadAll(rb)
			if want := fmt.Sprintf("%x PUT /%d", sha256.Sum256(body), i); string(got) != want {
				errs <- fmt.Errorf("request %d: got %q", i, got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitStreams(t, s, 0)
}

// A peer that never reads must not make the sender buffer: the body pump
// stops at the window, and resetting the stream releases it.
func TestSessionFlowControlAndReset(t *testing.T) {
	release := make(chan struct{})
	s := pair(t, DefaultSessionOptions(), func(st *Stream, head *RequestHead) {
		defer st.Close()
		select {
		case <-release:
		case <-st.Context().Done():
		}
	})
	var read countingReader
	read.r = io.LimitReader(zeros{}, 64<<20)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, _, err := s.Exchange(ctx, &RequestHead{Method: "POST", Target: "/", ContentLength: -1}, &read)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	close(release)
	if n := read.n(); n > InitialWindow+2*ChunkSize {
		t.Fatalf("sender read %d bytes of the body with nobody reading; window is %d", n, InitialWindow)
	}
	waitStreams(t, s, 0)
}

func TestSessionPeerGoneFailsStreams(t *testing.T) {
	s := pair(t, DefaultSessionOptions(), func(st *Stream, head *RequestHead) {
		<-st.Context().Done()
	})
	errc := make(chan error, 1)
	go func() {
		_, _, err := s.Exchange(context.Background(), &RequestHead{Method: "GET", Target: "/"}, nil)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	s.Close(websocket.CloseGoingAway, "test over")
	select {
	case err := <-errc:
		if !errors.Is(err, ErrSessionClosed) {
			t.Fatalf("err = %v, want ErrSessionClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("exchange still waiting after its session closed")
	}
}

func waitStreams(t *testing.T, s *Session, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Streams() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open, want %d", s.Streams(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countingReader struct {
	mu    sync.Mutex
	r     io.Reader
	count int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.count += n
	c.mu.Unlock()
	return n, err
}

func (c *countingReader) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

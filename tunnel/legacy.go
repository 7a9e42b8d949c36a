package tunnel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

// LegacyMessage is one message of the webhook-over-websocket protocol: a
// JSON text message whose payload is a whole raw HTTP/1.1 request (server to
// client) or response (client to server). encoding/json carries []byte as
// base64, as that protocol does.
type LegacyMessage struct {
	ReqID   string `json:"req_id"`
	Payload []byte `json:"payload"`
}

// LegacySession serves a client that speaks the webhook-over-websocket JSON
// protocol, so such clients work unchanged. Bodies are buffered whole, as
// that protocol requires; the server's body limit bounds them.
type LegacySession struct {
	conn *websocket.Conn
	opts SessionOptions

	ctx    context.Context
	cancel context.CancelCauseFunc

	wmu sync.Mutex // one writer at a time, as gorilla/websocket requires

	mu      sync.Mutex
	waiting map[string]chan []byte

	closeOnce sync.Once
}

// NewLegacySession wraps an upgraded connection. maxMessage bounds one
// incoming message (a whole response, base64-encoded). Call Run to start it.
func NewLegacySession(conn *websocket.Conn, opts SessionOptions, maxMessage int64) *LegacySession {
	l := &LegacySession{conn: conn, opts: opts, waiting: make(map[string]chan []byte)}
	l.ctx, l.cancel = context.WithCancelCause(context.Background())
	conn.SetReadLimit(maxMessage)
	return l
}

// Done is closed when the session has ended.
func (l *LegacySession) Done() <-chan struct{} { return l.ctx.Done() }

// Close ends the session with a WebSocket close code and reason.
func (l *LegacySession) Close(code int, reason string) {
	_ = l.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	l.fail(fmt.Errorf("%w: %s", ErrSessionClosed, reason))
}

func (l *LegacySession) fail(err error) {
	l.closeOnce.Do(func() {
		if !errors.Is(err, ErrSessionClosed) {
			err = fmt.Errorf("%w: %w", ErrSessionClosed, err)
		}
		l.cancel(err)
		_ = l.conn.Close()
	})
}

// Run reads responses and sends pings until the connection ends.
func (l *LegacySession) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { l.Close(websocket.CloseGoingAway, "shutting down") })
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(l.opts.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-l.ctx.Done():
				return
			case <-t.C:
				if err := l.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(l.opts.WriteTimeout)); err != nil {
					l.fail(err)
					return
				}
			}
		}
	}()
	l.fail(l.readLoop())
	<-done
	return context.Cause(l.ctx)
}

func (l *LegacySession) readLoop() error {
	deadline := func() error { return l.conn.SetReadDeadline(time.Now().Add(l.opts.ReadTimeout)) }
	l.conn.SetPongHandler(func(string) error { return deadline() })
	if err := deadline(); err != nil {
		return err
	}
	for {
		_, data, err := l.conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("reading: %w", err)
		}
		if err := deadline(); err != nil {
			return err
		}
		var m LegacyMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%w: legacy message: %w", ErrProtocol, err)
		}
		l.mu.Lock()
		ch := l.waiting[m.ReqID]
		delete(l.waiting, m.ReqID)
		l.mu.Unlock()
		if ch != nil {
			ch <- m.Payload // capacity 1: never blocks
		}
	}
}

// Exchange implements Exchanger: the whole request goes out as one message
// and the whole response comes back as one.
func (l *LegacySession) Exchange(ctx context.Context, head *RequestHead, body io.Reader) (*ResponseHead, io.ReadCloser, error) {
	raw, err := rawRequest(head, body)
	if err != nil {
		return nil, nil, err
	}
	id := uuid.NewString()
	msg, err := json.Marshal(LegacyMessage{ReqID: id, Payload: raw})
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan []byte, 1)
	l.mu.Lock()
	l.waiting[id] = ch
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.waiting, id)
		l.mu.Unlock()
	}()
	l.wmu.Lock()
	// One message holds the whole body: give it time in proportion, so a
	// 25 MiB body does not need a fast link (at least 64 KiB/s).
	_ = l.conn.SetWriteDeadline(time.Now().Add(l.opts.WriteTimeout + time.Duration(len(msg)>>16)*time.Second))
	err = l.conn.WriteMessage(websocket.TextMessage, msg)
	l.wmu.Unlock()
	if err != nil {
		l.fail(err)
		return nil, nil, fmt.Errorf("%w: writing: %w", ErrSessionClosed, err)
	}
	select {
	case payload := <-ch:
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(payload)), nil)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: legacy response: %w", ErrProtocol, err)
		}
		return &ResponseHead{Status: resp.StatusCode, ContentLength: resp.ContentLength, Header: StripHopHeaders(resp.Header)}, resp.Body, nil
	case <-l.ctx.Done():
		return nil, nil, context.Cause(l.ctx)
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
}

// requestURI makes a request target of what followed the channel: "" is
// "/" and "?q" is "/?q", as HTTP/1.1 parsers require.
func requestURI(target string) string {
	if target == "" || target[0] == '?' {
		return "/" + target
	}
	return target
}

// rawRequest writes head and body as an HTTP/1.1 request with a
// Content-Length, the form legacy clients parse.
func rawRequest(head *RequestHead, body io.Reader) ([]byte, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = io.ReadAll(body); err != nil {
			return nil, fmt.Errorf("reading request body: %w", err)
		}
	}
	var buf bytes.Buffer
	buf.Grow(len(b) + 1024)
	fmt.Fprintf(&buf, "%s %s HTTP/1.1\r\nHost: %s\r\n", head.Method, requestURI(head.Target), head.Host)
	names := make([]string, 0, len(head.Header))
	for k := range head.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "Host" || k == "Content-Length" || k == "Transfer-Encoding" {
			continue
		}
		for _, v := range head.Header[k] {
			fmt.Fprintf(&buf, "%s: %s\r\n", k, v)
		}
	}
	buf.WriteString("Content-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n")
	buf.Write(b)
	return buf.Bytes(), nil
}

package tunnel

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// SessionOptions tune the liveness checks of a session.
type SessionOptions struct {
	// PingInterval is how often a ping goes out when nothing else does.
	PingInterval time.Duration
	// ReadTimeout closes the session when nothing at all (not even a pong)
	// arrived for this long: a half-open connection is found within it.
	ReadTimeout time.Duration
	// WriteTimeout bounds the write of one WebSocket message.
	WriteTimeout time.Duration
	// DrainGrace is how long, on the side that serves streams (the
	// client), the streams being served when Run's ctx ends may take to
	// finish before the session closes: a client stopped with Ctrl-C lets
	// the app finish the requests it is handling. 0 closes at once.
	DrainGrace time.Duration
}

// DefaultSessionOptions finds a dead peer within about 25 seconds.
func DefaultSessionOptions() SessionOptions {
	return SessionOptions{PingInterval: 10 * time.Second, ReadTimeout: 25 * time.Second, WriteTimeout: 10 * time.Second,
		DrainGrace: 10 * time.Second}
}

// ErrSessionClosed is wrapped by the errors of streams whose session ended.
var ErrSessionClosed = errors.New("tunnel session closed")

// maxBatch bounds the frames written as one WebSocket message, so that one
// message's write deadline holds on slow links too.
const maxBatch = 256 << 10

// maxPending bounds the encoded data frames waiting for the writer; senders
// of data wait beyond it, so a slow connection holds memory flat.
const maxPending = 1 << 20

// AcceptFunc handles a stream the peer opened with a request head. It runs
// in its own goroutine and must finish the stream (respond or Close).
type AcceptFunc func(st *Stream, head *RequestHead)

// Session multiplexes many HTTP exchanges over one WebSocket connection
// speaking the native protocol. The server side opens streams with Open;
// the client side receives them through its AcceptFunc.
type Session struct {
	conn   *websocket.Conn
	opts   SessionOptions
	log    *slog.Logger
	accept AcceptFunc

	ctx    context.Context
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	streams map[uint32]*Stream
	nextID  uint32

	// chunks recycles the buffers that hold received body data until the
	// stream's reader consumes it.
	chunks sync.Pool

	wmu     sync.Mutex
	wcond   sync.Cond
	pending []byte
	wake    chan struct{}

	// handlers counts the goroutines serving accepted streams; serving
	// counts them too, for the drain, which polls it.
	handlers sync.WaitGroup
	serving  atomic.Int64
	// hello is called when the server's hello frame arrives (client side).
	hello func(version string)

	closeOnce sync.Once
}

// NewSession wraps an upgraded connection. accept is nil on the side that
// opens streams (the server). Call Run to start it.
func NewSession(conn *websocket.Conn, opts SessionOptions, log *slog.Logger, accept AcceptFunc) *Session {
	s := &Session{
		conn:    conn,
		opts:    opts,
		log:     log,
		accept:  accept,
		streams: make(map[uint32]*Stream),
		wake:    make(chan struct{}, 1),
	}
	s.wcond.L = &s.wmu
	s.chunks.New = func() any { b := make([]byte, 0, ChunkSize); return &b }
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	conn.SetReadLimit(MaxMessage)
	return s
}

// OnHello sets what the client does when the server says the channel is
// attached. Call it before Run.
func (s *Session) OnHello(f func(version string)) { s.hello = f }

// Hello tells the client its channel is attached and requests may come.
func (s *Session) Hello(version string) error {
	return s.send(Frame{Type: FrameHello, Payload: []byte(version)}, false)
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Err says why the session ended, or nil while it runs.
func (s *Session) Err() error { return context.Cause(s.ctx) }

// Run reads and writes until the connection fails, the peer closes it, ctx
// ends or Close is called. It returns the reason, after both of its
// goroutines have exited and every stream has been failed.
func (s *Session) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		s.drain(s.opts.DrainGrace)
		s.Close(websocket.CloseGoingAway, "shutting down")
	})
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.writeLoop(); err != nil {
			s.fail(fmt.Errorf("writing: %w", err))
		}
	}()
	err := s.readLoop()
	s.fail(err)
	wg.Wait()
	s.handlers.Wait() // their streams have failed, so they are ending
	return s.Err()
}

// drain waits up to grace for the streams being served to finish, or for
// the session to end.
func (s *Session) drain(grace time.Duration) {
	deadline := time.Now().Add(grace)
	for s.serving.Load() > 0 && time.Now().Before(deadline) {
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Close ends the session with a WebSocket close code and reason the peer sees.
func (s *Session) Close(code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	s.fail(fmt.Errorf("%w: %s", ErrSessionClosed, reason))
}

// fail ends the session once with err and fails all streams.
func (s *Session) fail(err error) {
	s.closeOnce.Do(func() {
		if err == nil {
			err = ErrSessionClosed
		}
		if !errors.Is(err, ErrSessionClosed) {
			err = fmt.Errorf("%w: %w", ErrSessionClosed, err)
		}
		s.cancel(err)
		_ = s.conn.Close()
		s.mu.Lock()
		streams := s.streams
		s.streams = map[uint32]*Stream{}
		s.mu.Unlock()
		for _, st := range streams {
			st.abort(err)
		}
		s.wmu.Lock()
		s.wcond.Broadcast()
		s.wmu.Unlock()
	})
}

func (s *Session) readLoop() error {
	s.conn.SetPongHandler(func(string) error {
		return s.conn.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout))
	})
	s.conn.SetPingHandler(func(data string) error {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout))
		err := s.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(s.opts.WriteTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	if err := s.conn.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout)); err != nil {
		return err
	}
	// One buffer, reused for every message: data payloads are copied out
	// into pooled chunks, heads are decoded into fresh strings.
	var in bytes.Buffer
	for {
		typ, r, err := s.conn.NextReader()
		if err != nil {
			return fmt.Errorf("reading: %w", err)
		}
		if typ != websocket.BinaryMessage {
			return fmt.Errorf("%w: text message on a native session", ErrProtocol)
		}
		in.Reset()
		if _, err := in.ReadFrom(r); err != nil {
			return fmt.Errorf("reading: %w", err)
		}
		if err := s.conn.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout)); err != nil {
			return err
		}
		msg := in.Bytes()
		for len(msg) > 0 {
			f, rest, err := ParseFrame(msg)
			if err != nil {
				s.Close(websocket.CloseProtocolError, "malformed frame")
				return err
			}
			s.dispatch(f)
			msg = rest
		}
	}
}

// dispatch hands one frame to its stream.
func (s *Session) dispatch(f Frame) {
	if f.Type == FrameHello {
		if s.hello != nil {
			s.hello(truncate(string(f.Payload), 100))
		}
		return
	}
	s.mu.Lock()
	st := s.streams[f.Stream]
	if st == nil && f.Type == FrameHead && s.accept != nil && s.ctx.Err() == nil {
		st = newStream(s, f.Stream)
		s.streams[f.Stream] = st
		s.mu.Unlock()
		head, err := ParseRequestHead(f.Payload)
		if err != nil {
			st.Reset(err.Error())
			return
		}
		if f.Flags&FlagEnd != 0 {
			st.pushData(nil, true)
		}
		s.handlers.Add(1)
		s.serving.Add(1)
		go func() {
			defer s.handlers.Done()
			defer s.serving.Add(-1)
			s.accept(st, head)
		}()
		return
	}
	s.mu.Unlock()
	if st == nil {
		return // a late frame for a stream already finished or reset
	}
	switch f.Type {
	case FrameHead:
		st.gotHead(f)
	case FrameData:
		st.pushData(s.copyChunk(f.Payload), f.Flags&FlagEnd != 0)
	case FrameWindow:
		st.grant(int(binary.BigEndian.Uint32(f.Payload)))
	case FrameReset:
		if f.Flags&FlagEnd != 0 {
			st.stopSending() // the peer answered in full and reads no more
			return
		}
		st.abort(&peerReset{Reason: truncate(string(f.Payload), 200)})
		s.forget(st.id)
	}
}

// ErrHeadTooLarge means a request or response head does not fit in one
// frame (MaxFramePayload); nothing was sent.
var ErrHeadTooLarge = errors.New("head too large for the tunnel")

// Open starts a request on a new stream and waits, until ctx ends, for the
// response head. The body (nil for none) is sent as the peer grants window,
// by a goroutine concurrently with the wait, except a body of one chunk,
// which is read inline: the caller bounds reads of a network body with a
// deadline. The caller must Close the
// returned stream when done with it; closing it early aborts the exchange.
func (s *Session) Open(ctx context.Context, head *RequestHead, body io.Reader) (*Stream, *ResponseHead, error) {
	encoded := AppendRequestHead(nil, head)
	if len(encoded) > MaxFramePayload {
		return nil, nil, fmt.Errorf("%w: request head of %d bytes, limit %d", ErrHeadTooLarge, len(encoded), MaxFramePayload)
	}
	s.mu.Lock()
	if err := s.Err(); err != nil {
		s.mu.Unlock()
		return nil, nil, err
	}
	s.nextID++
	if s.nextID == 0 {
		s.nextID = 1
	}
	st := newStream(s, s.nextID)
	st.respHead = make(chan *ResponseHead, 1)
	s.streams[st.id] = st
	s.mu.Unlock()

	noBody := body == nil || head.ContentLength == 0
	var flags uint8
	if noBody {
		flags = FlagEnd
	}
	headFrame := Frame{Type: FrameHead, Flags: flags, Stream: st.id, Payload: encoded}
	inline := !noBody && head.ContentLength > 0 && head.ContentLength <= ChunkSize
	// A small body already in memory follows at once: the head waits for
	// it, and both leave in one WebSocket message.
	_, inMemory := body.(interface{ Len() int })
	queue := s.send
	if inline && inMemory {
		queue = s.enqueue
	}
	if err := queue(headFrame, false); err != nil {
		st.Close()
		return nil, nil, err
	}
	if noBody {
		st.markSent()
	} else if inline {
		// A small body is one frame: send it inline. A stalled sender holds
		// this read only as long as the caller's read deadline allows.
		if err := st.sendBody(body, head.ContentLength); err != nil && !errors.Is(err, errStopped) {
			select {
			case rh := <-st.respHead: // answered already: the answer stands
				return st, rh, nil
			default:
			}
			st.Close()
			return nil, nil, err
		}
	} else {
		// From a goroutine: a sender that stalls mid-body must not hold up
		// the wait below, which ctx bounds.
		st.pump.Add(1)
		go func() {
			defer st.pump.Done()
			if err := st.sendBody(body, head.ContentLength); err != nil && !errors.Is(err, errStopped) {
				st.Reset("request body: " + err.Error())
			}
		}()
	}
	select {
	case rh := <-st.respHead:
		return st, rh, nil
	case <-st.ctx.Done():
		select {
		case rh := <-st.respHead: // the head won the race with the failure
			return st, rh, nil
		default:
		}
		err := context.Cause(st.ctx)
		st.Close()
		return nil, nil, err
	case <-ctx.Done():
		st.Reset("request abandoned by the server: " + abandoned(context.Cause(ctx)))
		st.pump.Wait()
		return nil, nil, context.Cause(ctx)
	}
}

// send queues an encoded frame for the writer. Data frames wait while the
// queue is full; control frames never wait.
func (s *Session) send(f Frame, data bool) error {
	if err := s.enqueue(f, data); err != nil {
		return err
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// enqueue is send without waking the writer: the next send does, and the
// frames go out together.
func (s *Session) enqueue(f Frame, data bool) error {
	s.wmu.Lock()
	for data && len(s.pending) >= maxPending && s.ctx.Err() == nil {
		s.wcond.Wait()
	}
	if err := s.Err(); err != nil {
		s.wmu.Unlock()
		return err
	}
	s.pending = AppendFrame(s.pending, f)
	s.wmu.Unlock()
	return nil
}

func (s *Session) writeLoop() error {
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	var spare []byte
	for {
		select {
		case <-s.ctx.Done():
			return nil
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.opts.WriteTimeout)); err != nil {
				return err
			}
		case <-s.wake:
			s.wmu.Lock()
			buf := s.pending
			s.pending = spare[:0]
			s.wcond.Broadcast()
			s.wmu.Unlock()
			if err := s.writeFrames(buf); err != nil {
				return err
			}
			if cap(buf) > 4*maxPending {
				buf = nil // do not keep a burst's memory
			}
			spare = buf
		}
	}
}

// writeFrames writes buf, a run of whole frames, as few messages as the
// message limit allows, splitting only at frame boundaries.
func (s *Session) writeFrames(buf []byte) error {
	for len(buf) > 0 {
		n := 0
		for n < len(buf) {
			size := FrameHeaderLen + int(binary.BigEndian.Uint32(buf[n+7:n+11]))
			if n > 0 && n+size > maxBatch {
				break
			}
			n += size
		}
		if err := s.conn.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout)); err != nil {
			return err
		}
		if err := s.conn.WriteMessage(websocket.BinaryMessage, buf[:n]); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

// copyChunk copies a data payload out of the read buffer.
func (s *Session) copyChunk(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	if len(p) > ChunkSize {
		return bytes.Clone(p)
	}
	b := *s.chunks.Get().(*[]byte)
	return append(b[:0], p...)
}

// recycle returns a fully read chunk to the pool.
func (s *Session) recycle(b []byte) {
	if cap(b) == ChunkSize {
		b = b[:0]
		s.chunks.Put(&b)
	}
}

// forget removes a finished stream.
func (s *Session) forget(id uint32) {
	s.mu.Lock()
	delete(s.streams, id)
	s.mu.Unlock()
}

// Streams reports how many streams are open, for tests and metrics.
func (s *Session) Streams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

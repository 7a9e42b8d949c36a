package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// errStreamClosed fails operations on a stream after Close or Reset.
var errStreamClosed = errors.New("tunnel stream closed")

// errStopped fails writes after the peer, having answered in full, said it
// will read no more of our body: a normal end, not a failure.
var errStopped = errors.New("the peer stopped reading the body")

// Stream is one HTTP exchange inside a session. Reading it yields the
// peer's body; writing sends ours. Both directions obey per-stream flow
// control, so a slow reader never makes the peer buffer more than
// InitialWindow bytes of this stream.
type Stream struct {
	s   *Session
	id  uint32
	ctx context.Context
	// cancel fails the stream's context when it is reset or its session ends.
	cancel context.CancelCauseFunc
	// respHead receives the response head, on the side that opened the stream.
	respHead chan *ResponseHead
	// pump counts the goroutine sending the request body, if any.
	pump sync.WaitGroup

	mu       sync.Mutex
	cond     sync.Cond
	chunks   [][]byte // received body bytes not yet read
	buffered int      // bytes in chunks
	recvEnd  bool     // the peer's body is complete
	unacked  int      // bytes read but not yet granted back to the peer
	window   int      // bytes we may still send
	sentEnd  bool     // our body is complete
	stopped  bool     // the peer reads no more of our body
	err      error    // set once the stream is reset or its session ended
}

func newStream(s *Session, id uint32) *Stream {
	st := &Stream{s: s, id: id, window: InitialWindow}
	st.cond.L = &st.mu
	st.ctx, st.cancel = context.WithCancelCause(s.ctx)
	return st
}

// Context is cancelled when the stream is reset or its session ends.
func (st *Stream) Context() context.Context { return st.ctx }

// Read reads the peer's body. It returns io.EOF at its end and an error if
// the stream was reset or the session ended first.
func (st *Stream) Read(p []byte) (int, error) {
	st.mu.Lock()
	for len(st.chunks) == 0 && !st.recvEnd && st.err == nil {
		st.cond.Wait()
	}
	if len(st.chunks) == 0 {
		defer st.mu.Unlock()
		if st.recvEnd {
			return 0, io.EOF // complete, even if the stream ended since
		}
		return 0, st.err
	}
	n := 0
	for n < len(p) && len(st.chunks) > 0 {
		c := copy(p[n:], st.chunks[0])
		n += c
		if c == len(st.chunks[0]) {
			st.s.recycle(st.chunks[0][:cap(st.chunks[0])])
			st.chunks[0] = nil
			st.chunks = st.chunks[1:]
		} else {
			st.chunks[0] = st.chunks[0][c:]
		}
	}
	st.buffered -= n
	st.unacked += n
	var grant int
	// Grant window back in large steps, and not at all once the body is
	// complete: the peer has nothing left to send.
	if st.unacked >= ChunkSize && !st.recvEnd {
		grant, st.unacked = st.unacked, 0
	}
	st.mu.Unlock()
	if grant > 0 {
		_ = st.s.send(Frame{Type: FrameWindow, Stream: st.id, Payload: windowPayload(uint32(grant))}, false)
	}
	return n, nil
}

// pushData is called by the session reader with a body chunk from the peer.
func (st *Stream) pushData(p []byte, end bool) {
	st.mu.Lock()
	if st.err != nil || st.recvEnd {
		st.mu.Unlock()
		return
	}
	if st.buffered+len(p) > InitialWindow {
		st.mu.Unlock()
		st.Reset(fmt.Sprintf("flow control: peer overran the %d byte window", InitialWindow))
		return
	}
	if len(p) > 0 {
		st.chunks = append(st.chunks, p)
		st.buffered += len(p)
	}
	st.recvEnd = end
	done := st.recvEnd && st.sentEnd
	st.cond.Broadcast()
	st.mu.Unlock()
	if done {
		st.s.forget(st.id)
	}
}

// grant adds window the peer gave us.
func (st *Stream) grant(n int) {
	st.mu.Lock()
	st.window += n
	st.cond.Broadcast()
	st.mu.Unlock()
}

// gotHead takes the response head on the side that opened the stream.
func (st *Stream) gotHead(f Frame) {
	if st.respHead == nil {
		st.Reset("unexpected head frame")
		return
	}
	h, err := ParseResponseHead(f.Payload)
	if err != nil {
		st.Reset(err.Error())
		return
	}
	select {
	case st.respHead <- h:
	default:
		st.Reset("second response head")
		return
	}
	if f.Flags&FlagEnd != 0 {
		st.pushData(nil, true)
	}
}

// WriteHead sends the response head. end says there is no body.
func (st *Stream) WriteHead(h *ResponseHead, end bool) error {
	encoded := AppendResponseHead(nil, h)
	if len(encoded) > MaxFramePayload {
		return fmt.Errorf("%w: response head of %d bytes, limit %d", ErrHeadTooLarge, len(encoded), MaxFramePayload)
	}
	var flags uint8
	if end {
		flags = FlagEnd
	}
	if err := st.s.send(Frame{Type: FrameHead, Flags: flags, Stream: st.id, Payload: encoded}, false); err != nil {
		return err
	}
	if end {
		st.markSent()
	}
	return nil
}

// Write sends p as body data, waiting for window as needed.
func (st *Stream) Write(p []byte) (int, error) {
	return st.write(p, false)
}

// CloseWrite marks our body complete.
func (st *Stream) CloseWrite() error {
	_, err := st.write(nil, true)
	return err
}

func (st *Stream) write(p []byte, end bool) (int, error) {
	if len(p) == 0 && !end {
		return 0, nil
	}
	written := 0
	for {
		st.mu.Lock()
		for st.window == 0 && len(p) > 0 && st.err == nil && !st.stopped {
			st.cond.Wait()
		}
		if st.err != nil || st.stopped {
			err := st.err
			if st.stopped {
				err = errStopped
			}
			st.mu.Unlock()
			return written, err
		}
		if st.sentEnd {
			st.mu.Unlock()
			return written, errStreamClosed
		}
		n := min(len(p), st.window, ChunkSize)
		st.window -= n
		last := end && n == len(p)
		if last {
			st.sentEnd = true
		}
		done := last && st.recvEnd
		st.mu.Unlock()
		var flags uint8
		if last {
			flags = FlagEnd
		}
		if err := st.s.send(Frame{Type: FrameData, Flags: flags, Stream: st.id, Payload: p[:n]}, true); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
		if done {
			st.s.forget(st.id)
		}
		if len(p) == 0 && (!end || last) {
			return written, nil
		}
	}
}

// sendBody copies r to the stream and ends our body. With size >= 0 the
// last chunk carries the end flag; otherwise an empty end frame follows EOF.
func (st *Stream) sendBody(r io.Reader, size int64) error {
	n := int64(ChunkSize)
	if size >= 0 {
		n = min(max(size, 512), ChunkSize)
	}
	buf := make([]byte, n)
	var sent int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			sent += int64(n)
			last := size >= 0 && sent >= size
			if _, werr := st.write(buf[:n], last); werr != nil {
				return werr
			}
			if last {
				return nil
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if size >= 0 && sent < size {
				return fmt.Errorf("body ended after %d of %d bytes", sent, size)
			}
			return st.CloseWrite()
		}
		if err != nil {
			return err
		}
	}
}

// markSent records that our side finished without a body.
func (st *Stream) markSent() {
	st.mu.Lock()
	st.sentEnd = true
	done := st.recvEnd
	st.mu.Unlock()
	if done {
		st.s.forget(st.id)
	}
}

// stopSending ends our side after the peer said it reads no more.
func (st *Stream) stopSending() {
	st.mu.Lock()
	st.stopped, st.sentEnd = true, true
	done := st.recvEnd
	st.cond.Broadcast()
	st.mu.Unlock()
	if done {
		st.s.forget(st.id)
	}
}

// peerReset is how a stream ends that the peer reset, with its reason.
type peerReset struct{ Reason string }

func (e *peerReset) Error() string { return "stream reset by peer: " + e.Reason }

// abandoned says why an exchange was given up, from its context's cause.
func abandoned(cause error) string {
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		return "its time limit passed"
	case errors.Is(cause, context.Canceled):
		return "the sender went away, or the server is stopping"
	}
	return cause.Error()
}

// Reset aborts the stream and tells the peer why.
func (st *Stream) Reset(reason string) {
	if st.abort(fmt.Errorf("%w: %s", errStreamClosed, reason)) {
		_ = st.s.send(Frame{Type: FrameReset, Stream: st.id, Payload: []byte(truncate(reason, 500))}, false)
	}
	st.s.forget(st.id)
}

// Close releases the stream: a clean finish if both bodies are complete;
// if only ours is (we answered without reading all of the peer's body), it
// tells the peer to stop sending, which is no error; otherwise a reset. It
// waits for the request body pump to stop.
func (st *Stream) Close() error {
	st.mu.Lock()
	clean := st.recvEnd && st.sentEnd && st.err == nil
	answered := st.sentEnd && !st.recvEnd && st.err == nil && st.respHead == nil
	st.mu.Unlock()
	switch {
	case clean:
		st.abort(errStreamClosed)
		st.s.forget(st.id)
	case answered:
		st.abort(errStreamClosed)
		st.s.forget(st.id)
		_ = st.s.send(Frame{Type: FrameReset, Flags: FlagEnd, Stream: st.id, Payload: []byte("answered; the rest of the body is not needed")}, false)
	default:
		st.Reset("closed before the exchange completed")
	}
	st.pump.Wait()
	return nil
}

// abort fails the stream with err; it reports whether this call did it.
func (st *Stream) abort(err error) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return false
	}
	st.err = err
	if !st.recvEnd { // a complete body stays readable
		st.chunks = nil
		st.buffered = 0
	}
	st.cancel(err)
	st.cond.Broadcast()
	return true
}

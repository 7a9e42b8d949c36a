package tunnel

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
)

// fakeConn is an Exchanger that records how it was closed.
type fakeConn struct {
	mu   sync.Mutex
	code int
	done chan struct{}
}

func newFakeConn() *fakeConn { return &fakeConn{done: make(chan struct{})} }

func (f *fakeConn) Exchange(context.Context, *RequestHead, io.Reader) (*ResponseHead, io.ReadCloser, error) {
	return nil, nil, ErrNotConnected
}

func (f *fakeConn) Close(code int, _ string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.code == 0 {
		f.code = code
		close(f.done)
	}
}

func (f *fakeConn) Done() <-chan struct{} { return f.done }

func (f *fakeConn) closedWith() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.code
}

// Drop closes only the connection of the owner it names: a release must
// not drop the connection of whoever claimed the name since.
func TestHubDropOwner(t *testing.T) {
	tests := []struct {
		name       string
		attachedBy string
		drop       string
		wantClosed bool
	}{
		{"the released owner's connection", "old", "old", true},
		{"a next owner's connection", "new", "old", false},
		{"a legacy connection of the released owner", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(slog.New(slog.DiscardHandler))
			c := newFakeConn()
			detach, _ := h.Attach("alice", tt.attachedBy, c, yes)
			defer detach()
			if got := h.Drop("alice", tt.drop, CloseReleased, "released"); got != tt.wantClosed {
				t.Fatalf("Drop = %v, want %v", got, tt.wantClosed)
			}
			if tt.wantClosed {
				if c.closedWith() != CloseReleased || h.Connected("alice") {
					t.Fatalf("closed with %d, connected %v; want %d and gone", c.closedWith(), h.Connected("alice"), CloseReleased)
				}
				return
			}
			if c.closedWith() != 0 || !h.Connected("alice") {
				t.Fatalf("closed with %d, connected %v; want it left attached", c.closedWith(), h.Connected("alice"))
			}
		})
	}
}

// A newer connection replaces an older one, which is told why; the
// older one's detach then leaves the newer one attached.
func TestHubAttachReplaces(t *testing.T) {
	h := NewHub(slog.New(slog.DiscardHandler))
	first, second := newFakeConn(), newFakeConn()
	detachFirst, _ := h.Attach("alice", "o", first, yes)
	detachSecond, _ := h.Attach("alice", "o", second, yes)
	if first.closedWith() != CloseReplaced {
		t.Fatalf("the replaced connection was closed with %d, want %d", first.closedWith(), CloseReplaced)
	}
	detachFirst()
	if !h.Connected("alice") {
		t.Fatal("the old connection's detach removed the new one")
	}
	detachSecond()
	if h.Connected("alice") {
		t.Fatal("still connected after the last detach")
	}
}

func yes() bool { return true }

// A connection claimed before a release that attaches after it is not
// attached: it must not replace the next owner's connection.
func TestHubAttachOfReleasedOwner(t *testing.T) {
	h := NewHub(slog.New(slog.DiscardHandler))
	next, late := newFakeConn(), newFakeConn()
	detachNext, ok := h.Attach("alice", "new-owner", next, yes)
	defer detachNext()
	if !ok {
		t.Fatal("the owner's connection was not attached")
	}
	owns := func() bool { return false } // "old-owner" no longer owns alice
	detachLate, ok := h.Attach("alice", "old-owner", late, owns)
	detachLate()
	if ok || next.closedWith() != 0 || !h.Connected("alice") {
		t.Fatalf("attached %v; the next owner's connection closed with %d, connected %v; want it left alone",
			ok, next.closedWith(), h.Connected("alice"))
	}
}

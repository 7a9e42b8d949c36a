// Package tail holds a bounded writer that keeps the last bytes written
// to it: a script's output, a task's live log.
package tail

import (
	"sync"
	"unicode/utf8"
)

// Writer is an io.Writer that keeps only the last limit bytes written to
// it, in a ring buffer, and counts the rest. It lets a script print
// gigabytes while the runner holds a fixed amount of memory. Bytes are
// numbered from 0 in the order written, so a reader can ask for what
// came after what it has read (Since). Its methods are safe for
// concurrent use.
type Writer struct {
	mu    sync.Mutex
	limit int
	buf   []byte // grows up to limit, then used as a ring
	start int    // index of the oldest byte once len(buf) == limit
	total int64
}

// New returns a Writer that keeps the last limit bytes; a limit
// of zero or less keeps nothing and only counts.
func New(limit int) *Writer {
	return &Writer{limit: max(limit, 0)}
}

// Write records p and always reports it fully written, so a chatty script is
// never stopped by a short write.
func (t *Writer) Write(p []byte) (int, error) {
	n := len(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(n)
	if t.limit == 0 || n == 0 {
		return n, nil
	}
	if n >= t.limit {
		// p alone fills the window: keep its tail, start over.
		t.grow(t.limit)
		t.buf = t.buf[:t.limit]
		copy(t.buf, p[n-t.limit:])
		t.start = 0
		return n, nil
	}
	if room := t.limit - len(t.buf); room > 0 {
		k := min(room, len(p))
		t.grow(len(t.buf) + k)
		t.buf = append(t.buf, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 { // full: overwrite the oldest bytes
		c := copy(t.buf[t.start:], p)
		p = p[c:]
		t.start = (t.start + c) % t.limit
	}
	return n, nil
}

// grow makes room for need bytes without ever allocating past the limit.
func (t *Writer) grow(need int) {
	if cap(t.buf) >= need {
		return
	}
	c := min(max(need, 2*cap(t.buf), 512), t.limit)
	nb := make([]byte, len(t.buf), c)
	copy(nb, t.buf)
	t.buf = nb
}

// Bytes returns a copy of the kept tail, oldest byte first.
func (t *Writer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bytesLocked()
}

func (t *Writer) bytesLocked() []byte {
	out := make([]byte, 0, len(t.buf))
	out = append(out, t.buf[t.start:]...)
	return append(out, t.buf[:t.start]...)
}

// Total returns how many bytes were written in all.
func (t *Writer) Total() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// Tail returns the kept bytes as a string and how many earlier bytes were
// dropped. When bytes were dropped, a partial UTF-8 sequence at the cut is
// dropped too (and counted), so the tail starts on a character boundary.
func (t *Writer) Tail() (tail string, dropped int64) {
	t.mu.Lock()
	b := t.bytesLocked()
	dropped = t.total - int64(len(b))
	t.mu.Unlock()
	if dropped > 0 {
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
			b = b[1:]
			dropped++
		}
	}
	return string(b), dropped
}

// Since returns the kept bytes from offset from on (bytes are numbered
// from 0 in the order written), with start, the offset of the first
// returned byte, and next, the offset of the byte to be written next. A
// reader that has read up to from passes it and gets the rest: start is
// later than from when the bytes between are no longer kept, and a from
// beyond next is taken as next.
func (t *Writer) Since(from int64) (b []byte, start, next int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	first := t.total - int64(len(t.buf))
	start = min(max(from, first), t.total)
	n := int(t.total - start)
	b = make([]byte, 0, n)
	if n > 0 {
		// The oldest kept byte is at t.start (0 until the ring is full).
		i := (t.start + int(start-first)) % len(t.buf)
		b = append(b, t.buf[i:min(i+n, len(t.buf))]...)
		b = append(b, t.buf[:n-len(b)]...)
	}
	return b, start, t.total
}

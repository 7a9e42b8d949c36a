package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
)

// spoolMem is how much of a spooled body stays in memory; the rest goes
// to a temporary file, so many large bodies in flight do not grow the
// server's memory.
const spoolMem = 64 << 10

// spooled is a request body read whole: its first spoolMem bytes in
// memory, the rest in an unlinked temporary file.
type spooled struct {
	mem  []byte
	file *os.File
	size int64
}

// spoolBody reads the request body, up to MaxBody, into a spool.
func (s *Server) spoolBody(c echo.Context) (*spooled, error) {
	r := c.Request()
	if r.ContentLength > s.cfg.MaxBody {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, s.cfg.MaxBody))
	}
	if r.ContentLength != 0 { // never on a body-less request: see webhookSync
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(bodyReadTimeout))
	}
	limited := &limitReader{r: r.Body, n: s.cfg.MaxBody}
	b := &spooled{}
	err := b.fill(limited, r.ContentLength)
	if err != nil {
		b.Close()
		if limited.over.Load() {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the limit of %d bytes", s.cfg.MaxBody))
		}
		var spoolErr *spoolError
		if errors.As(err, &spoolErr) {
			return nil, fmt.Errorf("spooling a request body: %w", err)
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "reading the request body failed")
	}
	return b, nil
}

// spoolError is a failure of the spool file, not of the sender.
type spoolError struct{ err error }

func (e *spoolError) Error() string { return e.err.Error() }
func (e *spoolError) Unwrap() error { return e.err }

// fill reads r to its end; length is the expected size, -1 if unknown.
func (b *spooled) fill(r io.Reader, length int64) error {
	size := spoolMem
	if length >= 0 && length < spoolMem {
		size = int(length) + 1 // one more: the end shows without a second buffer
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(r, buf)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		b.mem, b.size = buf[:n], int64(n)
		return nil
	case err != nil:
		return err
	}
	b.mem = buf
	f, err := os.CreateTemp("", "hookrelay-body-*")
	if err != nil {
		return &spoolError{err}
	}
	// Unlinked at once: the file is gone with the process, whatever happens.
	_ = os.Remove(f.Name())
	b.file = f
	rest, err := io.Copy(writerOnly{f}, r)
	b.size = int64(len(buf)) + rest
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return &spoolError{err}
		}
		return err
	}
	return nil
}

// writerOnly hides ReadFrom, so io.Copy reads through the limit reader.
type writerOnly struct{ io.Writer }

// Reader reads the whole body from the start; each call starts afresh.
func (b *spooled) Reader() io.Reader {
	if b.file == nil {
		return bytes.NewReader(b.mem)
	}
	return io.MultiReader(bytes.NewReader(b.mem), io.NewSectionReader(b.file, 0, b.size-int64(len(b.mem))))
}

// Bytes returns the whole body in memory.
func (b *spooled) Bytes() ([]byte, error) {
	if b.file == nil {
		return b.mem, nil
	}
	out := make([]byte, b.size)
	if _, err := io.ReadFull(b.Reader(), out); err != nil {
		return nil, fmt.Errorf("reading a spooled body: %w", err)
	}
	return out, nil
}

// Close removes the spool's file.
func (b *spooled) Close() {
	if b.file != nil {
		b.file.Close()
	}
}

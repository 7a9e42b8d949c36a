package host

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// maxStdioLine bounds a line of a plugin's stdout or stderr kept while its
// end is awaited; a longer one is logged in pieces.
const maxStdioLine = 16 << 10

// stdioLog logs what a plugin prints to its stdout or stderr (go-plugin
// relays them), a line at a time at info, so a plugin author's prints show
// in the server's log under the plugin's name.
type stdioLog struct {
	log    *slog.Logger
	stream string

	mu   sync.Mutex
	line []byte
}

// Write logs each whole line of p, and keeps the rest for the next Write.
func (w *stdioLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		part := p
		if i >= 0 {
			part = p[:i]
		}
		w.line = append(w.line, part...)
		for len(w.line) > maxStdioLine {
			w.emit(w.line[:maxStdioLine])
			w.line = append(w.line[:0], w.line[maxStdioLine:]...)
		}
		if i < 0 {
			break
		}
		w.emit(w.line)
		w.line = w.line[:0]
		p = p[i+1:]
	}
	return n, nil
}

// flush logs what is left without its newline: the process has ended.
func (w *stdioLog) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.line) > 0 {
		w.emit(w.line)
		w.line = w.line[:0]
	}
}

func (w *stdioLog) emit(line []byte) {
	w.log.Log(context.Background(), slog.LevelInfo, "plugin output", "stream", w.stream, "line", string(bytes.TrimSuffix(line, []byte("\r"))))
}

package targets

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/plugins/host"
)

// fakeLogs is a Runner keeping live logs: attempt n's log is logs[n-1],
// read in pieces of at most piece bytes; the last attempt's ends only
// once endAfter reads of it came back empty.
type fakeLogs struct {
	errRunner
	logs     []string
	piece    int
	endAfter int

	mu    sync.Mutex
	empty int
}

func (f *fakeLogs) Log(_ context.Context, _, logID string, from int64) (host.LogChunk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := 0
	if logID != "" {
		i = int(logID[0] - '0')
		if from >= int64(len(f.logs[i])) && i+1 < len(f.logs) {
			i, from = i+1, 0
		}
	}
	log := f.logs[i]
	next := min(int64(len(log)), from+int64(f.piece))
	last := i == len(f.logs)-1
	if last && next == from {
		f.empty++
	}
	return host.LogChunk{ID: string(rune('0' + i)), Attempt: i + 1, Data: []byte(log[from:next]), Start: from, Next: next,
		Ended: !last || f.empty > f.endAfter, Newer: !last}, nil
}

// A given-up attempt's output is read from its live log, to the end the
// plugin gives it, and only its own attempt's.
func TestGivenUpOutput(t *testing.T) {
	tests := []struct {
		name      string
		logs      []string
		attempt   int
		want      string
		truncated bool
	}{
		{"one attempt", []string{"tick 1\ntick 2\nterminated\n"}, 1, "tick 1\ntick 2\nterminated\n", false},
		{"the second attempt's", []string{"first\n", "second\n"}, 2, "second\n", false},
		{"an attempt the plugin keeps no log of", []string{"first\n"}, 2, "", false},
		{"the end of a long one", []string{strings.Repeat("x", maxOutput) + "the end\n"}, 1, strings.Repeat("x", maxOutput-8) + "the end\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeLogs{logs: tt.logs, piece: 5, endAfter: 2}
			a := givenUpOutput(r, "d1", tt.attempt, 10*time.Second)
			if tt.want == "" {
				if a != nil {
					t.Fatalf("got %q, want nothing", a.Body)
				}
				return
			}
			if a == nil || string(a.Body) != tt.want || a.Truncated != tt.truncated {
				t.Fatalf("got %+v, want %q (truncated %v)", a, tt.want, tt.truncated)
			}
		})
	}
}

// A plugin that keeps no logs gives nothing, at once.
func TestGivenUpOutputWithoutLogs(t *testing.T) {
	if a := givenUpOutput(errRunner{}, "d1", 1, time.Second); a != nil {
		t.Fatalf("got %+v", a)
	}
}

package main

import (
	"bytes"
	"testing"

	"github.com/hookrelay/hookrelay/server"
)

// The follower prints each byte once, says where bytes went unread and
// where a new attempt starts, and asks on from what it has printed.
func TestFollowerTake(t *testing.T) {
	var out, errOut bytes.Buffer
	f := &follower{stdout: &out, stderr: &errOut}
	steps := []struct {
		name        string
		l           server.TaskLog
		wantOut     string
		wantErr     string
		wantAttempt int
		wantNext    int64
	}{
		{"no log yet", server.TaskLog{}, "", "", 0, 0},
		{"first bytes", server.TaskLog{Attempt: 1, Data: []byte("ab"), Next: 2}, "ab", "", 1, 2},
		{"nothing new", server.TaskLog{Attempt: 1, Start: 2, Next: 2}, "", "", 1, 2},
		{"a gap", server.TaskLog{Attempt: 1, Data: []byte("xy"), Start: 10, Next: 12}, "xy", "[8 bytes of output went by unread]\n", 1, 12},
		{"the next attempt", server.TaskLog{Attempt: 2, Data: []byte("c"), Next: 1}, "c", "--- attempt 2 ---\n", 2, 1},
		{"a log no longer kept", server.TaskLog{}, "", "[the rest of attempt 2's output is no longer kept; its tail is in the task below]\n", 2, 1},
		{"said once", server.TaskLog{}, "", "", 2, 1},
	}
	for _, s := range steps {
		out.Reset()
		errOut.Reset()
		if err := f.take(&s.l); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if out.String() != s.wantOut || errOut.String() != s.wantErr || f.attempt != s.wantAttempt || f.next != s.wantNext {
			t.Errorf("%s: printed %q, told %q, at attempt %d byte %d; want %q, %q, %d, %d",
				s.name, out.String(), errOut.String(), f.attempt, f.next, s.wantOut, s.wantErr, s.wantAttempt, s.wantNext)
		}
	}
	if !f.printed {
		t.Error("printed not set")
	}

	// Following from a later attempt than the first says which it is.
	out.Reset()
	errOut.Reset()
	f = &follower{stdout: &out, stderr: &errOut}
	if err := f.take(&server.TaskLog{Attempt: 3, Data: []byte("z"), Next: 1}); err != nil || errOut.String() != "--- attempt 3 ---\n" {
		t.Errorf("joined at attempt 3: told %q, %v", errOut.String(), err)
	}
}

package script

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/plugins/internal/tail"
	"github.com/hookrelay/hookrelay/plugins/sdk"
)

// Handler is the built-in script runner as a plugin: each task's config is
// a Job, run with the task's body and event.
type Handler struct {
	// EventDir is where event files are written (Spec.EventDir).
	EventDir string
}

var _ sdk.Handler = Handler{}

// Handle runs the task's Job. A start failure, a non-zero exit, a signal
// or the timeout make a failed result carrying the output's tails.
func (h Handler) Handle(ctx context.Context, t *sdk.Task) (sdk.Result, error) {
	var j Job
	if err := t.DecodeConfig(&j); err != nil {
		return sdk.Result{Failed: true, Error: "the task is not a script job: " + err.Error()}, nil
	}
	spec := j.Spec(t.Body, t.Event)
	spec.EventDir = h.EventDir
	spec.Env = TaskEnv(j.Env, t.TaskID, t.Attempt, t.Route)
	spec.Log = t.Log() // for tasks show --follow
	var (
		mu             sync.Mutex
		stdout, stderr *tail.Writer
	)
	spec.Live = func(o, e *tail.Writer) {
		mu.Lock()
		defer mu.Unlock()
		stdout, stderr = o, e
	}
	t.Progress(func() string {
		mu.Lock()
		o, e := stdout, stderr
		mu.Unlock()
		if o == nil {
			return "" // not started yet
		}
		var r Result
		r.Stdout, r.StdoutTruncated = o.Tail()
		r.Stderr, r.StderrTruncated = e.Tail()
		return output(r)
	})
	r, err := Run(ctx, spec)
	if err != nil {
		return sdk.Result{Failed: true, ExitCode: -1, Error: err.Error()}, nil
	}
	out := sdk.Result{ExitCode: r.ExitCode, Output: output(r)}
	switch {
	case r.TimedOut:
		out.Failed, out.Error = true, fmt.Sprintf("timed out after %s; the process group was killed", j.Timeout)
	case ctx.Err() != nil:
		out.Failed, out.Error = true, "stopped: "+ctx.Err().Error()
	case r.Signal != "":
		out.Failed, out.Error = true, "killed by "+r.Signal
	case r.ExitCode != 0:
		out.Failed, out.Error = true, fmt.Sprintf("exit status %d", r.ExitCode)
	}
	return out, nil
}

// TaskOutput is how much of a task's output the server keeps with each
// attempt: output fits the tails of both streams in it, labels included.
const TaskOutput = 8 << 10

// output joins the tails of stdout and stderr for the task's status, each
// under a label that says how much of it was dropped, within TaskOutput: a
// stream gets half of the room, and more if the other needs less.
func output(r Result) string {
	streams := []struct {
		name    string
		text    string
		dropped int64
	}{{"stdout", r.Stdout, r.StdoutTruncated}, {"stderr", r.Stderr, r.StderrTruncated}}
	const labelRoom = 80 // "--- stderr (last part; N bytes before it dropped) ---\n" and a newline
	room := TaskOutput
	var b strings.Builder
	for i, s := range streams {
		if s.text == "" {
			continue
		}
		share := room - labelRoom
		if i == 0 && r.Stderr != "" {
			share = max(room/2, room-labelRoom-len(r.Stderr)-labelRoom) - labelRoom
		}
		text, dropped := s.text, s.dropped
		if len(text) > share {
			cut := len(text) - share
			for cut < len(text) && !utf8.RuneStart(text[cut]) {
				cut++
			}
			text, dropped = text[cut:], dropped+int64(cut)
		}
		start := b.Len()
		fmt.Fprintf(&b, "--- %s", s.name)
		if dropped > 0 {
			fmt.Fprintf(&b, " (last part; %d bytes before it dropped)", dropped)
		}
		b.WriteString(" ---\n")
		b.WriteString(text)
		if !strings.HasSuffix(text, "\n") {
			b.WriteByte('\n')
		}
		room -= b.Len() - start
	}
	return b.String()
}

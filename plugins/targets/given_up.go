package targets

import (
	"context"
	"time"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/plugins/host"
)

// logReader is a Runner that keeps its tasks' live logs (a *host.Plugin).
type logReader interface {
	Log(ctx context.Context, taskID, logID string, from int64) (host.LogChunk, error)
}

// logPoll is how often givenUpOutput looks again at a log still written.
const logPoll = 50 * time.Millisecond

// givenUpOutput is what attempt attempt of task taskID printed, from its
// live log in the plugin (a script's stdout and stderr, interleaved): the
// output of an attempt whose call was given up (cancelled, cut short by a
// stop or a timeout), which no answer brings. It reads until the plugin
// has ended the attempt (a script's process group stopped), or for wait
// at most; nil when the plugin keeps no log of it.
func givenUpOutput(r Runner, taskID string, attempt int, wait time.Duration) *delivery.Answer {
	lr, ok := r.(logReader)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var (
		id        string
		from      int64
		out       []byte
		truncated bool
	)
	for ctx.Err() == nil {
		c, err := lr.Log(ctx, taskID, id, from)
		if err != nil || c.ID == "" || c.Attempt > attempt {
			break
		}
		id, from = c.ID, c.Next
		if c.Attempt < attempt {
			if !c.Newer {
				break // the plugin keeps no log of this attempt
			}
			continue // the next call gives the next log
		}
		if len(out) == 0 && c.Start > 0 {
			truncated = true // the plugin kept only the end
		}
		out = append(out, c.Data...)
		if len(out) > maxOutput {
			out, truncated = out[len(out)-maxOutput:], true
		}
		if c.Ended && len(c.Data) == 0 {
			break // all of it
		}
		if len(c.Data) == 0 {
			t := time.NewTimer(logPoll)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
	if id == "" || out == nil {
		return nil
	}
	return &delivery.Answer{Body: out, Truncated: truncated}
}

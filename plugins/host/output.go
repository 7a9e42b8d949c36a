package host

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/hookrelay/hookrelay/plugins/proto"
	"github.com/hookrelay/hookrelay/plugins/sdk"
)

// ErrTaskNotRunning is returned by Output for a task the plugin is not
// running now.
var ErrTaskNotRunning = errors.New("the plugin is not running the task")

// Output is the output so far of task taskID, which the plugin is running:
// what its handler reports through sdk.Task.Progress (a script's stdout and
// stderr), or "" when it reports nothing, as a plugin built before the SDK
// had Progress does.
func (p *Plugin) Output(ctx context.Context, taskID string) (string, error) {
	inst, err := p.serving(taskID)
	if err != nil {
		return "", err
	}
	resp, err := inst.rpc.Output(ctx, &pb.OutputRequest{TaskId: taskID})
	if status.Code(err) == codes.Unimplemented {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("plugin %s: task %s: asking for its output: %w", p.cfg.Name, taskID, err)
	}
	if !resp.GetRunning() {
		return "", fmt.Errorf("plugin %s: task %s: %w", p.cfg.Name, taskID, ErrTaskNotRunning)
	}
	return sdk.Tail(resp.GetOutput()), nil
}

// LogChunk is a piece of a task's live log (see sdk.Task.Log): bytes Start
// to Next of log ID, attempt Attempt's. ID is empty when the plugin keeps
// no log of the task: it runs none of its attempts, and ended none
// lately, or it was built before the SDK kept logs.
type LogChunk struct {
	// ID names the log: one attempt's, unique in the plugin process's life.
	ID string
	// Attempt is that attempt's number, from 1.
	Attempt int
	// Data is the log from byte Start to byte Next.
	Data []byte
	// Start is later than asked when the plugin no longer keeps what was
	// before (it keeps the last sdk.LogLimit bytes); Next is where to ask
	// on from.
	Start, Next int64
	// Ended is set once the attempt has ended: Next is then the log's end.
	Ended bool
	// Newer is set when the plugin keeps a later attempt's log too.
	Newer bool
}

// Log is task taskID's live log in the plugin, from byte from of log
// logID on; once that log is read to its end, the next attempt's; for an
// empty or unknown logID, the oldest the plugin keeps.
func (p *Plugin) Log(ctx context.Context, taskID, logID string, from int64) (LogChunk, error) {
	inst, err := p.serving(taskID)
	if err != nil {
		return LogChunk{}, err
	}
	resp, err := inst.rpc.Output(ctx, &pb.OutputRequest{TaskId: taskID, Log: true, LogId: logID, LogFrom: from})
	if status.Code(err) == codes.Unimplemented {
		return LogChunk{}, nil
	}
	if err != nil {
		return LogChunk{}, fmt.Errorf("plugin %s: task %s: asking for its log: %w", p.cfg.Name, taskID, err)
	}
	return LogChunk{ID: resp.GetLogId(), Attempt: int(resp.GetLogAttempt()), Data: resp.GetLog(), Start: resp.GetLogStart(),
		Next: resp.GetLogNext(), Ended: resp.GetLogEnded(), Newer: resp.GetLogNewer()}, nil
}

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

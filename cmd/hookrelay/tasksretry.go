package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/hookrelay/hookrelay/server"
)

// retryPoll is how often `tasks retry --wait` and `tasks cancel` look at
// the task.
const retryPoll = 200 * time.Millisecond

// runTasksRetry is "hookrelay tasks retry TASK_ID": the task is queued
// again, due now (its route's retries count afresh). With --wait the
// command waits for that attempt and prints it like `tasks show`, exiting
// 0 only when it succeeded; with --follow it prints the output of that
// attempt and any after it as it comes, like `tasks show --follow`.
func runTasksRetry(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tasks retry", flag.ContinueOnError)
	usageFor(fs, "hookrelay tasks retry TASK_ID [flags]")
	var cf connFlags
	cf.register(fs)
	wait := fs.Bool("wait", false, "wait for the new attempt to end, print it, and exit 1 unless it succeeded")
	follow := fs.Bool("follow", false, "print the output of the new attempt (and of any retry after it) as it comes, until the task has ended; then the task on stderr; exit 1 unless it succeeded")
	timeout := fs.Duration("timeout", 0, "with --wait or --follow: give up after this long (exit 1; the task still runs); 0: no limit")
	pos, code, ok := parseArgs(fs, args, 1, "one task id", stderr)
	if !ok {
		return code
	}
	switch {
	case *timeout != 0 && !*wait && !*follow:
		fmt.Fprintln(stderr, "hookrelay tasks retry: --timeout is for --wait or --follow")
		return exitUsage
	case *wait && *follow:
		fmt.Fprintln(stderr, "hookrelay tasks retry: --wait or --follow, not both")
		return exitUsage
	}
	c, code, ok := cf.connectAdmin("tasks retry", tasksAdminOnly, stderr)
	if !ok {
		return code
	}
	id := pos[0]
	// The task first: a delivery that is not a task (a tunnel's) is not
	// retried here, and a task that succeeded is not run again by mistake.
	before, err := getTask(ctx, c, id)
	if err != nil {
		return fail(stderr, "tasks retry", err)
	}
	switch before.Status {
	case "succeeded":
		return fail(stderr, "tasks retry", fmt.Errorf("task %s succeeded; to run it again, replay its event: hookrelay replay %s", id, before.EventID))
	case "running":
		return fail(stderr, "tasks retry", fmt.Errorf("task %s is running now; wait for its end (hookrelay tasks show %s), or stop it first (hookrelay tasks cancel %s)", id, id, id))
	}
	var res server.RetryResult
	if err := c.do(ctx, "POST", "/deliveries/"+url.PathEscape(id)+"/retry", nil, nil, &res); err != nil {
		return fail(stderr, "tasks retry", err)
	}
	switch {
	case *follow:
		fmt.Fprintf(stderr, "task %s queued again; its output follows\n", id)
		return showFollowing(ctx, c, id, res.Delivery.Attempts, *timeout, stdout, stderr)
	case !*wait:
		fmt.Fprintf(stdout, "task %s queued again (route %s)\n", id, orDash(before.Route))
		return exitOK
	}
	fmt.Fprintf(stderr, "task %s queued again; waiting for its attempt\n", id)
	// The attempt the retry asked for: one that began at or after it (the
	// server's clock), and has ended.
	attempts, retried := res.Delivery.Attempts, res.Delivery.CreatedAt
	t, err := awaitTask(ctx, c, id, *timeout, func(t *server.Task) bool {
		return t.Attempts > attempts && t.Status != "queued" && t.Status != "running" &&
			len(t.History) > 0 && !t.History[len(t.History)-1].At.Before(retried)
	})
	if err != nil {
		return fail(stderr, "tasks retry", fmt.Errorf("waiting for task %s: %w (it may still run: hookrelay tasks show %s)", id, err, id))
	}
	if err := printTask(stdout, t); err != nil {
		return fail(stderr, "tasks retry", err)
	}
	if t.Status != "succeeded" {
		return exitError
	}
	return exitOK
}

// getTask reads one task.
func getTask(ctx context.Context, c *apiClient, id string) (*server.Task, error) {
	var t server.Task
	if err := c.do(ctx, "GET", "/tasks/"+url.PathEscape(id), nil, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// awaitTask polls task id until done accepts it, for at most timeout (0:
// no limit), as pollTask does.
func awaitTask(ctx context.Context, c *apiClient, id string, timeout time.Duration, done func(*server.Task) bool) (*server.Task, error) {
	var t *server.Task
	err := pollTask(ctx, timeout, func(ctx context.Context) (bool, error) {
		var err error
		t, err = getTask(ctx, c, id)
		return err == nil && done(t), err
	})
	return t, err
}

// pollTask calls step every retryPoll until it reports done, for at most
// timeout (0: no limit). The server's refusals end the wait; a failed
// request (the server restarting) is tried again at the next poll, and
// reported if the wait ends first.
func pollTask(ctx context.Context, timeout time.Duration, step func(context.Context) (bool, error)) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, fmt.Errorf("not done within --timeout %s", timeout))
		defer cancel()
	}
	tick := time.NewTicker(retryPoll)
	defer tick.Stop()
	var last error
	for {
		done, err := step(ctx)
		var refused *apiError
		switch {
		case errors.As(err, &refused):
			return err
		case err != nil:
			last = err
		case done:
			return nil
		}
		select {
		case <-ctx.Done():
			err := ctx.Err()
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				err = cause
			}
			if last != nil {
				return fmt.Errorf("%w (last request: %v)", err, last)
			}
			return err
		case <-tick.C:
		}
	}
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/hookrelay/hookrelay/server"
)

// runTasksCancel is "hookrelay tasks cancel TASK_ID": a queued task (or
// one waiting for a retry) dies at once; a running one is stopped (a
// script's whole process group gets SIGTERM, then SIGKILL) and the command
// waits until it is dead, then prints it like `tasks show`.
func runTasksCancel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tasks cancel", flag.ContinueOnError)
	usageFor(fs, "hookrelay tasks cancel TASK_ID [flags]")
	var cf connFlags
	cf.register(fs)
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for a running task to be stopped")
	pos, code, ok := parseArgs(fs, args, 1, "one task id", stderr)
	if !ok {
		return code
	}
	c, code, ok := cf.connectAdmin("tasks cancel", tasksAdminOnly, stderr)
	if !ok {
		return code
	}
	id := pos[0]
	var t server.Task
	if err := c.do(ctx, "POST", "/tasks/"+url.PathEscape(id)+"/cancel", nil, nil, &t); err != nil {
		return fail(stderr, "tasks cancel", err)
	}
	if t.Status != "dead" {
		fmt.Fprintf(stderr, "task %s is being stopped\n", id)
		got, err := awaitTask(ctx, c, id, *timeout, func(t *server.Task) bool { return t.Status == "dead" })
		if err != nil {
			return fail(stderr, "tasks cancel", fmt.Errorf("waiting for task %s: %w (see hookrelay tasks show %s)", id, err, id))
		}
		t = *got
	}
	if err := printTask(stdout, &t); err != nil {
		return fail(stderr, "tasks cancel", err)
	}
	return exitOK
}

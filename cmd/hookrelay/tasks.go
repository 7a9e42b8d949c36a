package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hookrelay/hookrelay/server"
)

const tasksUsage = `Usage:
  hookrelay tasks list [flags]    script and plugin runs, newest first (admin token)
  hookrelay tasks show TASK_ID    one run: status, exit code, output, every attempt [--wait]
  hookrelay tasks retry TASK_ID   run a failed or dead task again, now [--wait]
  hookrelay tasks cancel TASK_ID  stop a running task, or drop a queued or failed one: it dies
`

// tasksAdminOnly is why the tasks commands need the admin token.
const tasksAdminOnly = "tasks belong to no channel"

// runTasks is "hookrelay tasks": the runs of exec and plugin routes.
func runTasks(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, tasksUsage)
		return exitUsage
	}
	switch args[0] {
	case "list":
		return runTasksList(ctx, args[1:], stdout, stderr)
	case "show":
		return runTasksShow(ctx, args[1:], stdout, stderr)
	case "retry":
		return runTasksRetry(ctx, args[1:], stdout, stderr)
	case "cancel":
		return runTasksCancel(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, tasksUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "hookrelay tasks: unknown command %q\n\n%s", args[0], tasksUsage)
		return exitUsage
	}
}

func runTasksList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tasks list", flag.ContinueOnError)
	usageFor(fs, "hookrelay tasks list [flags]")
	var cf connFlags
	cf.register(fs)
	route := fs.String("route", "", "only runs of this route")
	status := fs.String("status", "", "only tasks with this status: queued, running, succeeded, failed or dead")
	limit := fs.Int("limit", server.DefaultListLimit, "at most this many tasks (up to "+strconv.Itoa(server.MaxListLimit)+")")
	before := fs.String("before", "", "only tasks older than this task id: the next page of a listing")
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	if _, code, ok := parseArgs(fs, args, 0, "no arguments", stderr); !ok {
		return code
	}
	c, code, ok := cf.connectAdmin("tasks list", tasksAdminOnly, stderr)
	if !ok {
		return code
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, v := range map[string]string{"route": *route, "status": *status, "before": *before} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var raw json.RawMessage
	if err := c.do(ctx, "GET", "/tasks", q, nil, &raw); err != nil {
		return fail(stderr, "tasks list", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, raw)
	}
	var l server.TaskList
	if err := json.Unmarshal(raw, &l); err != nil {
		return fail(stderr, "tasks list", fmt.Errorf("decoding the answer: %w", err))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tTASK\tROUTE\tTARGET\tSTATUS\tATTEMPTS\tEXIT")
	for _, t := range l.Tasks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", t.CreatedAt.Local().Format(time.DateTime), t.ID, orDash(t.Route),
			t.Target, t.Status, t.Attempts, exitOf(t.ExitCode))
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, "tasks list", err)
	}
	if l.Next != "" {
		fmt.Fprintf(stderr, "more tasks: add --before %s\n", l.Next)
	}
	return exitOK
}

func runTasksShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tasks show", flag.ContinueOnError)
	usageFor(fs, "hookrelay tasks show TASK_ID [flags]")
	var cf connFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	wait := fs.Bool("wait", false, "wait until the task has ended (succeeded, or dead), and exit 1 unless it succeeded")
	follow := fs.Bool("follow", false, "print the task's output as it comes, attempt after attempt, until it has ended; then the task on stderr; exit 1 unless it succeeded")
	timeout := fs.Duration("timeout", 0, "with --wait or --follow: give up after this long (exit 1; the task goes on); 0: no limit")
	pos, code, ok := parseArgs(fs, args, 1, "one task id", stderr)
	if !ok {
		return code
	}
	switch {
	case *timeout != 0 && !*wait && !*follow:
		fmt.Fprintln(stderr, "hookrelay tasks show: --timeout is for --wait or --follow")
		return exitUsage
	case *follow && (*wait || *asJSON):
		fmt.Fprintln(stderr, "hookrelay tasks show: --follow prints the output as it comes: not with --wait or --json")
		return exitUsage
	}
	c, code, ok := cf.connectAdmin("tasks show", tasksAdminOnly, stderr)
	if !ok {
		return code
	}
	if *follow {
		return showFollowing(ctx, c, pos[0], 0, *timeout, stdout, stderr)
	}
	failed := false
	if *wait {
		t, err := awaitTask(ctx, c, pos[0], *timeout, func(t *server.Task) bool { return t.Status == "succeeded" || t.Status == "dead" })
		if err != nil {
			return fail(stderr, "tasks show", fmt.Errorf("waiting for task %s: %w", pos[0], err))
		}
		failed = t.Status != "succeeded"
	}
	var raw json.RawMessage
	if err := c.do(ctx, "GET", "/tasks/"+url.PathEscape(pos[0]), nil, nil, &raw); err != nil {
		return fail(stderr, "tasks show", err)
	}
	if *asJSON {
		if code := printJSON(stdout, stderr, raw); code != exitOK || !failed {
			return code
		}
		return exitError
	}
	var t server.Task
	if err := json.Unmarshal(raw, &t); err != nil {
		return fail(stderr, "tasks show", fmt.Errorf("decoding the answer: %w", err))
	}
	if err := printTask(stdout, &t); err != nil {
		return fail(stderr, "tasks show", err)
	}
	if failed {
		return exitError
	}
	return exitOK
}

// showFollowing is `tasks show --follow`: the task's live logs (of its
// attempts after the first after) on stdout until it has ended (or, when
// no log was kept, its last attempt's output), then the task on stderr;
// exit 0 only if it succeeded.
func showFollowing(ctx context.Context, c *apiClient, id string, after int, timeout time.Duration, stdout, stderr io.Writer) int {
	t, f, err := followTask(ctx, c, id, after, timeout, stdout, stderr)
	if err != nil {
		return fail(stderr, "tasks", fmt.Errorf("following task %s: %w (it may still run: hookrelay tasks show %s)", id, err, id))
	}
	switch {
	case !f.printed:
		// No live log was kept: the last attempt's output is the output.
		fmt.Fprint(stdout, t.Output)
		t.Output = ""
	case !f.lost:
		t.Output = "" // printed as it came
	}
	fmt.Fprintln(stderr)
	if err := printTask(stderr, t); err != nil {
		return fail(stderr, "tasks", err)
	}
	if t.Status != server.TaskSucceeded {
		return exitError
	}
	return exitOK
}

// printTask prints a task as `tasks show` does: its fields, then the
// output of its last attempt.
func printTask(stdout io.Writer, t *server.Task) error {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	attempts := strconv.Itoa(t.Attempts)
	if t.RunningAttempt > 0 {
		// Attempts counts those that ended.
		attempts += fmt.Sprintf(" ended; attempt %d running", t.RunningAttempt)
	}
	fmt.Fprintf(tw, "task\t%s\nevent\t%s\nroute\t%s\ntarget\t%s\nstatus\t%s\nattempts\t%s\nexit code\t%s\n",
		t.ID, t.EventID, orDash(t.Route), t.Target, t.Status, attempts, exitOf(t.ExitCode))
	if !t.StartedAt.IsZero() {
		fmt.Fprintf(tw, "started\t%s\n", t.StartedAt.Local().Format(time.DateTime))
	}
	if !t.EndedAt.IsZero() {
		fmt.Fprintf(tw, "ended\t%s (%s)\n", t.EndedAt.Local().Format(time.DateTime), t.EndedAt.Sub(t.StartedAt).Round(time.Millisecond))
	}
	if !t.NextAt.IsZero() {
		fmt.Fprintf(tw, "next attempt\t%s\n", t.NextAt.Local().Format(time.DateTime))
	}
	if t.CancelRequestedBy != "" {
		fmt.Fprintf(tw, "cancelled\tby %s, being stopped\n", t.CancelRequestedBy)
	}
	if t.Error != "" {
		fmt.Fprintf(tw, "error\t%s\n", t.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(t.History) > 1 {
		// Every attempt, a line each; the output below is the last one's.
		fmt.Fprintln(stdout)
		fmt.Fprintln(tw, "attempt\tstarted\ttook\toutcome\texit code\terror")
		for _, a := range t.History {
			code := "-"
			if a.Response != nil {
				code = exitOf(a.Response.ExitCode)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.N, a.At.Local().Format(time.DateTime),
				a.Duration.Round(time.Millisecond), a.Outcome, code, orDash(oneLine(a.Error)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if t.Output != "" {
		fmt.Fprintf(stdout, "\n%s", t.Output)
		if !strings.HasSuffix(t.Output, "\n") {
			fmt.Fprintln(stdout)
		}
	}
	return nil
}

// oneLine is s up to its first line break, marked as cut if it was.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// exitOf formats an exit code, or "-" when there is none yet.
func exitOf(code *int) string {
	if code == nil {
		return "-"
	}
	return strconv.Itoa(*code)
}

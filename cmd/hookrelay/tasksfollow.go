package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/hookrelay/hookrelay/server"
)

// follower prints a task's live log as it comes: stdout gets the log's
// bytes, each once and in order; stderr gets where a new attempt starts
// and how much the plugin no longer kept.
type follower struct {
	stdout, stderr io.Writer
	attempt        int   // the attempt whose log is being printed
	next           int64 // how much of it has been printed
	printed        bool  // whether any log was
	lost           bool  // whether the rest of this attempt's log was lost
}

// take prints what l adds to what was printed.
func (f *follower) take(l *server.TaskLog) error {
	if l.Attempt == 0 {
		// No plugin keeps a log of the task now: none of its attempts ran
		// lately, or the plugin forgot the one being printed (restarted, or
		// past the number of ended logs it keeps).
		if f.attempt != 0 && !f.lost {
			fmt.Fprintf(f.stderr, "[the rest of attempt %d's output is no longer kept; its tail is in the task below]\n", f.attempt)
			f.lost = true
		}
		return nil
	}
	f.lost = false
	if l.Attempt != f.attempt {
		// The server answers from the start of the new attempt's log.
		if f.attempt != 0 || l.Attempt > 1 {
			fmt.Fprintf(f.stderr, "--- attempt %d ---\n", l.Attempt)
		}
		f.attempt, f.next = l.Attempt, 0
	}
	if l.Start > f.next {
		fmt.Fprintf(f.stderr, "[%d bytes of output went by unread]\n", l.Start-f.next)
	}
	if _, err := f.stdout.Write(l.Data); err != nil {
		return err
	}
	f.next, f.printed = l.Next, f.printed || len(l.Data) > 0
	return nil
}

// followTask prints task id's live log as it comes, attempt after
// attempt, until the task has ended (succeeded, or dead) and its last
// attempt's log has been read, for at most timeout (0: no limit). It
// returns the task as it ended, and the follower, which says what of the
// log it printed.
func followTask(ctx context.Context, c *apiClient, id string, timeout time.Duration, stdout, stderr io.Writer) (*server.Task, *follower, error) {
	f := &follower{stdout: stdout, stderr: stderr}
	var (
		t        *server.Task
		printErr error
	)
	err := pollTask(ctx, timeout, func(ctx context.Context) (bool, error) {
		var l server.TaskLog
		q := url.Values{"attempt": {strconv.Itoa(f.attempt)}, "from": {strconv.FormatInt(f.next, 10)}}
		if err := c.do(ctx, "GET", "/tasks/"+url.PathEscape(id)+"/log", q, nil, &l); err != nil {
			return false, err
		}
		if printErr = f.take(&l); printErr != nil {
			return true, nil
		}
		t = &l.Task
		ended := t.Status == server.TaskSucceeded || t.Status == server.TaskDead
		return ended && (l.Attempt == 0 || l.Ended), nil
	})
	if err == nil {
		err = printErr
	}
	return t, f, err
}

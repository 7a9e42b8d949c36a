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

// followEndWait bounds the wait, once a task has ended, for the end of its
// last attempt's log: a plugin's handler that ignores its context can run
// on after its attempt was recorded.
const followEndWait = 5 * time.Second

// follower prints a task's live logs as they come: stdout gets the logs'
// bytes, each once and in order; stderr gets where a new attempt starts
// and what went by unread.
type follower struct {
	stdout, stderr io.Writer
	logID          string // the log being printed
	attempt        int    // its attempt
	next           int64  // how much of it has been printed
	ended          bool   // whether its end has been
	printed        bool   // whether any log was
	lost           bool   // whether the rest of the log was lost
	// after skips the logs of the task's first attempts: those made
	// before a retry by hand, for tasks retry --follow.
	after int
	// endWait bounds the wait for the last log's end once the task has
	// ended (followEndWait).
	endWait time.Duration
}

// take prints what l adds to what was printed.
func (f *follower) take(l *server.TaskLog) error {
	switch {
	case l.LogError != "":
		return nil // the plugin did not answer this time
	case l.LogID == "":
		// No plugin keeps a log of the task now: none of its attempts ran
		// lately, or the plugin forgot the log (restarted, or past the
		// number of ended logs it keeps).
		f.loseRest()
		return nil
	case l.LogID != f.logID:
		// The server answers from the start of the new log.
		f.loseRest()
		if l.Attempt > f.after && (f.logID != "" || l.Attempt > 1) {
			fmt.Fprintf(f.stderr, "--- attempt %d ---\n", l.Attempt)
		}
		f.logID, f.attempt, f.next, f.ended, f.lost = l.LogID, l.Attempt, 0, false, false
	}
	if f.attempt <= f.after {
		// Not this follow's (from before a retry): skipped, as if read.
		f.next, f.ended = l.Next, true
		return nil
	}
	if l.Start > f.next {
		fmt.Fprintf(f.stderr, "[%d bytes of output went by unread]\n", l.Start-f.next)
	}
	if _, err := f.stdout.Write(l.Data); err != nil {
		return err
	}
	f.next, f.ended, f.printed = l.Next, l.Ended, f.printed || len(l.Data) > 0
	return nil
}

// loseRest says, once, that the rest of the log being printed is not
// kept any more, unless it was printed to its end.
func (f *follower) loseRest() {
	if f.logID != "" && !f.ended && !f.lost {
		fmt.Fprintf(f.stderr, "[the rest of attempt %d's output is no longer kept]\n", f.attempt)
		f.lost = true
	}
}

// missedLast says, unless the follower said it lost something already,
// that the last attempt of t, which has ended, had no log it printed: the
// task printed after the log then shows that attempt's output.
func (f *follower) missedLast(t *server.Task) {
	if f.logID != "" && !f.lost && f.attempt != t.Attempts {
		fmt.Fprintf(f.stderr, "[attempt %d's output was not kept as it came]\n", t.Attempts)
		f.lost = true
	}
}

// followTask prints task id's live logs as they come, attempt after
// attempt (those after its first after attempts), until the task has
// ended (succeeded, or dead) and its last attempt's log has been read (or
// followEndWait has passed), for at most timeout (0: no limit). It
// returns the task as it ended, and the follower, which says what of the
// logs it printed.
func followTask(ctx context.Context, c *apiClient, id string, after int, timeout time.Duration, stdout, stderr io.Writer) (*server.Task, *follower, error) {
	f := &follower{stdout: stdout, stderr: stderr, endWait: followEndWait, after: after}
	return f.follow(ctx, c, id, timeout)
}

// follow is followTask with f.
func (f *follower) follow(ctx context.Context, c *apiClient, id string, timeout time.Duration) (*server.Task, *follower, error) {
	var (
		t        *server.Task
		endSeen  time.Time
		printErr error
	)
	err := pollTask(ctx, timeout, func(ctx context.Context) (bool, error) {
		var l server.TaskLog
		q := url.Values{"log": {f.logID}, "from": {strconv.FormatInt(f.next, 10)}}
		if err := c.do(ctx, "GET", "/tasks/"+url.PathEscape(id)+"/log", q, nil, &l); err != nil {
			return false, err
		}
		if printErr = f.take(&l); printErr != nil {
			return true, nil
		}
		t = &l.Task
		switch {
		case t.Status != server.TaskSucceeded && t.Status != server.TaskDead:
			return false, nil
		case l.LogError == "" && (l.LogID == "" || (l.Ended && !l.Newer)):
			f.missedLast(t)
			return true, nil
		case endSeen.IsZero():
			endSeen = time.Now()
		case time.Since(endSeen) > f.endWait:
			if l.LogError != "" {
				fmt.Fprintf(f.stderr, "[the plugin did not give the rest of the output: %s]\n", l.LogError)
			} else {
				fmt.Fprintf(f.stderr, "[attempt %d's handler still runs %s after the task ended; not following it further]\n", l.Attempt, f.endWait)
			}
			f.lost = true
			return true, nil
		}
		return false, nil
	})
	if err == nil {
		err = printErr
	}
	return t, f, err
}

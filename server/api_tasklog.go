package server

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// TaskLog is the answer to GET /api/tasks/{id}/log: the task, and a piece
// of the live log of one of its attempts (what a script prints, stdout
// and stderr interleaved, as it prints it).
type TaskLog struct {
	// Task is as GET /api/tasks/{id} shows it, without its history, and
	// with its output only once it has ended. It is read before the log:
	// once it has ended, the log read after it is whole.
	Task Task `json:"task"`
	// LogID names the log this is from, one attempt's; empty when no
	// plugin keeps a log of the task now (no attempt of it ran lately, or
	// its plugin was built before logs). Attempt is that attempt's number.
	LogID   string `json:"log_id"`
	Attempt int    `json:"attempt"`
	// Data is the log from byte Start to byte Next (base64 in JSON). Start
	// is later than asked when the bytes between are no longer kept.
	Data  []byte `json:"data"`
	Start int64  `json:"start"`
	Next  int64  `json:"next"`
	// Ended is set once the attempt has ended: Next is then its log's end.
	Ended bool `json:"ended"`
	// Newer is set when a later attempt's log is kept too: asking from
	// this one's end gets it.
	Newer bool `json:"newer"`
	// LogError says why there is no log this time: the plugin running the
	// task did not answer. Ask again.
	LogError string `json:"log_error,omitempty"`
}

// taskLog answers GET /api/tasks/{id}/log?log=ID&from=N (admin): the live
// log from byte N of log ID; once that log is read to its end, the next
// attempt's from its start; with no log, or one no longer kept, the oldest
// kept. A follower passes back the log_id and next it got.
func (a *api) taskLog(c echo.Context, p principal) error {
	if !p.admin {
		return errTasksAdminOnly
	}
	from, err := nonNegative(c.QueryParam("from"), "from")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := a.lookupTask(ctx, c.Param("id"), false)
	if err != nil {
		return err
	}
	t.History = nil
	if t.Status != TaskSucceeded && t.Status != TaskDead {
		t.Output = "" // an earlier attempt's: the log is the news
	}
	out := TaskLog{Task: t}
	if a.s.cfg.TaskOutputs != nil {
		lctx, cancel := context.WithTimeout(ctx, liveOutputWait)
		defer cancel()
		l, err := a.s.cfg.TaskOutputs.TaskLog(lctx, t.Target, t.ID, c.QueryParam("log"), from)
		if err != nil {
			a.s.cfg.Log.Debug("no live log for a task", "task", t.ID, "target", t.Target, "err", err)
			out.LogError = err.Error()
		}
		out.LogID, out.Attempt, out.Data, out.Start, out.Next, out.Ended, out.Newer = l.ID, l.Attempt, l.Data, l.Start, l.Next, l.Ended, l.Newer
	}
	return c.JSON(http.StatusOK, out)
}

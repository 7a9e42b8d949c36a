package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/store"
)

// Task states, as GET /api/tasks shows a delivery to a plugin or exec
// target.
const (
	TaskQueued    = "queued"    // waiting for its first attempt
	TaskRunning   = "running"   // being attempted now
	TaskSucceeded = "succeeded" // delivered
	TaskFailed    = "failed"    // its last attempt failed; another is due
	TaskDead      = "dead"      // out of attempts or time
)

// Task is a delivery to a plugin or exec target, with its status.
type Task struct {
	ID      string `json:"id"`
	EventID string `json:"event_id"`
	Route   string `json:"route"`
	Target  string `json:"target"`
	Status  string `json:"status"`
	// Attempts made so far: those that ended.
	Attempts int `json:"attempts"`
	// RunningAttempt is the number of the attempt running now, from 1
	// (HOOKRELAY_ATTEMPT); 0 when none runs.
	RunningAttempt int       `json:"running_attempt,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// StartedAt is when its current or last attempt began, EndedAt when
	// its last attempt ended.
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// NextAt is when a failed task is tried again.
	NextAt time.Time `json:"next_attempt_at,omitzero"`
	// ExitCode, Output and Error are its last attempt's.
	ExitCode *int   `json:"exit_code,omitempty"`
	Output   string `json:"output,omitempty"`
	Error    string `json:"error,omitempty"`
	// CancelRequestedBy says who cancelled the task while it ran, until
	// its attempt's end is recorded (then it is dead, cancelled).
	CancelRequestedBy string `json:"cancel_requested_by,omitempty"`
	// History is every attempt (GET /api/tasks/{id} only).
	History []store.Attempt `json:"history,omitempty"`
}

// TaskList is the answer to GET /api/tasks.
type TaskList struct {
	Tasks []Task `json:"tasks"`
	Next  string `json:"next"`
}

// errTasksAdminOnly refuses channel tokens: tasks belong to no channel.
var errTasksAdminOnly = echo.NewHTTPError(http.StatusForbidden, "tasks belong to no channel: use the admin token")

var taskStatuses = []string{TaskQueued, TaskRunning, TaskSucceeded, TaskFailed, TaskDead}

// task describes d; with the attempts, in full.
func (a *api) task(d *store.Delivery, attempts []store.Attempt, full bool) Task {
	t := Task{ID: d.ID, EventID: d.EventID, Route: d.Route, Target: d.Target, Attempts: d.Attempts, CreatedAt: d.CreatedAt}
	if d.Status == store.Pending {
		t.CancelRequestedBy = d.CancelBy
	}
	if n := len(attempts); n > 0 {
		last := attempts[n-1]
		t.StartedAt, t.EndedAt, t.Error = last.At, last.At.Add(last.Duration), last.Error
		if last.Response != nil {
			t.ExitCode, t.Output = last.Response.ExitCode, last.Response.Body
		}
	}
	switch d.Status {
	case store.Delivered:
		t.Status = TaskSucceeded
	case store.Dead:
		t.Status = TaskDead
	default:
		t.Status, t.NextAt = TaskFailed, d.NextAt
		if d.Attempts == 0 {
			t.Status, t.NextAt = TaskQueued, time.Time{}
		}
		if since, ok := a.s.cfg.Deliveries.Running(d.ID); ok {
			t.Status, t.StartedAt, t.EndedAt, t.NextAt = TaskRunning, since, time.Time{}, time.Time{}
			t.RunningAttempt = d.Attempts + 1
		}
	}
	if full {
		t.History = attempts
	}
	return t
}

// listTasks answers GET /api/tasks?route=&status=&before=&limit= (admin).
func (a *api) listTasks(c echo.Context, p principal) error {
	if !p.admin {
		return errTasksAdminOnly
	}
	q := c.QueryParams()
	status := q.Get("status")
	if status != "" && !slices.Contains(taskStatuses, status) {
		return echo.NewHTTPError(http.StatusBadRequest, "status must be one of "+strings.Join(taskStatuses, ", "))
	}
	limit, err := queryLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	f := store.TaskFilter{Route: q.Get("route"), Before: q.Get("before"), Limit: limit + 1}
	switch status { // narrow in the store where a state maps to one
	case TaskSucceeded:
		f.Status = store.Delivered
	case TaskDead:
		f.Status = store.Dead
	case TaskQueued, TaskRunning, TaskFailed:
		f.Status = store.Pending
	}
	ctx := c.Request().Context()
	ds, err := a.s.cfg.Events.Tasks(ctx, f)
	if err != nil {
		return err
	}
	out := TaskList{Tasks: []Task{}}
	if len(ds) > limit {
		out.Next, ds = ds[limit-1].ID, ds[:limit]
	}
	for _, d := range ds {
		attempts, err := a.s.cfg.Events.Attempts(ctx, d.ID)
		if err != nil {
			return err
		}
		if t := a.task(d, attempts, false); status == "" || t.Status == status {
			out.Tasks = append(out.Tasks, t)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// showTask answers GET /api/tasks/{id} (admin).
func (a *api) showTask(c echo.Context, p principal) error {
	if !p.admin {
		return errTasksAdminOnly
	}
	t, err := a.lookupTask(c.Request().Context(), c.Param("id"), true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// lookupTask reads task id in full, with a running task's output so far
// when live: a 404 for an id that is no task (a tunnel delivery's
// included).
func (a *api) lookupTask(ctx context.Context, id string, live bool) (Task, error) {
	d, err := a.s.cfg.Events.Delivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && strings.HasPrefix(d.Target, "tunnel:")) {
		return Task{}, echo.NewHTTPError(http.StatusNotFound, "no task "+id)
	}
	if err != nil {
		return Task{}, err
	}
	attempts, err := a.s.cfg.Events.Attempts(ctx, d.ID)
	if err != nil {
		return Task{}, err
	}
	t := a.task(d, attempts, true)
	if live && t.Status == TaskRunning {
		// What it has printed so far, instead of the last attempt's.
		t.ExitCode, t.Output, t.Error = nil, a.liveOutput(ctx, d), ""
	}
	return t, nil
}

// liveOutputWait bounds the question to the plugin running a task.
const liveOutputWait = time.Second

// liveOutput is the output so far of d's attempt in flight, or "" when
// its plugin cannot say.
func (a *api) liveOutput(ctx context.Context, d *store.Delivery) string {
	if a.s.cfg.TaskOutputs == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, liveOutputWait)
	defer cancel()
	out, err := a.s.cfg.TaskOutputs.TaskOutput(ctx, d.Target, d.ID)
	if err != nil {
		a.s.cfg.Log.Debug("no output so far for a running task", "task", d.ID, "target", d.Target, "err", err)
		return ""
	}
	return out
}

// cancelTask answers POST /api/tasks/{id}/cancel (admin): a queued or
// failed task dies at once; a running one is stopped (a script's process
// group is killed) and dies once its attempt has returned. The answer is
// the task as it is then (202).
func (a *api) cancelTask(c echo.Context, p principal) error {
	if !p.admin {
		return errTasksAdminOnly
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := a.lookupTask(ctx, id, false); err != nil {
		return err
	}
	err := a.s.cfg.Deliveries.Cancel(ctx, id, p.String())
	switch {
	case errors.Is(err, delivery.ErrEnded):
		return echo.NewHTTPError(http.StatusConflict, "task "+id+" has ended; nothing to cancel")
	case errors.Is(err, delivery.ErrEnding):
		return echo.NewHTTPError(http.StatusConflict, "task "+id+" has just finished its attempt, whose outcome is being recorded; look again (hookrelay tasks show "+id+")")
	case errors.Is(err, store.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "no task "+id)
	case err != nil:
		return fmt.Errorf("cancelling task %s: %w", id, err)
	}
	t, err := a.lookupTask(ctx, id, false) // the output so far is moot
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, t)
}

// PluginList is the answer to GET /api/plugins.
type PluginList struct {
	Plugins map[string]host.Status `json:"plugins"`
}

// listPlugins answers GET /api/plugins (admin): each plugin process's
// state, PID, restarts and last error; the script runner is "exec".
func (a *api) listPlugins(c echo.Context, p principal) error {
	if !p.admin {
		return echo.NewHTTPError(http.StatusForbidden, "plugins belong to no channel: use the admin token")
	}
	out := PluginList{Plugins: map[string]host.Status{}}
	if a.s.cfg.Plugins != nil {
		out.Plugins = a.s.cfg.Plugins.PluginStates()
	}
	return c.JSON(http.StatusOK, out)
}

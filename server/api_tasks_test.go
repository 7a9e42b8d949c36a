package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// runningOnly reports one delivery as in flight.
type runningOnly struct {
	Deliveries
	id    string
	since time.Time
}

func (r runningOnly) Running(id string) (time.Time, bool) { return r.since, id == r.id }

func TestTaskStatus(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	code := 2
	failedAttempt := []store.Attempt{{N: 1, At: now, Duration: time.Second, Outcome: store.OutcomeFailed, Error: "exit status 2",
		Response: &store.Response{ExitCode: &code, Body: "oops"}}}
	a := &api{s: &Server{cfg: Config{Deliveries: runningOnly{id: "run", since: now.Add(time.Minute)}}}}
	tests := []struct {
		name       string
		d          store.Delivery
		attempts   []store.Attempt
		want       string
		wantNext   bool
		wantExit   *int
		wantOutput string
	}{
		{"queued", store.Delivery{ID: "q", Status: store.Pending}, nil, TaskQueued, false, nil, ""},
		{"running", store.Delivery{ID: "run", Status: store.Pending}, nil, TaskRunning, false, nil, ""},
		{"running, cancel asked", store.Delivery{ID: "run", Status: store.Pending, CancelBy: "admin"}, nil, TaskRunning, false, nil, ""},
		{"failed, retry due", store.Delivery{ID: "f", Status: store.Pending, Attempts: 1, NextAt: now.Add(time.Hour)}, failedAttempt, TaskFailed, true, &code, "oops"},
		{"succeeded", store.Delivery{ID: "s", Status: store.Delivered, Attempts: 1}, nil, TaskSucceeded, false, nil, ""},
		{"dead", store.Delivery{ID: "d", Status: store.Dead, Attempts: 1}, failedAttempt, TaskDead, false, &code, "oops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.task(&tt.d, tt.attempts, true)
			if got.Status != tt.want || !got.NextAt.IsZero() != tt.wantNext || (got.ExitCode == nil) != (tt.wantExit == nil) || got.Output != tt.wantOutput {
				t.Fatalf("task %+v, want status %s", got, tt.want)
			}
			if got.CancelRequestedBy != tt.d.CancelBy {
				t.Fatalf("cancel requested by %q, want %q", got.CancelRequestedBy, tt.d.CancelBy)
			}
			if tt.want == TaskRunning && (!got.StartedAt.Equal(now.Add(time.Minute)) || got.RunningAttempt != tt.d.Attempts+1) {
				t.Fatalf("a running task started at %s, its attempt %d running", got.StartedAt, got.RunningAttempt)
			}
			if tt.want != TaskRunning && got.RunningAttempt != 0 {
				t.Fatalf("a task not running says attempt %d runs", got.RunningAttempt)
			}
			if len(tt.attempts) > 0 && (!got.EndedAt.Equal(now.Add(time.Second)) || len(got.History) != 1) {
				t.Fatalf("ended %s, history %d", got.EndedAt, len(got.History))
			}
		})
	}
}

// Cancel is for tasks, by the admin: a channel's token, a tunnel delivery
// and an unknown id are refused, and the tunnel delivery is left alone.
func TestAPICancelTaskRefusals(t *testing.T) {
	r := newAPIRig(t)
	tunnelDelivery := r.show(r.away).Deliveries[0].ID
	tests := []struct {
		name, id, token, channel string
		want                     int
	}{
		{"channel token", tunnelDelivery, otherToken, "other", http.StatusForbidden},
		{"tunnel delivery", tunnelDelivery, adminToken, "", http.StatusNotFound},
		{"unknown", "no-such-task", adminToken, "", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, b := r.call("POST", "/api/tasks/"+tt.id+"/cancel", tt.token, tt.channel, nil, nil); code != tt.want {
				t.Fatalf("cancel: %d %s, want %d", code, b, tt.want)
			}
		})
	}
	if d := r.show(r.away).Deliveries[0]; d.Status != store.Pending {
		t.Fatalf("the tunnel delivery after the refused cancels: %s", d.Status)
	}
}

// The live log is for tasks, by the admin, from a whole offset.
func TestAPITaskLogRefusals(t *testing.T) {
	r := newAPIRig(t)
	tunnelDelivery := r.show(r.away).Deliveries[0].ID
	tests := []struct {
		name, path, token, channel string
		want                       int
	}{
		{"channel token", tunnelDelivery + "/log", otherToken, "other", http.StatusForbidden},
		{"tunnel delivery", tunnelDelivery + "/log", adminToken, "", http.StatusNotFound},
		{"unknown", "no-such-task/log?log=x&from=0", adminToken, "", http.StatusNotFound},
		{"negative offset", "t/log?from=-1", adminToken, "", http.StatusBadRequest},
		{"offset not a number", "t/log?from=ten", adminToken, "", http.StatusBadRequest},
		{"offset not whole", "t/log?from=1.5", adminToken, "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, b := r.call("GET", "/api/tasks/"+tt.path, tt.token, tt.channel, nil, nil); code != tt.want {
				t.Fatalf("GET log: %d %s, want %d", code, b, tt.want)
			}
		})
	}
}

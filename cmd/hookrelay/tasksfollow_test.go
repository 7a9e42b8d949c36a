package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/server"
)

// The follower prints each byte once, says where bytes went unread, where
// a new attempt starts and where the rest of a log was lost, and asks on
// from what it has printed.
func TestFollowerTake(t *testing.T) {
	var out, errOut bytes.Buffer
	f := &follower{stdout: &out, stderr: &errOut}
	steps := []struct {
		name     string
		l        server.TaskLog
		wantOut  string
		wantErr  string
		wantLog  string
		wantNext int64
		wantLost bool
	}{
		{"no log yet", server.TaskLog{}, "", "", "", 0, false},
		{"first bytes", server.TaskLog{LogID: "a", Attempt: 1, Data: []byte("ab"), Next: 2}, "ab", "", "a", 2, false},
		{"nothing new", server.TaskLog{LogID: "a", Attempt: 1, Start: 2, Next: 2}, "", "", "a", 2, false},
		{"a gap", server.TaskLog{LogID: "a", Attempt: 1, Data: []byte("xy"), Start: 10, Next: 12, Ended: true}, "xy", "[8 bytes of output went by unread]\n", "a", 12, false},
		{"the next attempt", server.TaskLog{LogID: "b", Attempt: 2, Data: []byte("c"), Next: 1}, "c", "--- attempt 2 ---\n", "b", 1, false},
		{"its log forgotten", server.TaskLog{}, "", "[the rest of attempt 2's output is no longer kept]\n", "b", 1, true},
		{"said once", server.TaskLog{}, "", "", "b", 1, true},
		{"a rerun, in a new process", server.TaskLog{LogID: "c", Attempt: 2, Data: []byte("d"), Next: 1}, "d", "--- attempt 2 ---\n", "c", 1, false},
		{"the next, the rest unread", server.TaskLog{LogID: "d", Attempt: 3, Data: []byte("e"), Next: 1},
			"e", "[the rest of attempt 2's output is no longer kept]\n--- attempt 3 ---\n", "d", 1, false},
	}
	for _, s := range steps {
		out.Reset()
		errOut.Reset()
		if err := f.take(&s.l); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if out.String() != s.wantOut || errOut.String() != s.wantErr || f.logID != s.wantLog || f.next != s.wantNext || f.lost != s.wantLost {
			t.Errorf("%s: printed %q, told %q, at log %q byte %d, lost %v; want %q, %q, %q, %d, %v",
				s.name, out.String(), errOut.String(), f.logID, f.next, f.lost, s.wantOut, s.wantErr, s.wantLog, s.wantNext, s.wantLost)
		}
	}

	// After a retry by hand, the earlier attempts' logs are skipped.
	out.Reset()
	errOut.Reset()
	f = &follower{stdout: &out, stderr: &errOut, after: 2}
	for _, l := range []server.TaskLog{
		{LogID: "a", Attempt: 2, Data: []byte("old"), Next: 3},
		{LogID: "a", Attempt: 2, Data: []byte("still"), Start: 3, Next: 8}, // a handler that runs on
		{LogID: "b", Attempt: 3, Data: []byte("new"), Next: 3},
	} {
		if err := f.take(&l); err != nil {
			t.Fatal(err)
		}
	}
	if out.String() != "new" || errOut.String() != "--- attempt 3 ---\n" {
		t.Errorf("after attempt 2: printed %q, told %q; want only attempt 3's", out.String(), errOut.String())
	}

	// Following from a later attempt than the first says which it is.
	errOut.Reset()
	f = &follower{stdout: &out, stderr: &errOut}
	if err := f.take(&server.TaskLog{LogID: "z", Attempt: 3, Data: []byte("z"), Next: 1}); err != nil || errOut.String() != "--- attempt 3 ---\n" {
		t.Errorf("joined at attempt 3: told %q, %v", errOut.String(), err)
	}
}

// scriptedLogs answers GET /api/tasks/{id}/log with answers in turn,
// the last one again once they run out, and records the queries.
type scriptedLogs struct {
	mu      sync.Mutex
	answers []server.TaskLog
	queries []string
}

func (s *scriptedLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, r.URL.RawQuery)
	a := s.answers[0]
	if len(s.answers) > 1 {
		s.answers = s.answers[1:]
	}
	json.NewEncoder(w).Encode(a)
}

// followScripted follows a task through answers, with endWait.
func followScripted(t *testing.T, endWait time.Duration, answers ...server.TaskLog) (*server.Task, *follower, string, string, []string) {
	t.Helper()
	api := &scriptedLogs{answers: answers}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)
	var out, errOut bytes.Buffer
	f := &follower{stdout: &out, stderr: &errOut, endWait: endWait}
	task, f, err := f.follow(t.Context(), &apiClient{base: base, http: srv.Client()}, "t1", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	return task, f, out.String(), errOut.String(), api.queries
}

func TestFollowTaskEnds(t *testing.T) {
	running := server.Task{ID: "t1", Status: server.TaskRunning}
	dead := server.Task{ID: "t1", Status: server.TaskDead, Attempts: 1, Output: "the tail"}
	succeeded := server.Task{ID: "t1", Status: server.TaskSucceeded, Attempts: 2}

	t.Run("read to the end, across attempts", func(t *testing.T) {
		task, f, out, errOut, queries := followScripted(t, time.Minute,
			server.TaskLog{Task: running, LogID: "a", Attempt: 1, Data: []byte("one "), Next: 4},
			server.TaskLog{Task: succeeded, LogID: "a", Attempt: 1, Data: []byte("two "), Start: 4, Next: 8, Ended: true, Newer: true},
			server.TaskLog{Task: succeeded, LogID: "b", Attempt: 2, Data: []byte("three"), Next: 5, Ended: true},
		)
		if task.Status != server.TaskSucceeded || out != "one two three" || f.lost || errOut != "--- attempt 2 ---\n" {
			t.Fatalf("status %s, printed %q, told %q, lost %v", task.Status, out, errOut, f.lost)
		}
		if want := []string{"from=0&log=", "from=4&log=a", "from=8&log=a"}; !slices.Equal(queries, want) {
			t.Fatalf("asked %q, want %q", queries, want)
		}
	})
	t.Run("the log forgotten before its end", func(t *testing.T) {
		task, f, out, errOut, _ := followScripted(t, time.Minute,
			server.TaskLog{Task: running, LogID: "a", Attempt: 1, Data: []byte("ab"), Next: 2},
			server.TaskLog{Task: dead},
		)
		if task.Status != server.TaskDead || out != "ab" || !f.lost || !strings.Contains(errOut, "no longer kept") {
			t.Fatalf("status %s, printed %q, told %q, lost %v", task.Status, out, errOut, f.lost)
		}
	})
	t.Run("the plugin not answering once", func(t *testing.T) {
		task, f, out, errOut, queries := followScripted(t, time.Minute,
			server.TaskLog{Task: running, LogID: "a", Attempt: 1, Data: []byte("ab"), Next: 2},
			server.TaskLog{Task: running, LogError: "plugin exec: deadline exceeded"},
			server.TaskLog{Task: server.Task{ID: "t1", Status: server.TaskSucceeded, Attempts: 1}, LogID: "a", Attempt: 1, Data: []byte("c"), Start: 2, Next: 3, Ended: true},
		)
		if task.Status != server.TaskSucceeded || out != "abc" || f.lost || errOut != "" {
			t.Fatalf("status %s, printed %q, told %q, lost %v", task.Status, out, errOut, f.lost)
		}
		if want := []string{"from=0&log=", "from=2&log=a", "from=2&log=a"}; !slices.Equal(queries, want) {
			t.Fatalf("asked %q, want %q", queries, want)
		}
	})
	t.Run("the last attempt's log missing", func(t *testing.T) {
		twice := dead
		twice.Attempts = 2
		_, f, out, errOut, _ := followScripted(t, time.Minute,
			server.TaskLog{Task: running, LogID: "a", Attempt: 1, Data: []byte("ab"), Next: 2, Ended: true},
			server.TaskLog{Task: twice},
		)
		if out != "ab" || !f.lost || errOut != "[attempt 2's output was not kept as it came]\n" {
			t.Fatalf("printed %q, told %q, lost %v", out, errOut, f.lost)
		}
	})
	t.Run("a handler running on after its task ended", func(t *testing.T) {
		start := time.Now()
		task, f, _, errOut, _ := followScripted(t, 300*time.Millisecond,
			server.TaskLog{Task: dead, LogID: "a", Attempt: 1, Data: []byte("x"), Next: 1},
		)
		if task.Status != server.TaskDead || !f.lost || !strings.Contains(errOut, "still runs") || time.Since(start) > 10*time.Second {
			t.Fatalf("status %s, told %q, lost %v, after %s", task.Status, errOut, f.lost, time.Since(start))
		}
	})
}

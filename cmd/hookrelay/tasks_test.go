package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/server"
	"github.com/hookrelay/hookrelay/store"
)

// tasks show prints every attempt, a line each, and says which attempt
// runs while one does.
func TestPrintTask(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	three := 3
	tests := []struct {
		name      string
		task      server.Task
		want      []string
		wantNotIn []string
	}{
		{"retried", server.Task{ID: "t1", Status: "dead", Attempts: 2, ExitCode: &three, Output: "boom\n", History: []store.Attempt{
			{N: 1, At: at, Duration: 1500 * time.Millisecond, Outcome: "failed", Error: "exit code 3\nand more", Response: &store.Response{ExitCode: &three}},
			{N: 2, At: at.Add(time.Minute), Duration: time.Second, Outcome: "failed", Error: "exit code 3", Response: &store.Response{ExitCode: &three}},
		}}, []string{"attempts   2\n", "attempt  started", "1        2026-12-03", "1.5s  failed   3          exit code 3 …\n", "2        ", "\nboom\n"}, nil},
		{"one attempt", server.Task{ID: "t2", Status: "succeeded", Attempts: 1, History: []store.Attempt{{N: 1, At: at, Outcome: "delivered"}}},
			[]string{"attempts   1\n"}, []string{"attempt  started"}},
		{"running", server.Task{ID: "t3", Status: "running", Attempts: 1, RunningAttempt: 2}, []string{"attempts   1 ended; attempt 2 running\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printTask(&b, &tt.task); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tt.wantNotIn {
				if strings.Contains(b.String(), w) {
					t.Errorf("output has %q:\n%s", w, b.String())
				}
			}
		})
	}
}

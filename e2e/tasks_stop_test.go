package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A server stopped with SIGTERM lets a running script finish within
// --shutdown-grace. A script still running then gets SIGTERM (its trap
// runs), the attempt is recorded as interrupted, and the next start runs
// the task as its attempt 2, so that a script can tell it is a repeat.
// The interrupted attempt keeps what the script printed, its trap's too.
func TestServerStopLetsRunningScriptsFinish(t *testing.T) {
	script := `echo "start $HOOKRELAY_ATTEMPT" >> "$OUT/log"
echo "printed by attempt $HOOKRELAY_ATTEMPT"
[ "$HOOKRELAY_ATTEMPT" = 1 ] || exit 0
trap 'echo "term $HOOKRELAY_ATTEMPT" >> "$OUT/log"; echo "stopping attempt $HOOKRELAY_ATTEMPT"; exit 143' TERM
sleep "$SLEEP" &
wait
echo "done $HOOKRELAY_ATTEMPT" >> "$OUT/log"
`
	tests := []struct {
		name, sleep, grace string
		wantLog            string // after the stop
		wantStatus         string // after the restart
		wantHistory        string // the first attempt's error
	}{
		{"ends within the grace", "1", "20s", "start 1\ndone 1\n", "succeeded", ""},
		{"outlives the grace", "60", "1s", "start 1\nterm 1\n", "succeeded", "interrupted: the server stopped, 1s after it began to stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retry := []string{"--retry-min", "100ms", "--retry-max", "200ms", "--shutdown-grace", tt.grace}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"+script), 0o700); err != nil {
				t.Fatal(err)
			}
			config := hooksFile(t, dir, `  - name: job
    when: event.type == "push"
    to: exec
    with:
      command: ["`+filepath.Join(dir, "run.sh")+`"]
      env: { OUT: "`+dir+`", SLEEP: "`+tt.sleep+`" }
`)
			t.Setenv("E2E_GH_SECRET", ghSecret) // inherited by the server process
			args := append([]string{"--config", config, "--admin-token", "e2e-admin-token-0123456789abcdef"}, retry...)
			srv := startServer(t, "", args...)
			id := pushN(t, srv, 1)
			logged := func() string { b, _ := os.ReadFile(filepath.Join(dir, "log")); return string(b) }
			waitFor(t, "the script to start", 20*time.Second, func() bool { return logged() == "start 1\n" })

			srv.signal(syscall.SIGTERM)
			if code := srv.wait(30 * time.Second); code != 0 {
				t.Fatalf("server exited %d on SIGTERM:\n%s", code, srv.stderr())
			}
			if got := logged(); got != tt.wantLog {
				t.Fatalf("the script's log after the stop: %q, want %q", got, tt.wantLog)
			}

			next := startServer(t, srv.data, args...)
			task := waitTask(t, next, id, tt.wantStatus)
			if tt.wantHistory == "" {
				if got := logged(); got != tt.wantLog {
					t.Errorf("the script's log after the restart: %q, want %q: a finished task ran again", got, tt.wantLog)
				}
				return
			}
			if len(task.History) != 2 || !strings.Contains(task.History[0].Error, tt.wantHistory) {
				t.Errorf("task history %+v, want 2 attempts, the first %q", task.History, tt.wantHistory)
			} else if r := task.History[0].Response; r == nil || !strings.Contains(r.Body, "printed by attempt 1") || !strings.Contains(r.Body, "stopping attempt 1") {
				t.Errorf("the interrupted attempt's output is lost: %+v", r)
			}
			if got, want := logged(), tt.wantLog+"start 2\n"; got != want {
				t.Errorf("the script's log after the restart: %q, want %q", got, want)
			}
		})
	}
}

// A server killed with SIGKILL mid-run never records the run's end. The
// next start counts that run as an interrupted attempt, so the task runs
// again as its attempt 2, and its runner removes the event file (payload
// and headers) the killed run left.
func TestServerKilledMidRun(t *testing.T) {
	srv, dir := execServer(t, `echo "$HOOKRELAY_ATTEMPT $HOOKRELAY_EVENT_FILE" >> "$OUT/runs"
[ -e "$OUT/once" ] && exit 0
touch "$OUT/once"
exec sleep 60
`, "", "--retry-min", "100ms", "--retry-max", "200ms")
	id := pushN(t, srv, 1)
	waitTask(t, srv, id, "running")
	runs := func() [][]string {
		b, _ := os.ReadFile(filepath.Join(dir, "runs"))
		var out [][]string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				out = append(out, f)
			}
		}
		return out
	}
	waitFor(t, "the script to start", 20*time.Second, func() bool { return len(runs()) == 1 })
	first := runs()[0][1]
	if _, err := os.Stat(first); err != nil {
		t.Fatalf("the running script's event file: %v", err)
	}
	srv.signal(syscall.SIGKILL)
	srv.wait(10 * time.Second)

	next := startServer(t, srv.data, "--config", filepath.Join(dir, "hooks.yaml"), "--admin-token", "e2e-admin-token-0123456789abcdef",
		"--retry-min", "100ms", "--retry-max", "200ms")
	task := waitTask(t, next, id, "succeeded")
	if got := runs(); len(got) != 2 || got[0][0] != "1" || got[1][0] != "2" {
		t.Errorf("the script's runs (HOOKRELAY_ATTEMPT, event file): %q; want attempt 1, then 2", got)
	}
	if len(task.History) != 2 || !strings.HasPrefix(task.History[0].Error, "interrupted: the server stopped without recording") {
		t.Errorf("task history %+v; want the killed run counted as interrupted, then the run that succeeded", task.History)
	}
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("the killed run's event file %s is still there (%v)", first, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(first)); len(entries) != 0 {
		t.Errorf("event files left after the runs: %v", entries)
	}
}

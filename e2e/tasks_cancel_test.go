package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tasks cancel stops a running script, its children with it, and drops a
// task queued behind it (concurrency 1) without running it; the route's
// queue then goes on. The cancelled run keeps what it printed.
func TestTasksCancelStopsRunningAndQueued(t *testing.T) {
	srv, dir := execServer(t, `if [ "$1" = 3 ]; then exit 0; fi
echo "deploying $1"
echo "a warning from $1" >&2
echo $$ > "$OUT/pid-$1.tmp"
sleep 60 &
echo $! > "$OUT/child-$1"
mv "$OUT/pid-$1.tmp" "$OUT/pid-$1"
wait
`, "")
	admin := []string{"--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef"}
	cancel := func(task string) (string, string, int) {
		t.Helper()
		return cli(t, nil, append([]string{"tasks", "cancel", task}, admin...)...)
	}
	pidOf := func(name string) int {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %q", name, b)
		}
		return pid
	}

	running := pushN(t, srv, 1)
	waitFor(t, "the first script to start", 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(dir, "pid-1"))
		return err == nil
	})
	script, child := pidOf("pid-1"), pidOf("child-1")
	scriptStat, _ := procStat(script)
	childStat, _ := procStat(child)
	queued := pushN(t, srv, 2)
	if task := waitTask(t, srv, running, "running"); task.Route != "job" {
		t.Fatalf("running task %+v", task)
	}

	// A running task is not retried: its outcome would overwrite the retry.
	_, errOut, code := cli(t, nil, append([]string{"tasks", "retry", running}, admin...)...)
	if code != 1 || !strings.Contains(errOut, "task "+running+" is running now") {
		t.Fatalf("retry of the running task: exit %d\n%s", code, errOut)
	}
	resp, b := send(t, "POST", srv.url+"/api/deliveries/"+running+"/retry", nil, http.Header{"Authorization": {"Bearer e2e-admin-token-0123456789abcdef"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "is being attempted now") {
		t.Fatalf("API retry of the running task: %d %s", resp.StatusCode, b)
	}

	out, errOut, code := cancel(queued)
	if code != 0 || !regexp.MustCompile(`status\s+dead`).MatchString(out) || !strings.Contains(out, "cancelled by admin") {
		t.Fatalf("cancel of the queued task: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = cancel(running)
	if code != 0 || !regexp.MustCompile(`status\s+dead`).MatchString(out) || !strings.Contains(out, "cancelled by admin") {
		t.Fatalf("cancel of the running task: exit %d\n%s%s", code, out, errOut)
	}
	waitFor(t, "the script and its child to be gone", 10*time.Second, func() bool {
		return !isRunning(script, scriptStat) && !isRunning(child, childStat)
	})
	if task := waitTask(t, srv, running, "dead"); len(task.History) != 1 {
		t.Fatalf("the cancelled run was tried again: %+v", task.History)
	} else if !strings.Contains(task.Output, "deploying 1") || !strings.Contains(task.Output, "a warning from 1") {
		t.Fatalf("the cancelled run's output is lost: %q", task.Output)
	}

	// The queue goes on, past the dropped task, which never ran.
	next := pushN(t, srv, 3)
	waitTask(t, srv, next, "succeeded")
	if _, err := os.Stat(filepath.Join(dir, "pid-2")); err == nil {
		t.Fatal("the cancelled queued task ran")
	}

	_, errOut, code = cancel(running)
	if code != 1 || !strings.Contains(errOut, "task "+running+" has ended; nothing to cancel") {
		t.Fatalf("cancel of a dead task: exit %d\n%s", code, errOut)
	}
}

// isRunning reports whether the process pid, as stat saw it, still lives.
func isRunning(pid int, stat []string) bool {
	return len(stat) > 19 && running(pid, stat[19])
}

// A server killed with kill -9 right after answering the cancel of a
// running task (before the attempt's end could be recorded) does not run
// the task again at its next start: the task is dead, cancelled by admin.
func TestCancelledTaskStaysCancelledAfterServerKill(t *testing.T) {
	retry := []string{"--retry-min", "100ms", "--retry-max", "200ms"}
	srv, dir := execServer(t, `echo "$1" >> "$OUT/starts"
exec sleep 60
`, "", retry...)
	id := pushN(t, srv, 1)
	waitTask(t, srv, id, "running")
	starts := func() int {
		b, _ := os.ReadFile(filepath.Join(dir, "starts"))
		return strings.Count(string(b), "\n")
	}
	waitFor(t, "the script to start", 20*time.Second, func() bool { return starts() == 1 })

	admin := http.Header{"Authorization": {"Bearer e2e-admin-token-0123456789abcdef"}}
	resp, b := send(t, "POST", srv.url+"/api/tasks/"+id+"/cancel", nil, admin)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", resp.StatusCode, b)
	}
	// Within the grace the stopped script gets, so before its record.
	srv.signal(syscall.SIGKILL)
	srv.wait(10 * time.Second)
	if strings.Contains(srv.stderr(), "delivery dead: cancelled") {
		t.Fatal("the server recorded the cancelled attempt before it was killed: the test proves nothing")
	}

	next := startServer(t, srv.data, append([]string{"--config", filepath.Join(dir, "hooks.yaml"),
		"--admin-token", "e2e-admin-token-0123456789abcdef"}, retry...)...)
	task := waitTask(t, next, id, "dead")
	if task.Error != "cancelled by admin" {
		t.Errorf("task %s died of %q, want cancelled by admin", id, task.Error)
	}
	// Another task runs, and the cancelled one did not run again first.
	pushN(t, next, 2)
	waitFor(t, "the next task's script to start", 20*time.Second, func() bool { return starts() >= 2 })
	if b, _ := os.ReadFile(filepath.Join(dir, "starts")); string(b) != "1\n2\n" {
		t.Fatalf("the script's starts: %q, want task 1's then task 2's: the cancelled task ran again", b)
	}
}

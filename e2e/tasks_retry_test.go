package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A dead task is run again from the command line, and --wait reports the
// new attempt: failed until the script is fixed; then --follow prints the
// new attempt's output as it comes (not the last one's, whose log the
// runner still keeps), and it succeeded. A task that succeeded is not run
// again.
func TestTasksRetryWaits(t *testing.T) {
	srv, dir := execServer(t, `if [ -e "$OUT/fixed" ]; then echo "fixed run $1"; exit 0; fi
echo "broken run $1" >&2
exit 4
`, "")
	task := pushN(t, srv, 7)
	waitTask(t, srv, task, "dead")
	admin := []string{"--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef"}
	retry := func(extra ...string) (string, string, int) {
		t.Helper()
		return cli(t, nil, append(append([]string{"tasks", "retry", task}, extra...), admin...)...)
	}

	out, errOut, code := retry("--wait")
	if code != 1 || !regexp.MustCompile(`status\s+dead`).MatchString(out) || !regexp.MustCompile(`attempts\s+2`).MatchString(out) ||
		!regexp.MustCompile(`exit code\s+4`).MatchString(out) || !strings.Contains(out, "broken run 7") {
		t.Fatalf("retry --wait of a still broken script: exit %d\n%s%s", code, out, errOut)
	}

	if err := os.WriteFile(filepath.Join(dir, "fixed"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = retry("--follow")
	if code != 0 || out != "fixed run 7\n" || !strings.Contains(errOut, "--- attempt 3 ---") ||
		!regexp.MustCompile(`status\s+succeeded`).MatchString(errOut) || !regexp.MustCompile(`attempts\s+3`).MatchString(errOut) {
		t.Fatalf("retry --follow of the fixed script: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got := waitTask(t, srv, task, "succeeded"); len(got.History) != 3 {
		t.Fatalf("history after two retries: %+v", got.History)
	}

	_, errOut, code = retry()
	if code != 1 || !strings.Contains(errOut, "task "+task+" succeeded; to run it again, replay its event") {
		t.Fatalf("retry of a task that succeeded: exit %d\n%s", code, errOut)
	}
	_, errOut, code = cli(t, nil, append([]string{"tasks", "retry", "no-such-task"}, admin...)...)
	if code != 1 || !strings.Contains(errOut, "no-such-task") {
		t.Fatalf("retry of an unknown task: exit %d\n%s", code, errOut)
	}
}

// Without --wait, retry queues the task and returns; the run follows.
func TestTasksRetryQueues(t *testing.T) {
	srv, dir := execServer(t, `if [ -e "$OUT/fixed" ]; then exit 0; fi
exit 1
`, "")
	task := pushN(t, srv, 1)
	waitTask(t, srv, task, "dead")
	if err := os.WriteFile(filepath.Join(dir, "fixed"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, nil, "tasks", "retry", task, "--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef")
	if code != 0 || !strings.Contains(out, "task "+task+" queued again (route job)") {
		t.Fatalf("retry: exit %d\n%s%s", code, out, errOut)
	}
	waitTask(t, srv, task, "succeeded")
}

// tasks show --wait blocks until the task has ended, as a CI job that
// triggered a deploy would, and exits 0 only if it succeeded.
func TestTasksShowWait(t *testing.T) {
	srv, _ := execServer(t, `sleep 0.3
[ "$1" = 1 ]
`, "      concurrency: 2\n")
	admin := []string{"--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef"}
	ok, bad := pushN(t, srv, 1), pushN(t, srv, 2)
	out, errOut, code := cli(t, nil, append([]string{"tasks", "show", ok, "--wait", "--timeout", "20s"}, admin...)...)
	if code != 0 || !regexp.MustCompile(`status\s+succeeded`).MatchString(out) {
		t.Fatalf("show --wait of a task that succeeds: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = cli(t, nil, append([]string{"tasks", "show", bad, "--wait", "--json"}, admin...)...)
	if code != 1 || !strings.Contains(out, `"status": "dead"`) {
		t.Fatalf("show --wait --json of a task that fails: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = cli(t, nil, append([]string{"tasks", "show", ok, "--timeout", "1s"}, admin...)...)
	if code != 2 || !strings.Contains(errOut, "--timeout is for --wait") {
		t.Fatalf("--timeout without --wait: exit %d\n%s", code, errOut)
	}
}

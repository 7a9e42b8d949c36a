package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tasks show --follow prints a script's output as it comes, each line
// once, stdout and stderr alike (each in order; the two are read from
// separate pipes, so not in order with each other), attempt after
// attempt, and exits as the task ended.
func TestTasksShowFollow(t *testing.T) {
	// The script waits for go-N, so its first line must reach the follower
	// while it runs. Task 1 succeeds; task 2 fails, and is tried again.
	srv, dir := execServer(t, `echo "line 1 of $1"
while [ ! -e "$OUT/go-$1" ]; do sleep 0.05; done
echo "line 2 of $1, on stderr" >&2
echo "line 3 of $1"
[ "$1" = 1 ]
`, "      retries: 1\n", "--retry-min", "100ms", "--retry-max", "200ms")
	follow := func(id string) *proc {
		return start(t, "tasks show --follow", []string{"HOOKRELAY_ADMIN_TOKEN=", "HOOKRELAY_SERVER="},
			"tasks", "show", id, "--follow", "--timeout", "60s",
			"--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef")
	}

	id := pushN(t, srv, 1)
	waitTask(t, srv, id, "running")
	f := follow(id)
	f.waitLine("line 1 of 1", 0, 20*time.Second)
	if err := os.WriteFile(filepath.Join(dir, "go-1"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code := f.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d for a task that succeeded\n%s", code, f.stderr())
	}
	checkRuns(t, f.output(), 1, 1)
	if !regexp.MustCompile(`status\s+succeeded`).MatchString(f.stderr()) {
		t.Fatalf("the task at the end, on stderr:\n%s", f.stderr())
	}

	// A failing task, followed from before it starts: both attempts.
	if err := os.WriteFile(filepath.Join(dir, "go-2"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	id = pushN(t, srv, 2)
	f = follow(id)
	if code := f.wait(30 * time.Second); code != 1 {
		t.Fatalf("exit %d for a dead task, want 1\n%s", code, f.stderr())
	}
	checkRuns(t, f.output(), 2, 2)
	errOut := f.stderr()
	if !strings.Contains(errOut, "--- attempt 2 ---") || !regexp.MustCompile(`status\s+dead`).MatchString(errOut) ||
		!regexp.MustCompile(`exit code\s+`+strconv.Itoa(1)).MatchString(errOut) {
		t.Fatalf("stderr:\n%s", errOut)
	}
}

// checkRuns checks that lines are the output of runs runs of the script
// for task n, one after the other: each run's three lines once, its
// stdout lines in order.
func checkRuns(t *testing.T, lines []string, n, runs int) {
	t.Helper()
	one := []string{fmt.Sprintf("line 1 of %d", n), fmt.Sprintf("line 2 of %d, on stderr", n), fmt.Sprintf("line 3 of %d", n)}
	if len(lines) != 3*runs {
		t.Fatalf("followed output %q, want %d runs of %q", lines, runs, one)
	}
	for r := range runs {
		run := lines[3*r : 3*r+3]
		if i, j := slices.Index(run, one[0]), slices.Index(run, one[2]); i < 0 || j < i || !slices.Contains(run, one[1]) {
			t.Fatalf("followed output %q: run %d is not %q", lines, r+1, one)
		}
	}
}

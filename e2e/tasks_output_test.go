package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A running script's output so far shows in its task, from the API and
// the command line, before the script has ended.
func TestRunningTaskShowsOutputSoFar(t *testing.T) {
	srv, dir := execServer(t, `echo "step 1 of $1"
echo "careful" >&2
touch "$OUT/started"
sleep 30
`, "")
	task := pushN(t, srv, 5)
	waitFor(t, "the script to start", 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(dir, "started"))
		return err == nil
	})
	// The runner copies the pipes on its own time, niced: ask until both
	// lines are in.
	var got taskView
	waitFor(t, "the output so far", 20*time.Second, func() bool {
		got = waitTask(t, srv, task, "running")
		return strings.Contains(got.Output, "--- stdout ---\nstep 1 of 5\n") && strings.Contains(got.Output, "--- stderr ---\ncareful\n")
	})
	admin := []string{"--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef"}
	out, errOut, code := cli(t, nil, append([]string{"tasks", "show", task}, admin...)...)
	if code != 0 || !regexp.MustCompile(`status\s+running`).MatchString(out) || !strings.Contains(out, "step 1 of 5") {
		t.Fatalf("tasks show of the running task: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := cli(t, nil, append([]string{"tasks", "cancel", task}, admin...)...); code != 0 {
		t.Fatalf("cancel: exit %d\n%s", code, errOut)
	}
}

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A server killed with kill -9 mid-task takes its script runner and the
// script with it, but not what the script started in the background (as
// make under deploy.sh). The next server, on the same data, kills that
// before it starts its plugins, and then runs the task again, alone.
func TestLeftoverSessionKilledAfterServerKill(t *testing.T) {
	script := `n=$(cat "$OUT/runs" 2>/dev/null || echo 0)
n=$((n+1))
echo "$n" > "$OUT/runs"
if [ "$n" = 1 ]; then
  sh -c 'echo $$ > "$OUT/child.tmp"; mv "$OUT/child.tmp" "$OUT/child"; exec sleep 300' &
  wait
fi
echo "run $n"
`
	retry := []string{"--retry-min", "100ms", "--retry-max", "200ms"}
	srv, dir := execServer(t, script, "", retry...)
	id := pushN(t, srv, 1)
	var child int
	waitFor(t, "the script's background child", 20*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "child"))
		if err != nil {
			return false
		}
		child, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	st, ok := procStat(child)
	if !ok {
		t.Fatalf("the script's child %d is gone", child)
	}
	started := st[19]
	t.Cleanup(func() {
		if running(child, started) {
			t.Errorf("the script's child %d outlived the test", child)
			_ = syscall.Kill(child, syscall.SIGKILL)
		}
	})

	srv.signal(syscall.SIGKILL)
	srv.wait(10 * time.Second)
	// The runner and the script die with the server (Pdeathsig), the
	// child does not: it has nothing to die with.
	time.Sleep(200 * time.Millisecond)
	if !running(child, started) {
		t.Fatal("the script's child died with the server: nothing left for the next server to kill")
	}

	next := startServer(t, srv.data, append([]string{"--config", filepath.Join(dir, "hooks.yaml"),
		"--admin-token", "e2e-admin-token-0123456789abcdef"}, retry...)...)
	// Killed, and gone, before the server listens.
	if running(child, started) {
		t.Fatal("the script's child still runs beside the next server")
	}
	if log := next.stderr(); !strings.Contains(log, "killed processes a plugin of an earlier server left running") ||
		!strings.Contains(log, "plugin=exec") {
		t.Errorf("the next server does not log what it killed:\n%s", log)
	}

	task := waitTask(t, next, id, "succeeded")
	if !strings.Contains(task.Output, "run 2") {
		t.Fatalf("task %+v: want the second run's output", task)
	}
	// Only the new runner's session is recorded: the old record is gone.
	// (The directory also holds the runner's script-events directory.)
	entries, err := os.ReadDir(filepath.Join(srv.data, "plugins"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if want := "session-" + strconv.Itoa(pluginState(t, next).PID) + ".json"; len(names) != 1 || names[0] != want {
		t.Fatalf("session records %v, want [%s]", names, want)
	}
}

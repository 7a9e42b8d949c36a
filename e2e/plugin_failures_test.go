package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A plugin whose Handle panics fails that task, for good with retries: 0,
// saying so; the same plugin process goes on serving the next task.
func TestPluginPanicFailsOnlyItsTask(t *testing.T) {
	dir := t.TempDir()
	echo := filepath.Join(dir, "echoplugin")
	build := exec.CommandContext(ctx(t), "go", "build", "-o", echo, "../plugins/host/testdata/echoplugin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the echo plugin: %v\n%s", err, out)
	}
	// The echo plugin panics on a task of a route named panic.
	y := "sources:\n  github: { provider: github, secret: \"${E2E_GH_SECRET}\" }\n" +
		"plugins:\n  echo: { path: " + echo + " }\n" +
		"routes:\n" +
		"  - { name: panic, when: event.payload.n == 1, to: plugin:echo, retries: 0 }\n" +
		"  - { name: echo, when: event.payload.n == 2, to: plugin:echo }\n"
	config := filepath.Join(dir, "hooks.yaml")
	if err := os.WriteFile(config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startHooksServer(t, config, "--admin-token", "e2e-admin-token-0123456789abcdef")
	before := namedPluginPID(t, srv, "echo")

	task := waitTask(t, srv, pushN(t, srv, 1), "dead")
	if len(task.History) != 1 || !strings.Contains(task.Error, "panic: boom in") {
		t.Fatalf("the panicking task: %+v; want one attempt, dead, saying it panicked", task)
	}
	waitTask(t, srv, pushN(t, srv, 2), "succeeded")
	if after := namedPluginPID(t, srv, "echo"); after != before {
		t.Fatalf("the plugin's process changed from %d to %d: the panic took it down", before, after)
	}
}

// A route's timeout stops a script that outlives it, its children with
// it, and fails the task saying so.
func TestExecRouteTimeoutKillsProcessGroup(t *testing.T) {
	srv, dir := execServer(t, `sleep 60 &
echo $! > "$OUT/child"
echo "still working"
wait
`, "      timeout: 1s\n")
	start := time.Now()
	task := waitTask(t, srv, pushN(t, srv, 1), "dead")
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the task took %s to die, for a timeout of 1s", took)
	}
	if !strings.Contains(task.Error, "timed out after 1s") || !strings.Contains(task.Output, "still working") {
		t.Fatalf("task %+v; want it timed out after 1s, with its output", task)
	}
	b, err := os.ReadFile(filepath.Join(dir, "child"))
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the script's child to be gone", 10*time.Second, func() bool {
		_, alive := procStat(child)
		return !alive
	})
}

// namedPluginPID is the pid GET /api/plugins gives plugin name, running.
func namedPluginPID(t *testing.T, srv *server, name string) int {
	t.Helper()
	var pid int
	waitFor(t, "plugin "+name+" to run", 20*time.Second, func() bool {
		resp, b := send(t, "GET", srv.url+"/api/plugins", nil, http.Header{"Authorization": {"Bearer e2e-admin-token-0123456789abcdef"}})
		var l struct {
			Plugins map[string]struct {
				State string
				PID   int
			}
		}
		if resp.StatusCode != 200 || json.Unmarshal(b, &l) != nil {
			t.Fatalf("plugins: %d %s", resp.StatusCode, b)
		}
		p := l.Plugins[name]
		pid = p.PID
		return p.State == "running" && p.PID != 0
	})
	return pid
}

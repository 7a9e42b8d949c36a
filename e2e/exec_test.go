package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A `to: exec` route runs its command in the script runner plugin: argv
// entries are templates, one value each, never a shell; env, stdin and the
// event file arrive; a failing script is a failed task with its exit code
// and output, not retried by default.
func TestExecRouteRunsScript(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "deploy.sh")
	body := `#!/bin/sh
set -e
printf '%s\n' "$@" > "$OUT/argv"
printf '%s' "$DEPLOY_SENDER" > "$OUT/env"
printf '%s %s %s' "$HOOKRELAY_TASK_ID" "$HOOKRELAY_ATTEMPT" "$HOOKRELAY_ROUTE" > "$OUT/task"
cat > "$OUT/stdin"
if [ -r /proc/self/stat ]; then cut -d' ' -f19 /proc/self/stat > "$OUT/nice"; fi
cp "$HOOKRELAY_EVENT_FILE" "$OUT/event.json" # last: the test waits for it
if [ "$1" = "octo-org/fail" ]; then echo "deploy broke" >&2; exit 3; fi
echo deployed
`
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	config := hooksFile(t, dir, `  - name: deploy
    when: event.type == "push"
    to: exec
    with:
      command: ["`+script+`", "{{ event.repo }}", "{{ event.payload.after }}"]
      env: { DEPLOY_SENDER: "{{ event.sender }}", OUT: "`+out+`" }
      dir: `+dir+`
      stdin: payload
      timeout: 30s
`)
	srv := startHooksServer(t, config, "--admin-token", "e2e-admin-token-0123456789abcdef")
	push := func(repo string) (string, []string) {
		b := []byte(`{"ref":"refs/heads/main","after":"$(touch pwned); rm -rf x; ` + "`id`" + `","repository":{"full_name":"` + repo + `"},"sender":{"login":"alice"}}`)
		resp, got := send(t, "POST", srv.url+"/hooks/github", b, githubDelivery("push", b, ghSecret))
		id, _ := accepted(t, resp, got, http.StatusAccepted)
		var a struct{ Tasks []string }
		if err := json.Unmarshal(got, &a); err != nil || len(a.Tasks) != 1 {
			t.Fatalf("answer %s lists no task", got)
		}
		return id, a.Tasks
	}
	_, tasks := push("octo-org/app")
	waitFor(t, "the script's output", 20*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(out, "event.json"))
		return err == nil && json.Valid(b) // whole: cp may be writing it
	})
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	wantArgv := "octo-org/app\n$(touch pwned); rm -rf x; `id`\n"
	if got := read("argv"); got != wantArgv {
		t.Fatalf("argv %q, want %q", got, wantArgv)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("a payload field ran as a command")
	}
	if read("env") != "alice" || !strings.Contains(read("stdin"), `"full_name":"octo-org/app"`) {
		t.Fatalf("env %q, stdin %q", read("env"), read("stdin"))
	}
	if got, want := read("task"), tasks[0]+" 1 deploy"; got != want {
		t.Fatalf("the task's variables: %q, want %q", got, want)
	}
	var ev struct {
		Type, Repo string
		Payload    map[string]any
	}
	if err := json.Unmarshal([]byte(read("event.json")), &ev); err != nil || ev.Type != "push" || ev.Repo != "octo-org/app" || ev.Payload["ref"] != "refs/heads/main" {
		t.Fatalf("event file %s (%v)", read("event.json"), err)
	}
	// Scripts run niced below the server, as the script runner does.
	if runtime.GOOS == "linux" {
		nice := read("nice")
		prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0) // 20 - niceness
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.TrimSpace(nice), strconv.Itoa(min(19, 20-prio+10)); got != want {
			t.Errorf("the script's niceness: %s, want %s", got, want)
		}
	}
	task := waitTask(t, srv, tasks[0], "succeeded")
	if task.Route != "deploy" || task.ExitCode == nil || *task.ExitCode != 0 || !strings.Contains(task.Output, "deployed") {
		t.Fatalf("succeeded task %+v", task)
	}

	_, tasks = push("octo-org/fail")
	task = waitTask(t, srv, tasks[0], "dead")
	if len(task.History) != 1 || task.Error != "exit status 3" || task.ExitCode == nil || *task.ExitCode != 3 ||
		!strings.Contains(task.Output, "deploy broke") {
		t.Fatalf("failed task: %+v", task)
	}

	// The same from the command line.
	out1, errOut, code := cli(t, nil, "tasks", "show", tasks[0], "--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef")
	if code != 0 || !regexp.MustCompile(`status\s+dead`).MatchString(out1) || !regexp.MustCompile(`exit code\s+3`).MatchString(out1) ||
		!strings.Contains(out1, "deploy broke") {
		t.Fatalf("tasks show: exit %d\n%s%s", code, out1, errOut)
	}
	out1, errOut, code = cli(t, nil, "tasks", "list", "--status", "succeeded", "--server", srv.url, "--admin-token", "e2e-admin-token-0123456789abcdef")
	if code != 0 || strings.Count(out1, "exec:deploy") != 1 || !strings.Contains(out1, "succeeded") {
		t.Fatalf("tasks list: exit %d\n%s%s", code, out1, errOut)
	}
}

// taskView is a task as GET /api/tasks/{id} shows it.
type taskView struct {
	ID       string
	Status   string
	Route    string
	ExitCode *int `json:"exit_code"`
	Output   string
	Error    string
	History  []struct {
		Error    string
		Response *struct{ Body string }
	}
}

// waitTask polls the tasks API until task id has status.
func waitTask(t *testing.T, srv *server, id, status string) taskView {
	t.Helper()
	var task taskView
	waitFor(t, "task "+id+" "+status, 20*time.Second, func() bool {
		resp, b := send(t, "GET", srv.url+"/api/tasks/"+id, nil, http.Header{"Authorization": {"Bearer e2e-admin-token-0123456789abcdef"}})
		if resp.StatusCode != 200 {
			t.Fatalf("task %s: %d %s", id, resp.StatusCode, b)
		}
		task = taskView{}
		return json.Unmarshal(b, &task) == nil && task.Status == status
	})
	return task
}

// execServer starts a server whose one route runs script (shell code,
// written to a file) for every GitHub push, with the given with: extras.
func execServer(t *testing.T, script, with string, args ...string) (*server, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o700); err != nil {
		t.Fatal(err)
	}
	config := hooksFile(t, dir, `  - name: job
    when: event.type == "push"
    to: exec
    with:
      command: ["`+path+`", "{{ event.payload.n }}"]
      env: { OUT: "`+dir+`" }
`+with)
	return startHooksServer(t, config, append([]string{"--admin-token", "e2e-admin-token-0123456789abcdef"}, args...)...), dir
}

// pushN sends a signed push with payload n and returns its task id.
func pushN(t *testing.T, srv *server, n int) string {
	t.Helper()
	b := []byte(`{"ref":"refs/heads/main","n":` + strconv.Itoa(n) + `,"repository":{"full_name":"o/r"}}`)
	resp, got := send(t, "POST", srv.url+"/hooks/github", b, githubDelivery("push", b, ghSecret))
	var a struct{ Tasks []string }
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(got, &a) != nil || len(a.Tasks) != 1 {
		t.Fatalf("push %d: %d %s", n, resp.StatusCode, got)
	}
	return a.Tasks[0]
}

// A script runner killed with SIGKILL mid-run is restarted, and the task
// it was running is tried again. The run cut short does not go on: its
// work is done by a child of the script (as make under deploy.sh), which
// must die with the runner too.
func TestKilledScriptRunnerIsRestartedAndTaskRetried(t *testing.T) {
	srv, dir := execServer(t, "touch \"$OUT/started\"\nsh -c 'sleep 1; echo \"$0\" >> \"$OUT/ran\"' \"$1\"\n", "", "--retry-min", "100ms", "--retry-max", "200ms")
	id := pushN(t, srv, 7)
	waitTask(t, srv, id, "running")
	waitFor(t, "the script to start", 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(dir, "started"))
		return err == nil
	})
	before := pluginState(t, srv)
	if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	task := waitTask(t, srv, id, "succeeded")
	if len(task.History) != 2 || task.History[0].Error == "" {
		t.Fatalf("task %+v: want a failed first attempt and a second that succeeded", task)
	}
	after := pluginState(t, srv)
	if after.PID == before.PID || after.Restarts != 1 || after.State != "running" {
		t.Fatalf("script runner before %+v, after %+v: want a restart", before, after)
	}
	// The run cut short died with its runner: it did not go on beside the
	// retry (concurrency 1) and finish a second time.
	time.Sleep(1500 * time.Millisecond)
	if b, err := os.ReadFile(filepath.Join(dir, "ran")); err != nil || string(b) != "7\n" {
		t.Fatalf("the script finished %q (%v), want once", b, err)
	}
}

// pluginState is the script runner's state from GET /api/plugins.
func pluginState(t *testing.T, srv *server) (st struct {
	State    string
	PID      int
	Restarts int
}) {
	t.Helper()
	resp, b := send(t, "GET", srv.url+"/api/plugins", nil, http.Header{"Authorization": {"Bearer e2e-admin-token-0123456789abcdef"}})
	var l struct {
		Plugins map[string]json.RawMessage
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &l) != nil || l.Plugins["exec"] == nil {
		t.Fatalf("plugins: %d %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(l.Plugins["exec"], &st); err != nil || st.PID == 0 {
		t.Fatalf("script runner state %s (%v)", l.Plugins["exec"], err)
	}
	return st
}

// concurrency: 1 runs one script at a time, in the order events came.
func TestExecConcurrencyOneSerialises(t *testing.T) {
	srv, dir := execServer(t, "echo \"start $1\" >> \"$OUT/log\"\nsleep 0.2\necho \"end $1\" >> \"$OUT/log\"\n", "      concurrency: 1\n")
	var last string
	for i := range 3 {
		last = pushN(t, srv, i)
	}
	waitTask(t, srv, last, "succeeded")
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "start 0\nend 0\nstart 1\nend 1\nstart 2\nend 2\n"; string(b) != want {
		t.Fatalf("runs overlapped or came out of order:\n%s", b)
	}
}

// A plugin whose file does not match its pinned sha256 stops the server
// from starting, with a message that says which and why.
func TestPluginChecksumMismatchRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hooks.yaml")
	y := "plugins:\n  notify:\n    path: " + binary + "\n    sha256: \"" + strings.Repeat("0", 64) + "\"\nroutes:\n  - name: r\n    when: true\n    to: plugin:notify\n"
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "server", nil, "server", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--config", path)
	if code := p.wait(30 * time.Second); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if msg := p.stderr(); !strings.Contains(msg, `plugin "notify"`) || !strings.Contains(msg, strings.Repeat("0", 64)) {
		t.Fatalf("stderr does not say which plugin and which sum:\n%s", msg)
	}
}

// With a relative --data (the default is ./hookrelay-data), a script
// whose dir: is elsewhere still finds its event file: the path handed to
// it is absolute.
func TestRelativeDataDirEventFile(t *testing.T) {
	work, other := t.TempDir(), t.TempDir()
	out := filepath.Join(other, "event.json")
	script := filepath.Join(other, "show.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nset -e\ncase \"$HOOKRELAY_EVENT_FILE\" in /*) ;; *) echo \"relative: $HOOKRELAY_EVENT_FILE\" >&2; exit 1;; esac\ncp \"$HOOKRELAY_EVENT_FILE\" "+out+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	config := hooksFile(t, work, "  - name: show\n    when: true\n    to: exec\n    with: { command: [\""+script+"\"], dir: "+other+" }\n")
	t.Setenv("E2E_GH_SECRET", ghSecret)
	p := startIn(t, work, "server", nil, "server", "--listen", "127.0.0.1:0", "--data", "./data", "--config", config)
	line, _ := p.waitLine("listening on ", 0, 20*time.Second)
	url := strings.TrimSpace(line[strings.Index(line, "http://"):])
	body := prBody("main")
	resp, got := send(t, "POST", url+"/hooks/github", body, githubDelivery("pull_request", body, ghSecret))
	accepted(t, resp, got, http.StatusAccepted)
	waitFor(t, "the script's copy of its event file", 20*time.Second, func() bool {
		b, err := os.ReadFile(out)
		return err == nil && json.Valid(b) && len(b) > 0
	})
	if _, err := os.Stat(filepath.Join(work, "data", "events.db")); err != nil {
		t.Errorf("the data directory is not where --data ./data says: %v", err)
	}
}

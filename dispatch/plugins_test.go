package dispatch

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
)

const pluginsYAML = `plugins:
  notify:
    path: ./bin/hookrelay-notify
    sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    config: { channel: "#deploys", retries: 3, url: "${SLACK_URL}" }
    env: { TZ: UTC }
routes:
  - name: deploy-main
    when: event.type == "push" && event.branch == "main"
    to: exec
    with:
      command: ["./scripts/deploy.sh", "{{ event.repo }}", "sha={{ event.payload.after }}"]
      env: { DEPLOY_SENDER: "{{ event.sender }}" }
      dir: /srv/app
      stdin: payload
      timeout: 10m
      concurrency: 1
  - name: tell-slack
    when: event.type == "release"
    to: plugin:notify
    with: { template: short }
`

func pluginOpts() LoadOptions {
	o := testOpts(map[string]string{"SLACK_URL": "https://hooks.example/x"})
	o.Plugins = true
	return o
}

func TestParsePluginsAndExec(t *testing.T) {
	cfg, err := Parse("/etc/hookrelay/hooks.yaml", []byte(pluginsYAML), pluginOpts())
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Plugins["notify"]
	if p == nil || p.Path != "/etc/hookrelay/bin/hookrelay-notify" || p.Env["TZ"] != "UTC" || len(p.SHA256) != 64 {
		t.Fatalf("plugin %+v", p)
	}
	var conf map[string]any
	if err := json.Unmarshal(p.Config, &conf); err != nil || conf["channel"] != "#deploys" || conf["retries"] != float64(3) || conf["url"] != "https://hooks.example/x" {
		t.Fatalf("config %s (%v)", p.Config, err)
	}
	deploy, slack := cfg.Routes[0], cfg.Routes[1]
	if deploy.To != (Target{Kind: TargetExec, Name: "deploy-main"}) || deploy.To.String() != "exec:deploy-main" {
		t.Fatalf("deploy target %+v", deploy.To)
	}
	x := deploy.Exec
	if x == nil || len(x.Command) != 3 || x.Dir != "/srv/app" || x.Stdin != StdinPayload || x.Timeout != 10*time.Minute || x.Concurrency != 1 || x.Retries != 0 {
		t.Fatalf("exec %+v", x)
	}
	if slack.To != (Target{Kind: TargetPlugin, Name: "notify"}) || string(slack.With) != `{"template":"short"}` {
		t.Fatalf("slack route %+v with %s", slack.To, slack.With)
	}
	ev := &providers.Event{Repo: "octo/app", Sender: "alice", Payload: map[string]any{"after": "$(rm -rf /); `id`"}}
	var argv []string
	for _, tpl := range x.Command {
		s, err := tpl.Render(ev)
		if err != nil {
			t.Fatal(err)
		}
		argv = append(argv, s)
	}
	want := []string{"./scripts/deploy.sh", "octo/app", "sha=$(rm -rf /); `id`"}
	if strings.Join(argv, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("argv %q, want %q", argv, want)
	}
	if s, _ := x.Env["DEPLOY_SENDER"].Render(ev); s != "alice" {
		t.Fatalf("env %q", s)
	}
}

func TestPluginNice(t *testing.T) {
	tests := []struct {
		decl string
		want int
	}{
		{"{ path: ./p }", DefaultPluginNice},
		{"{ path: ./p, nice: 0 }", 0},
		{"{ path: ./p, nice: 19 }", 19},
		{"{ path: ./p, nice: \"3\" }", 3}, // quoted: a number all the same
	}
	for _, tt := range tests {
		cfg, err := Parse("hooks.yaml", []byte("plugins:\n  p: "+tt.decl+"\n"), pluginOpts())
		if err != nil {
			t.Fatalf("%s: %v", tt.decl, err)
		}
		if got := cfg.Plugins["p"].Nice; got != tt.want {
			t.Errorf("%s: nice %d, want %d", tt.decl, got, tt.want)
		}
	}
}

func TestTemplateRender(t *testing.T) {
	ev := &providers.Event{Type: "push", Payload: map[string]any{"n": float64(7), "ok": true, "obj": map[string]any{"a": "b"}, "none": nil,
		"id": float64(500000000), "big": float64(1234567890123), "half": 0.5}}
	tests := []struct{ src, want string }{
		{"plain", "plain"},
		{"", ""},
		{"{{ event.type }}", "push"},
		{"a-{{ event.type }}-{{ event.type }}-b", "a-push-push-b"},
		{"{{ event.payload.n }}", "7"},
		{"{{ event.payload.id }}", "500000000"}, // JSON numbers are float64
		{"{{ event.payload.big }}", "1234567890123"},
		{"{{ event.payload.half }}", "0.5"},
		{"{{ event.payload.id + 1 }}", "500000001"},
		{"{{ event.payload.ok }}", "true"},
		{"{{ event.payload.obj }}", `{"a":"b"}`},
		{"[{{ event.payload.none }}]", "[]"},
		{"{{ lower(\"AB\") }}", "ab"},
	}
	for _, tt := range tests {
		y := "routes:\n  - name: r\n    when: true\n    to: exec\n    with: { command: [" + strconvQuote(tt.src) + "] }\n"
		cfg, err := Parse("hooks.yaml", []byte(y), pluginOpts())
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		tpl := cfg.Routes[0].Exec.Command[0]
		got, err := tpl.Render(ev)
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.src, got, err, tt.want)
		}
		if static := !strings.Contains(tt.src, "{{"); tpl.Static() != static {
			t.Errorf("Static(%q) = %v, want %v", tt.src, tpl.Static(), static)
		}
		if tpl.Static() {
			if got, err := tpl.Render(nil); err != nil || got != tt.want {
				t.Errorf("Render(%q) without an event = %q, %v; want %q", tt.src, got, err, tt.want)
			}
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestPluginProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown plugin", "routes:\n  - name: r\n    when: true\n    to: plugin:nope\n",
			[]string{`hooks.yaml:4:9: route "r": to: no plugin "nope" under plugins:`}},
		{"exec without with", "routes:\n  - name: r\n    when: true\n    to: exec\n",
			[]string{`hooks.yaml:2:5: route "r": to: exec needs with: command`}},
		{"bad template", "routes:\n  - name: r\n    when: true\n    to: exec\n    with:\n      command: [\"x\", \"{{ event.nope }}\"]\n",
			[]string{`hooks.yaml:6:32: route "r": with: command: event has no field nope (its fields: id, source, provider, type`}},
		{"bad template after non-ASCII text", "routes:\n  - name: r\n    when: true\n    to: exec\n    with:\n      command: [\"x\", \"déjà {{ event.nope }}\"]\n",
			[]string{`hooks.yaml:6:37: route "r": with: command: event has no field nope (its fields: id, source, provider, type`}},
		{"unclosed template", "routes:\n  - name: r\n    when: true\n    to: exec\n    with:\n      command: [\"x\", \"a {{ event.type\"]\n",
			[]string{`hooks.yaml:6:25: route "r": with: command: {{ without a closing }}`}},
		{"command not a list", "routes:\n  - name: r\n    when: true\n    to: exec\n    with: { command: ./deploy.sh }\n",
			[]string{`route "r": with: command: want a list`}},
		{"bad stdin and concurrency", "routes:\n  - name: r\n    when: true\n    to: exec\n    with: { command: [x], stdin: body, concurrency: 0 }\n",
			[]string{`route "r": with: stdin: want "payload" or "none"`, `route "r": with: concurrency: want a whole number from 1`}},
		{"env names that are no variable names", "routes:\n  - name: r\n    when: true\n    to: exec\n    with:\n      command: [x]\n      env: { \"A=B\": x, \"MY VAR\": y, OK_1: z, 1X: w }\n",
			[]string{`hooks.yaml:7:14: route "r": with: env: "A=B" is not a variable name`, `hooks.yaml:7:24: route "r": with: env: "MY VAR" is not a variable name`, `hooks.yaml:7:46: route "r": with: env: "1X" is not a variable name`}},
		{"plugin env name", "plugins:\n  p: { path: ./p, env: { \"A=B\": x } }\n",
			[]string{`hooks.yaml:2:26: plugin "p": env: "A=B" is not a variable name`}},
		{"task settings on a tunnel route", "routes:\n  - name: r\n    when: true\n    to: tunnel:a\n    retries: 2\n",
			[]string{`hooks.yaml:5:14: route "r": retries, concurrency and timeout are for a plugin route here; a tunnel's deliveries follow`}},
		{"task settings on an exec route", "routes:\n  - name: r\n    when: true\n    to: exec\n    concurrency: 2\n    with: { command: [x] }\n",
			[]string{`hooks.yaml:5:18: route "r": retries, concurrency and timeout are for a plugin route here; an exec route sets it in with:`}},
		{"bad task settings on a plugin route", "plugins:\n  p: { path: ./p }\nroutes:\n  - name: r\n    when: true\n    to: plugin:p\n    retries: -1\n    concurrency: 0\n    timeout: 0s\n",
			[]string{`hooks.yaml:7:14: route "r": retries: want a whole number from 0`, `hooks.yaml:8:18: route "r": concurrency: want a whole number from 1`, `hooks.yaml:9:14: route "r": timeout must be more than 0`}},
		{"with on a tunnel", "routes:\n  - name: r\n    when: true\n    to: tunnel:a\n    with: { x: 1 }\n",
			[]string{`hooks.yaml:5:11: route "r": with: is for exec and plugin targets`}},
		{"plugin without path, bad sum", "plugins:\n  p: { sha256: abc }\n",
			[]string{`hooks.yaml:2:6: plugin "p": path is required`, `hooks.yaml:2:16: plugin "p": sha256: want 64 lower-case hex digits`}},
		{"nice above 19", "plugins:\n  p: { path: ./p, nice: 20 }\n",
			[]string{`hooks.yaml:2:25: plugin "p": nice: want a whole number from 0 (the server's priority) to 19 (the lowest)`}},
		{"negative nice", "plugins:\n  p: { path: ./p, nice: -5 }\n",
			[]string{`hooks.yaml:2:25: plugin "p": nice: want a whole number from 0`}},
		{"nice not a number", "plugins:\n  p:\n    path: ./p\n    nice: low\n",
			[]string{`hooks.yaml:4:11: plugin "p": nice: want a whole number from 0`}},
		{"nice a list", "plugins:\n  p:\n    path: ./p\n    nice: [1]\n",
			[]string{`hooks.yaml:4:11: plugin "p": nice: want a whole number from 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, at := parsePluginProblems(t, tt.yaml).Error(), 0
			for _, w := range tt.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error\n%s\ndoes not contain, in order, %q", msg, w)
				}
				at += i + len(w)
			}
		})
	}
}

// parsePluginProblems parses y, which must have problems, and returns them.
func parsePluginProblems(t *testing.T, y string) Problems {
	t.Helper()
	_, err := Parse("hooks.yaml", []byte(y), pluginOpts())
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want Problems", err)
	}
	return ps
}

// A timeout that is no duration gets one error, not also "must be more
// than 0".
func TestTimeoutNotADuration(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"exec route", "routes:\n  - name: r\n    when: true\n    to: exec\n    with: { command: [x], timeout: soon }\n",
			`hooks.yaml:5:36: route "r": with: timeout: want a duration such as 5m or 30s, got "soon"`},
		{"plugin route", "plugins:\n  p: { path: ./p }\nroutes:\n  - name: r\n    when: true\n    to: plugin:p\n    timeout: soon\n",
			`hooks.yaml:7:14: route "r": timeout: want a duration such as 5m or 30s, got "soon"`},
		{"negative", "routes:\n  - name: r\n    when: true\n    to: exec\n    with: { command: [x], timeout: -1s }\n",
			`hooks.yaml:5:36: route "r": with: timeout: want a duration such as 5m or 30s, got "-1s"`},
		{"a list", "plugins:\n  p: { path: ./p }\nroutes:\n  - name: r\n    when: true\n    to: plugin:p\n    timeout: [1]\n",
			`hooks.yaml:7:14: route "r": timeout: want a string, got a list`},
		{"an unset variable", "plugins:\n  p: { path: ./p }\nroutes:\n  - name: r\n    when: true\n    to: plugin:p\n    timeout: ${HOOKRELAY_TEST_UNSET}\n",
			`hooks.yaml:7:14: route "r": timeout: environment variable HOOKRELAY_TEST_UNSET is not set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ps := parsePluginProblems(t, tt.yaml); len(ps) != 1 || ps[0].Error() != tt.want {
				t.Errorf("problems:\n%v\nwant only %s", ps, tt.want)
			}
		})
	}
}

// Paths in an exec route are relative to the hooks file, as a plugin's
// path is, whatever the server's working directory: a relative dir:, and
// a relative program when there is no dir: (with one, exec finds the
// program from it).
func TestExecPathsRelativeToHooksFile(t *testing.T) {
	tests := []struct {
		name, with       string
		wantProg, wantDr string
	}{
		{"relative program", `{ command: [./scripts/deploy.sh] }`, "/etc/hooks/scripts/deploy.sh", ""},
		{"relative dir", `{ command: [./deploy.sh], dir: app }`, "./deploy.sh", "/etc/hooks/app"},
		{"absolute dir", `{ command: [./deploy.sh], dir: /srv/app }`, "./deploy.sh", "/srv/app"},
		{"a name looked up in PATH", `{ command: [make, deploy] }`, "make", ""},
		{"absolute program", `{ command: [/usr/bin/make] }`, "/usr/bin/make", ""},
		{"a templated program", `{ command: ["./{{ event.repo }}.sh"] }`, "./{{ event.repo }}.sh", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("/etc/hooks/hooks.yaml", []byte("routes:\n  - name: r\n    when: true\n    to: exec\n    with: "+tt.with+"\n"), pluginOpts())
			if err != nil {
				t.Fatal(err)
			}
			x := cfg.Routes[0].Exec
			if x.Command[0].Src != tt.wantProg || x.Dir != tt.wantDr {
				t.Errorf("program %q, dir %q; want %q, %q", x.Command[0].Src, x.Dir, tt.wantProg, tt.wantDr)
			}
		})
	}
}

// A hooks file named without a directory (--config hooks.yaml) anchors
// paths at the working directory, and a program path keeps its slash: it
// is never turned into a bare name that PATH would find.
func TestExecPathsOfAHooksFileInTheWorkingDirectory(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("hooks.yaml", []byte("plugins:\n  p: { path: ./p }\nroutes:\n  - name: r\n    when: true\n    to: exec\n    with: { command: [./deploy.sh] }\n"), pluginOpts())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Routes[0].Exec.Command[0].Src, filepath.Join(wd, "deploy.sh"); got != want {
		t.Errorf("program %q, want %q", got, want)
	}
	if got, want := cfg.Plugins["p"].Path, filepath.Join(wd, "p"); got != want {
		t.Errorf("plugin path %q, want %q", got, want)
	}
}

// A plugin route's own retries, concurrency and timeout, and its queue,
// one per route.
func TestPluginRouteTasks(t *testing.T) {
	cfg, err := Parse("/etc/hooks/hooks.yaml", []byte(`plugins:
  notify: { path: ./notify }
routes:
  - { name: tell, when: true, to: plugin:notify, retries: 3, concurrency: 4, timeout: 20s }
  - { name: tell-ops, when: true, to: plugin:notify }
  - { name: laptop, when: true, to: tunnel:alice }
`), pluginOpts())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		route     int
		wantQueue string
		wantTasks *TaskLimits
	}{
		{0, "plugin:notify/tell", &TaskLimits{Retries: 3, Concurrency: 4, Timeout: 20 * time.Second}},
		{1, "plugin:notify/tell-ops", nil},
		{2, "tunnel:alice", nil},
	}
	for _, tt := range tests {
		r := cfg.Routes[tt.route]
		if got := r.Queue(); got != tt.wantQueue {
			t.Errorf("route %s: queue %q, want %q", r.Name, got, tt.wantQueue)
		}
		if (r.Tasks == nil) != (tt.wantTasks == nil) || (r.Tasks != nil && *r.Tasks != *tt.wantTasks) {
			t.Errorf("route %s: tasks %+v, want %+v", r.Name, r.Tasks, tt.wantTasks)
		}
	}
}

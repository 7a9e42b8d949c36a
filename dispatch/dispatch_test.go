package dispatch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/builtin"
)

// fakeProvider accepts everything; its factory wants a secret.
type fakeProvider struct{}

func (fakeProvider) Verify(*providers.Request) error { return nil }
func (fakeProvider) Normalize(*providers.Request) (*providers.Event, error) {
	return &providers.Event{}, nil
}

func testOpts(env map[string]string) LoadOptions {
	return LoadOptions{
		Providers: map[string]providers.Factory{
			"github": func(o providers.Options) (providers.Provider, error) {
				if len(o.Secrets) == 0 {
					return nil, errors.New("github: the source needs a secret")
				}
				return fakeProvider{}, nil
			},
		},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
}

const good = `server: { listen: ":9090", data_dir: ./data }
sources:
  github: { provider: github, secret: "${GH_SECRET}" }
routes:
  - name: alice-branches
    source: github
    when: event.type == "pull_request" && event.branch startsWith "alice/"
    to: tunnel:alice
  - name: labelled
    when: event.type == "issues" && event.action == "labeled" && event.payload.label.name == "coding agent"
    to: tunnel:bot
  - name: pings
    when: header("x-github-event") == "ping" && glob(event.repo, "octo-org/*")
    to: tunnel:alice
    respond: passthrough
`

func TestParseAndMatch(t *testing.T) {
	cfg, err := Parse("hooks.yaml", []byte(good), testOpts(map[string]string{"GH_SECRET": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != ":9090" || len(cfg.Routes) != 3 || cfg.Sources["github"].Provider == nil {
		t.Fatalf("loaded %+v", cfg)
	}
	tests := []struct {
		name string
		ev   providers.Event
		want []string
	}{
		{"alice pr", providers.Event{Source: "github", Type: "pull_request", Branch: "alice/fix"}, []string{"alice-branches"}},
		{"bob pr", providers.Event{Source: "github", Type: "pull_request", Branch: "bob/fix"}, nil},
		{"other source", providers.Event{Source: "gitlab", Type: "pull_request", Branch: "alice/x"}, nil},
		{"labelled", providers.Event{Source: "gitlab", Type: "issues", Action: "labeled",
			Payload: map[string]any{"label": map[string]any{"name": "coding agent"}}}, []string{"labelled"}},
		{"other label", providers.Event{Type: "issues", Action: "labeled",
			Payload: map[string]any{"label": map[string]any{"name": "bug"}}}, nil},
		{"ping header any case", providers.Event{Source: "github", Repo: "octo-org/hello",
			Headers: map[string]string{"X-Github-Event": "ping"}}, []string{"pings"}},
		{"fan-out in file order", providers.Event{Source: "github", Type: "pull_request", Branch: "alice/x", Repo: "octo-org/hello",
			Headers: map[string]string{"X-Github-Event": "ping"}}, []string{"alice-branches", "pings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes, _ := cfg.Match(&tt.ev)
			var got []string
			for _, r := range routes {
				got = append(got, r.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("matched %v, want %v", got, tt.want)
			}
		})
	}
}

// A rule that reads into a missing object does not match, and says why.
func TestMatchRuntimeErrorIsNoMatch(t *testing.T) {
	cfg, err := Parse("hooks.yaml", []byte(good), testOpts(map[string]string{"GH_SECRET": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	routes, errs := cfg.Match(&providers.Event{Type: "issues", Action: "labeled", Payload: map[string]any{}})
	if len(routes) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), `route "labelled"`) {
		t.Fatalf("routes %v errs %v", routes, errs)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string // substrings, in order, each with its place
	}{
		{"unset variable", "sources:\n  github: { provider: github, secret: \"${NOPE}\" }\n", nil,
			[]string{`hooks.yaml:2:39: source "github": secret: environment variable NOPE is not set`}},
		{"unknown key", "sources:\n  github: { provider: github, secret: x, secert: y }\n", nil,
			[]string{`hooks.yaml:2:42: source "github": unknown key "secert"`}},
		{"unknown provider", "sources:\n  s: { provider: bitbuckt, secret: x }\n", nil,
			[]string{`hooks.yaml:2:18: source "s": unknown provider "bitbuckt" (known: github)`}},
		{"provider refuses options", "sources:\n  s: { provider: github }\n", nil,
			[]string{`hooks.yaml:2:18: source "s": github: the source needs a secret`}},
		{"bad rule", "routes:\n  - name: deploy-main\n    when: evnt.type == \"push\"\n    to: tunnel:a\n", nil,
			[]string{`hooks.yaml:3:11: route "deploy-main": unknown name evnt`, "^"}},
		{"rule not bool", "routes:\n  - name: r\n    when: event.type\n    to: tunnel:a\n", nil,
			[]string{`hooks.yaml:3:11: route "r": expected bool`}},
		{"several at once", "sources:\n  a: { provider: github, secret: x }\nroutes:\n  - name: r1\n    when: nope\n    to: tunnel:a\n  - name: r1\n    source: b\n    when: true\n    to: smtp:x\n", nil,
			[]string{`hooks.yaml:5:11: route "r1": unknown name nope`, `hooks.yaml:7:11: route "r1": the name is used by an earlier route`,
				`hooks.yaml:8:13: route "r1": unknown source "b"`, `hooks.yaml:10:9: route "r1": to: unknown target kind "smtp"`}},
		{"passthrough needs tunnel", "routes:\n  - name: r\n    when: true\n    to: plugin:x\n    respond: passthrough\n", nil,
			[]string{`hooks.yaml:2:5: route "r": respond: passthrough needs a tunnel target`, `hooks.yaml:4:9: route "r": to: exec and plugin targets are not available`}},
		{"not yaml", "routes: [\n", nil, []string{"hooks.yaml:1: not valid YAML"}},
		{"top-level typo", "rotues: []\n", nil, []string{`hooks.yaml:1:1: hooks file: unknown key "rotues"`}},
		{"bad cidr", "sources:\n  a: { provider: github, secret: x, allow_ips: [10.0.0.0/33] }\n", nil,
			[]string{`source "a": allow_ips: "10.0.0.0/33" is neither`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("hooks.yaml", []byte(tt.yaml), testOpts(tt.env))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			msg := err.Error()
			at := 0
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

func TestSecretNeverInErrors(t *testing.T) {
	y := "sources:\n  a: { provider: github, secret: hunter2-very-secret, bogus: 1 }\nroutes:\n  - name: r\n    when: event.type == 1 +\n    to: tunnel:a\n"
	_, err := Parse("hooks.yaml", []byte(y), testOpts(nil))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gh.secret"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got providers.Options
	opts := LoadOptions{Providers: map[string]providers.Factory{"github": func(o providers.Options) (providers.Provider, error) {
		got = o
		return fakeProvider{}, nil
	}}}
	path := filepath.Join(dir, "hooks.yaml")
	y := "sources:\n  a: { provider: github, secret_file: gh.secret, secrets: [old, new] }\n"
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, opts); err != nil {
		t.Fatal(err)
	}
	if len(got.Secrets) != 3 || got.Secrets[0] != "from-file" || got.Secrets[2] != "new" {
		t.Fatalf("secrets %d", len(got.Secrets))
	}
}

// An unset ${VAR} in a secret is one problem; the provider's "secret is
// empty" that would follow from it is not reported as another.
func TestUnsetSecretIsOneProblem(t *testing.T) {
	for _, src := range []string{
		`{ provider: github, secret: "${NOPE}" }`,
		`{ provider: github, secrets: ["${NOPE}"] }`,
	} {
		// The real provider, which refuses an empty secret.
		_, err := Parse("hooks.yaml", []byte("sources:\n  github: "+src+"\n"), LoadOptions{Providers: builtin.Providers()})
		var ps Problems
		if !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(ps[0].Error(), "environment variable NOPE is not set") {
			t.Errorf("%s: %v, want only the unset variable", src, err)
		}
	}
}

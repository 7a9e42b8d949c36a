package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/dispatch"
)

// readmeYAML returns the README's YAML blocks.
func readmeYAML(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) < 2 {
		t.Fatalf("README has %d yaml blocks, want the hooks file and the multi-line example", len(out))
	}
	return out
}

// TestREADME loads the README's hooks file with hookrelay's own loader and
// runs its config and route options through the real plugin, so the
// documentation cannot drift from the code.
func TestREADME(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), DefaultTemplate) {
		t.Errorf("README does not show DefaultTemplate:\n%s", DefaultTemplate)
	}

	bin, err := os.ReadFile(pluginBin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	blocks := readmeYAML(t)
	hooks := strings.Replace(blocks[0], "<sha256sum of the binary>", hex.EncodeToString(sum[:]), 1)

	s := newSlack(t, nil)
	cfg, err := dispatch.Parse("README.md", []byte(hooks), dispatch.LoadOptions{
		Plugins: true,
		LookupEnv: func(name string) (string, bool) {
			if name == "SLACK_WEBHOOK_URL" {
				return s.url(), true
			}
			return "", false
		},
	})
	if err != nil {
		t.Fatalf("the README's hooks file does not load: %v", err)
	}
	pl := cfg.Plugins["notify"]
	if pl == nil || pl.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("plugins: %+v, want notify pinned", cfg.Plugins)
	}
	p, _ := startPlugin(t, string(pl.Config))

	with := map[string]string{}
	for _, r := range cfg.Routes {
		with[r.Name] = string(r.With)
	}
	pr := `{"type":"pull_request","action":"opened","repo":"acme/api","branch":"fix","sender":"bob",` +
		`"payload":{"pull_request":{"title":"Fix <retries>"}}}`
	tests := []struct {
		name, route, event string
		want               message
	}{
		{"tell-slack", "tell-slack", readPush(t), message{Text: "push on acme/api@main by alice"}},
		{"tell-ops", "tell-ops", pr, message{Text: "PR opened on acme/api by bob: Fix &lt;retries&gt;", Channel: "#ops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := handle(t, p, tt.event, with[tt.route])
			got, posted := s.next(t)
			if res.Failed || !posted || got.Msg != tt.want {
				t.Errorf("result %+v, posted %v %+v; want %+v", res, posted, got.Msg, tt.want)
			}
		})
	}

	// The multi-line example is a route's with:.
	multi := "sources: {}\nplugins:\n  notify: { path: /bin/true }\nroutes:\n  - name: multi\n    when: true\n    to: plugin:notify\n" +
		blocks[1]
	cfg, err = dispatch.Parse("README.md", []byte(multi), dispatch.LoadOptions{Plugins: true})
	if err != nil {
		t.Fatalf("the README's multi-line example does not load: %v\n%s", err, multi)
	}
	res := handle(t, p, readPush(t), string(cfg.Routes[0].With))
	got, _ := s.next(t)
	want := "*acme/api* pushed to `main` by alice\n• Fix retry budget for &lt;flaky&gt; deliveries &amp; timeouts"
	if res.Failed || got.Msg.Text != want {
		t.Errorf("result %+v, posted %q; want %q", res, got.Msg.Text, want)
	}
}

package dispatch_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/builtin"
	"github.com/hookrelay/hookrelay/providers/httpfile"
)

// The shipped example must load, so it never rots.
func TestExampleHooksFileLoads(t *testing.T) {
	env := map[string]string{
		"GITHUB_WEBHOOK_SECRET": "gh", "GITLAB_WEBHOOK_TOKEN": "gl",
		"STRIPE_WEBHOOK_SECRET": "whsec_x", "INTERNAL_WEBHOOK_SECRET": "in", "SLACK_WEBHOOK_URL": "https://hooks.example/x",
	}
	cfg, err := dispatch.Load("../hooks.example.yaml", dispatch.LoadOptions{
		Providers: builtin.Providers(),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Plugins:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 4 || len(cfg.Routes) != 6 || len(cfg.Plugins) != 1 {
		t.Fatalf("%d sources, %d routes, %d plugins", len(cfg.Sources), len(cfg.Routes), len(cfg.Plugins))
	}
	ev := &providers.Event{Source: "github", Type: "issues", Action: "labeled",
		Payload: map[string]any{"label": map[string]any{"name": "coding agent"}}}
	routes, errs := cfg.Match(ev)
	if len(errs) != 0 || len(routes) != 1 || routes[0].To.String() != "tunnel:bot" {
		t.Fatalf("routes %v errs %v", routes, errs)
	}
}

// FuzzParse feeds arbitrary hooks files to the loader: it must report
// problems, never panic.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("../hooks.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("routes:\n  - name: r\n    when: event.type == \"push\"\n    to: tunnel:a\n"))
	f.Add([]byte("sources: {a: {provider: hmac, header: X, secret: s}}\n"))
	f.Add([]byte("plugins: {p: {path: ./p, config: {a: [1, x]}}}\nroutes:\n  - {name: r, when: true, to: exec, with: {command: [\"a{{ event.type }}\"]}}\n"))
	opts := dispatch.LoadOptions{Providers: builtin.Providers(), LookupEnv: func(string) (string, bool) { return "v", true }, Plugins: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := dispatch.Parse("fuzz.yaml", b, opts)
		if err != nil {
			return
		}
		ev := &providers.Event{Type: "push", Payload: map[string]any{}}
		routes, _ := cfg.Match(ev)
		for _, r := range routes {
			if r.Exec != nil {
				for _, t := range r.Exec.Command {
					_, _ = t.Render(ev)
				}
			}
		}
	})
}

// BenchmarkPipeline is what one /hooks delivery costs the server before any
// network: verify the signature, normalise, and match 100 routes, for a
// real-shaped GitHub push (9 KB: two commits, full repository object). Each goroutine decodes once per event and
// borrows its own VM.
func BenchmarkPipeline(b *testing.B) {
	raw, err := os.ReadFile("../providers/github/testdata/push.http")
	if err != nil {
		b.Fatal(err)
	}
	delivery, err := httpfile.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	const secret = "hookrelay-github-testdata" // named in providers/github/testdata/README
	var y strings.Builder
	y.WriteString("sources:\n  github: { provider: github, secret: \"${S}\" }\nroutes:\n")
	for i := range 100 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&y, "  - name: r%d\n    when: event.type == \"pull_request\" && event.branch startsWith \"dev%d/\"\n    to: tunnel:c%d\n", i, i, i)
		case 1:
			fmt.Fprintf(&y, "  - name: r%d\n    when: event.type == \"push\" && event.branch == \"feature-%d\"\n    to: tunnel:c%d\n", i, i, i)
		case 2:
			fmt.Fprintf(&y, "  - name: r%d\n    when: event.type == \"issues\" && event.payload.label.name == \"l%d\"\n    to: tunnel:c%d\n", i, i, i)
		case 3:
			fmt.Fprintf(&y, "  - name: r%d\n    when: glob(event.repo, \"org%d/*\") || header(\"x-custom\") == \"%d\"\n    to: tunnel:c%d\n", i, i, i, i)
		}
	}
	y.WriteString("  - name: main\n    when: event.type == \"push\" && event.branch == \"main\"\n    to: tunnel:main\n")
	cfg, err := dispatch.Parse("bench.yaml", []byte(y.String()), dispatch.LoadOptions{
		Providers: builtin.Providers(),
		LookupEnv: func(string) (string, bool) { return secret, true },
	})
	if err != nil {
		b.Fatal(err)
	}
	src := cfg.Sources["github"]
	b.SetBytes(int64(len(delivery.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := &providers.Request{Header: delivery.Header, Body: delivery.Body}
			if err := src.Provider.Verify(req); err != nil {
				b.Error(err)
				return
			}
			ev, err := src.Provider.Normalize(req)
			if err != nil {
				b.Error(err)
				return
			}
			ev.Source = "github"
			if routes, _ := cfg.Match(ev); len(routes) == 0 {
				b.Error("the push matched no route")
				return
			}
		}
	})
}

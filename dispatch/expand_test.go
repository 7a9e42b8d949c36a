package dispatch

import (
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
)

// A ${VAR} in a rule or a template may hold a secret (a token the rule
// compares, a key a script gets): no message about the rule or template,
// at load or when it runs, may quote its value.
func TestExpandedSecretNeverQuoted(t *testing.T) {
	const secret = "s3cr3t-deploy-token"
	env := map[string]string{"GH_SECRET": "x", "DEPLOY_TOKEN": secret, "PREFIX": "s3cr3t", "N": "a"}
	tests := []struct {
		name string
		yaml string
		// want is in the load error, or else in the error of matching or
		// rendering for an event without a payload.
		want string
	}{
		{"a rule that does not compile",
			`when: event.type == "${DEPLOY_TOKEN}" "x"`,
			`hooks.yaml:6:43: route "r": unexpected token String("x")`},
		{"a rule whose error is after the secret",
			`when: event.type == "${DEPLOY_TOKEN}" && event.nope`,
			`hooks.yaml:6:52: route "r": event has no field nope`},
		{"a rule that fails at run time",
			`when: event.payload.a.b == "${DEPLOY_TOKEN}"`,
			"event.payload.a.b == \"${DEPLOY_TOKEN}\"\n | ..............^"},
		{"a value that holds another",
			`when: "${PREFIX}" != "" && int("${DEPLOY_TOKEN}") == 1`,
			`hooks.yaml:6:`},
		{"a forgotten quote splits the value into names",
			`when: event.type == ${DEPLOY_TOKEN}`,
			`message is withheld`},
		{"a value changed by a function",
			`when: int(upper("${DEPLOY_TOKEN}")) == 1`,
			`message is withheld`},
		{"a one-letter value garbles nothing",
			`when: event.payload.a.b == "${N}"`,
			"cannot fetch a from <nil>"},
		{"a template that fails at run time",
			`to: exec
    with: { command: [./x.sh], env: { MIXED: "tok=${DEPLOY_TOKEN} repo={{ event.payload.a.b }}" } }`,
			`template "tok=${DEPLOY_TOKEN} repo={{ event.payload.a.b }}"`},
		{"a template that does not compile",
			`to: exec
    with: { command: ["{{ event.type == '${DEPLOY_TOKEN}' 'x' }}"] }`,
			`unexpected token String("x")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := "sources:\n  github: { provider: github, secret: \"${GH_SECRET}\" }\nroutes:\n  - name: r\n    source: github\n    "
			if strings.HasPrefix(tt.yaml, "to:") {
				y += "when: true\n    " + tt.yaml + "\n"
			} else {
				y += tt.yaml + "\n    to: tunnel:a\n"
			}
			opts := testOpts(env)
			opts.Plugins = true
			cfg, err := Parse("hooks.yaml", []byte(y), opts)
			var got string
			switch {
			case err != nil:
				got = err.Error()
			case cfg.Routes[0].Exec != nil:
				ev := &providers.Event{Source: "github"}
				for _, tmpl := range cfg.Routes[0].Exec.Env {
					if _, err := tmpl.Render(ev); err != nil {
						got = err.Error()
					}
				}
			default:
				_, errs := cfg.Match(&providers.Event{Source: "github"})
				if len(errs) == 1 {
					got = errs[0].Error()
				}
			}
			if got == "" {
				t.Fatal("no error")
			}
			for _, piece := range []string{secret, "s3cr3t", "deploy-token", "S3CR3T"} {
				if strings.Contains(got, piece) {
					t.Errorf("the secret is quoted (%q):\n%s", piece, got)
				}
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("error:\n%s\nwant it to contain:\n%s", got, tt.want)
			}
		})
	}
}

// A variable's value is never taken for a {{ }}: it is text.
func TestExpandedValueIsNotATemplate(t *testing.T) {
	env := map[string]string{"GH_SECRET": "x", "V": "{{ event.type }}"}
	y := "sources:\n  github: { provider: github, secret: \"${GH_SECRET}\" }\nroutes:\n  - name: r\n    when: true\n    to: exec\n    with: { command: [./x.sh, \"a ${V} {{ event.type }}\"] }\n"
	opts := testOpts(env)
	opts.Plugins = true
	cfg, err := Parse("hooks.yaml", []byte(y), opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Routes[0].Exec.Command[1].Render(&providers.Event{Type: "push"})
	if err != nil || got != "a {{ event.type }} push" {
		t.Fatalf("Render = %q, %v; want %q", got, err, "a {{ event.type }} push")
	}
}

// writtenRune maps places in the expanded value back to the file's text.
func TestWrittenRune(t *testing.T) {
	d := &decoder{lookup: func(name string) (string, bool) {
		return map[string]string{"A": "αβγδε", "B": ""}[name], true
	}}
	e := d.expand(nil, "", "x${A}y${B}z")
	if e.value != "xαβγδεyz" {
		t.Fatalf("value = %q", e.value)
	}
	for _, tt := range []struct{ in, want int }{
		{0, 0},  // x
		{1, 1},  // α: the ${A}
		{5, 1},  // ε
		{6, 5},  // y
		{7, 10}, // z, after the empty ${B}
	} {
		if got := e.writtenRune(tt.in); got != tt.want {
			t.Errorf("writtenRune(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// A ${VAR} in a command's program or in its PATH is expanded where the
// program is found, as in every other value.
func TestExpandedProgramPath(t *testing.T) {
	env := map[string]string{"GH_SECRET": "x", "SCRIPTS": "/opt/scripts", "BIN": "bin"}
	y := "sources:\n  github: { provider: github, secret: \"${GH_SECRET}\" }\nroutes:\n" +
		"  - { name: abs, when: true, to: exec, with: { command: [\"${SCRIPTS}/deploy.sh\"] } }\n" +
		"  - { name: rel, when: true, to: exec, with: { command: [\"./${BIN}/deploy.sh\"] } }\n"
	opts := testOpts(env)
	opts.Plugins = true
	cfg, err := Parse("/etc/hookrelay/hooks.yaml", []byte(y), opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"/opt/scripts/deploy.sh", "/etc/hookrelay/bin/deploy.sh"} {
		if got, err := cfg.Routes[i].Exec.Command[0].Render(nil); err != nil || got != want {
			t.Errorf("route %s runs %q (%v), want %q", cfg.Routes[i].Name, got, err, want)
		}
	}
}

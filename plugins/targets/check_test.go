package targets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers/builtin"
)

func TestCheckExec(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"run.sh": 0o700, "notexec.sh": 0o600} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, with string
		want       string // "" : no problem
	}{
		{"script next to the file", `{ command: [./run.sh] }`, ""},
		{"a program in the script's PATH", `{ command: [true] }`, ""},
		{"missing script", `{ command: [./nothere.sh] }`, `nothere.sh: no such file or directory`},
		{"not executable", `{ command: [./notexec.sh] }`, `notexec.sh": permission denied`},
		{"not in the PATH", `{ command: [no-such-program-here] }`, `program "no-such-program-here" not found in the script's PATH`},
		{"its own PATH", `{ command: [run.sh], env: { PATH: "` + dir + `" } }`, ""},
		{"a missing dir", `{ command: [./run.sh], dir: ./gone }`, `working directory`},
		{"a program from a template", `{ command: ["{{ event.repo }}"] }`, ""},
		{"a PATH from a template", `{ command: [nothing-here], env: { PATH: "{{ event.repo }}" } }`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "hooks.yaml")
			y := "routes:\n  - name: r\n    when: true\n    to: exec\n    with: " + tt.with + "\n"
			if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := dispatch.Load(path, dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
			if err != nil {
				t.Fatal(err)
			}
			errs := CheckExec(cfg)
			switch {
			case tt.want == "" && len(errs) != 0:
				t.Errorf("problems %v, want none", errs)
			case tt.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want) || !strings.HasPrefix(errs[0].Error(), path+`:2: route "r": `)):
				t.Errorf("problems %v, want one at %s:2 saying %q", errs, path, tt.want)
			}
		})
	}
}

package targets

import (
	"fmt"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/plugins/script"
)

// CheckExec reports the exec routes of cfg whose program could not be
// started now: a missing or non-executable file, a missing dir:. A program
// or PATH given by a template is known only at run time, and not checked.
// Each error names the file, line and route.
func CheckExec(cfg *dispatch.Config) []error {
	if cfg == nil {
		return nil
	}
	var out []error
	for _, r := range cfg.Routes {
		if r.Exec == nil || len(r.Exec.Command) == 0 || !r.Exec.Command[0].Static() {
			continue
		}
		path := ""
		if t, ok := r.Exec.Env["PATH"]; ok {
			if !t.Static() {
				continue
			}
			path = t.Text()
		}
		if err := script.Check(r.Exec.Command[0].Text(), r.Exec.Dir, path); err != nil {
			out = append(out, fmt.Errorf("%s:%d: route %q: %w", cfg.File, r.Line, r.Name, err))
		}
	}
	return out
}

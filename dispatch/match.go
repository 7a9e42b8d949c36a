package dispatch

import (
	"fmt"

	"github.com/expr-lang/expr/vm"

	"github.com/hookrelay/hookrelay/providers"
)

// Match returns the routes that take ev, in file order. A rule that fails
// at run time (say, it reads a field of a missing object) does not match;
// its error is returned beside the matches so the caller can log it.
func (c *Config) Match(ev *providers.Event) ([]*Route, []error) {
	machine := c.vms.Get().(*vm.VM)
	defer c.vms.Put(machine)
	env := newEnv(ev)
	var matched []*Route
	var errs []error
	for _, r := range c.Routes {
		if r.Source != "" && r.Source != ev.Source {
			continue
		}
		out, err := machine.Run(r.When, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("route %q: %w", r.Name, r.when.explain(err)))
			continue
		}
		if ok, _ := out.(bool); ok {
			matched = append(matched, r)
		}
	}
	return matched, errs
}

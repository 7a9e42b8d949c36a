package dispatch

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree, collecting problems with their places.
type decoder struct {
	file     string
	problems Problems
	// lookup resolves ${VAR}; nil means os.LookupEnv.
	lookup func(string) (string, bool)
	// plugins accepts plugin and exec targets (LoadOptions.Plugins).
	allowPlugins bool
}

func (d *decoder) addf(n *yaml.Node, format string, args ...any) {
	p := Problem{File: d.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

// field is one known key of a mapping and what to do with its value.
type field struct {
	name string
	set  func(v *yaml.Node)
}

// mapping calls the handler of each key of n, reporting unknown and
// duplicate keys. ctx prefixes messages, e.g. `route "deploy"`.
func (d *decoder) mapping(n *yaml.Node, ctx string, fields ...field) {
	if n.Kind != yaml.MappingNode {
		d.addf(n, "%s: want a mapping, got %s", ctx, kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			d.addf(k, "%s: duplicate key %q", ctx, k.Value)
			continue
		}
		seen[k.Value] = true
		found := false
		for _, f := range fields {
			if f.name == k.Value {
				f.set(v)
				found = true
				break
			}
		}
		if !found {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.name
			}
			d.addf(k, "%s: unknown key %q (known: %s)", ctx, k.Value, strings.Join(names, ", "))
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// str reads a scalar string, expanding ${VAR} from the environment; an
// unset variable is a problem.
func (d *decoder) str(n *yaml.Node, ctx string) string {
	return d.expandedStr(n, ctx).value
}

// expandedStr is str keeping what was written beside the value.
func (d *decoder) expandedStr(n *yaml.Node, ctx string) expanded {
	if n.Kind != yaml.ScalarNode {
		d.addf(n, "%s: want a string, got %s", ctx, kindName(n))
		return expanded{}
	}
	return d.expand(n, ctx, n.Value)
}

func (d *decoder) strList(n *yaml.Node, ctx string) []string {
	if n.Kind != yaml.SequenceNode {
		d.addf(n, "%s: want a list, got %s", ctx, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, d.str(c, ctx))
	}
	return out
}

func (d *decoder) boolean(n *yaml.Node, ctx string) bool {
	b, err := strconv.ParseBool(d.str(n, ctx))
	if err != nil {
		d.addf(n, "%s: want true or false, got %s", ctx, kindName(n))
	}
	return b
}

func (d *decoder) duration(n *yaml.Node, ctx string) time.Duration {
	v, _ := d.parseDuration(n, ctx)
	return v
}

// parseDuration is duration that also reports whether n held one.
func (d *decoder) parseDuration(n *yaml.Node, ctx string) (time.Duration, bool) {
	before := len(d.problems)
	s := d.str(n, ctx)
	if len(d.problems) > before {
		return 0, false // no string, or an unset ${VAR}: already said
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		d.addf(n, "%s: want a duration such as 5m or 30s, got %s", ctx, kindName(n))
		return v, false
	}
	return v, true
}

// positiveDuration is duration for a value that must be more than 0; one
// error, not two, for a value that is no duration at all.
func (d *decoder) positiveDuration(n *yaml.Node, ctx string) time.Duration {
	v, ok := d.parseDuration(n, ctx)
	if ok && v <= 0 {
		d.addf(n, "%s must be more than 0", ctx)
	}
	return v
}

package dispatch

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Plugin is an out-of-process handler declared under `plugins:`.
type Plugin struct {
	Name string
	// Path is the executable, relative paths resolved against the hooks
	// file's folder.
	Path string
	Args []string
	// SHA256, when set, pins the executable: a different file is refused.
	SHA256 string
	// Config is given to the plugin once at start, as JSON.
	Config json.RawMessage
	// Env is the plugin's whole environment: the server's is not inherited.
	Env map[string]string
	// Nice is the plugin's CPU niceness, 0 to 19 (DefaultPluginNice): a
	// busy plugin must not slow the server's answers to webhook senders.
	Nice int
	Line int
}

// DefaultPluginNice is the niceness of a plugin that sets none, and of the
// script runner and its scripts.
const DefaultPluginNice = 10

// Exec is what a `to: exec` route runs, from its `with:`.
type Exec struct {
	// Command is the argv, each entry one template: never a shell.
	Command []Template
	Env     map[string]Template
	Dir     string
	// Stdin is "payload" (the raw request body) or "none".
	Stdin   string
	Timeout time.Duration
	// Concurrency bounds the route's runs at once; others wait in order.
	Concurrency int
	// Retries is how many times a failed run is tried again (default 0).
	Retries int
}

// Exec defaults.
const (
	DefaultExecTimeout = 10 * time.Minute
	StdinPayload       = "payload"
	StdinNone          = "none"
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// envName is a variable name a shell can use.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envNames refuses, each at its place, the keys of the env mapping n that
// are no variable names: "A=B" would set another variable than it says,
// and a shell cannot read "MY VAR".
func (d *decoder) envNames(n *yaml.Node, ctx string) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !envName.MatchString(k.Value) {
			d.addf(k, "%s: %q is not a variable name: want letters, digits and _, not starting with a digit", ctx, k.Value)
		}
	}
}

// plugins reads the `plugins:` mapping.
func (d *decoder) plugins(n *yaml.Node, dir string, out map[string]*Plugin) {
	if n.Kind != yaml.MappingNode {
		d.addf(n, "plugins: want a mapping of plugin names, got %s", kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ctx := fmt.Sprintf("plugin %q", k.Value)
		if !validName(k.Value) || k.Value == "exec" {
			d.addf(k, "%s: a plugin name is 1 to 64 of a-z 0-9 - _ . and not \"exec\"", ctx)
		}
		if _, dup := out[k.Value]; dup {
			d.addf(k, "%s: defined twice", ctx)
			continue
		}
		p := &Plugin{Name: k.Value, Nice: DefaultPluginNice, Line: k.Line}
		var pathNode *yaml.Node
		d.mapping(v, ctx,
			field{"path", func(v *yaml.Node) { pathNode = v; p.Path = d.str(v, ctx+": path") }},
			field{"args", func(v *yaml.Node) { p.Args = d.strList(v, ctx+": args") }},
			field{"sha256", func(v *yaml.Node) {
				p.SHA256 = d.str(v, ctx+": sha256")
				if !sha256Hex.MatchString(p.SHA256) {
					d.addf(v, "%s: sha256: want 64 lower-case hex digits (sha256sum's output)", ctx)
				}
			}},
			field{"config", func(v *yaml.Node) { p.Config = d.json(v, ctx+": config") }},
			field{"env", func(v *yaml.Node) { p.Env = d.strMap(v, ctx+": env"); d.envNames(v, ctx+": env") }},
			field{"nice", func(v *yaml.Node) {
				n, err := strconv.Atoi(v.Value)
				if v.Kind != yaml.ScalarNode || err != nil || n < 0 || n > 19 {
					d.addf(v, "%s: nice: want a whole number from 0 (the server's priority) to 19 (the lowest)", ctx)
					return
				}
				p.Nice = n
			}},
		)
		if pathNode == nil {
			d.addf(v, "%s: path is required (the plugin's executable)", ctx)
		} else if p.Path != "" && !filepath.IsAbs(p.Path) {
			p.Path = filepath.Join(dir, p.Path)
		}
		out[k.Value] = p
	}
}

// exec reads the `with:` of a `to: exec` route. Paths in it are relative
// to dir, the hooks file's directory, as a plugin's path is: a relative
// dir:, and a relative program path (./scripts/deploy.sh) when there is
// no dir: (with one, the program is found from it, as exec does).
func (d *decoder) exec(n *yaml.Node, dir, ctx string) *Exec {
	x := &Exec{Stdin: StdinNone, Timeout: DefaultExecTimeout, Concurrency: 1}
	ctx += ": with"
	var cmdNode *yaml.Node
	d.mapping(n, ctx,
		field{"command", func(v *yaml.Node) {
			cmdNode = v
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				d.addf(v, "%s: command: want a list: the program, then its arguments (no shell)", ctx)
				return
			}
			for _, c := range v.Content {
				x.Command = append(x.Command, d.template(c, ctx+": command"))
			}
		}},
		field{"env", func(v *yaml.Node) {
			if v.Kind != yaml.MappingNode {
				d.addf(v, "%s: env: want a mapping of names to values", ctx)
				return
			}
			x.Env = map[string]Template{}
			d.envNames(v, ctx+": env")
			for i := 0; i+1 < len(v.Content); i += 2 {
				x.Env[v.Content[i].Value] = d.template(v.Content[i+1], ctx+": env: "+v.Content[i].Value)
			}
		}},
		field{"dir", func(v *yaml.Node) { x.Dir = d.str(v, ctx+": dir") }},
		field{"stdin", func(v *yaml.Node) {
			x.Stdin = d.str(v, ctx+": stdin")
			if x.Stdin != StdinPayload && x.Stdin != StdinNone {
				d.addf(v, "%s: stdin: want %q or %q", ctx, StdinPayload, StdinNone)
			}
		}},
		field{"timeout", func(v *yaml.Node) {
			x.Timeout = d.positiveDuration(v, ctx+": timeout")
		}},
		field{"concurrency", func(v *yaml.Node) { x.Concurrency = d.count(v, ctx+": concurrency", 1) }},
		field{"retries", func(v *yaml.Node) { x.Retries = d.count(v, ctx+": retries", 0) }},
	)
	if cmdNode == nil {
		d.addf(n, "%s: command is required", ctx)
	}
	if x.Dir != "" && !filepath.IsAbs(x.Dir) {
		x.Dir = filepath.Join(dir, x.Dir)
	}
	if len(x.Command) > 0 && x.Dir == "" {
		if prog := x.Command[0]; prog.Static() && strings.Contains(prog.Text(), "/") && !filepath.IsAbs(prog.Text()) {
			x.Command[0] = Template{Src: filepath.Join(dir, prog.Src), parts: []templatePart{{text: filepath.Join(dir, prog.Text())}}}
		}
	}
	return x
}

// count reads a whole number of at least least.
func (d *decoder) count(n *yaml.Node, ctx string, least int) int {
	v, err := strconv.Atoi(d.str(n, ctx))
	if err != nil || v < least || v > 1000 {
		d.addf(n, "%s: want a whole number from %d to 1000", ctx, least)
	}
	return v
}

func (d *decoder) strMap(n *yaml.Node, ctx string) map[string]string {
	if n.Kind != yaml.MappingNode {
		d.addf(n, "%s: want a mapping of names to values, got %s", ctx, kindName(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = d.str(n.Content[i+1], ctx+": "+n.Content[i].Value)
	}
	return out
}

// json converts a YAML value to JSON, expanding ${VAR} in strings.
func (d *decoder) json(n *yaml.Node, ctx string) json.RawMessage {
	b, err := json.Marshal(d.value(n, ctx))
	if err != nil {
		d.addf(n, "%s: %v", ctx, err)
	}
	return b
}

func (d *decoder) value(n *yaml.Node, ctx string) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = d.value(n.Content[i+1], ctx+": "+n.Content[i].Value)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, d.value(c, ctx))
		}
		return l
	case yaml.AliasNode:
		return d.value(n.Alias, ctx)
	}
	switch n.ShortTag() {
	case "!!int", "!!float", "!!bool", "!!null":
		var v any
		if err := n.Decode(&v); err == nil {
			return v
		}
	}
	return d.str(n, ctx)
}

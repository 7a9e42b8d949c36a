// Package dispatch loads the hooks file (sources, routes and server
// settings), compiles every route's expr rule once at load, and matches
// normalised events to their targets.
package dispatch

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/hookrelay/hookrelay/providers"
)

// Config is a loaded, compiled hooks file. It is immutable once built, so
// a reload builds a new one and swaps it whole.
type Config struct {
	// File is the path it was loaded from.
	File    string
	Server  ServerConfig
	Sources map[string]*Source
	// Plugins by name, from `plugins:`.
	Plugins map[string]*Plugin
	// Routes in file order: every matching route gets the event.
	Routes []*Route

	vms sync.Pool // *vm.VM: one per goroutine at a time
	// sum is the SHA-256 of the bytes this Config was built from.
	sum [32]byte
}

// ServerConfig holds the server settings of a hooks file; command-line
// flags override them.
type ServerConfig struct {
	Listen      string
	DataDir     string
	SyncTimeout time.Duration
}

// Source is an endpoint /hooks/{name} with its provider and secrets.
type Source struct {
	Name         string
	ProviderName string
	Provider     providers.Provider
	// AllowIPs, when not empty, are the only client addresses accepted.
	AllowIPs []netip.Prefix
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
}

// Route is one rule of the hooks file.
type Route struct {
	Name string
	// Source limits the route to one source; empty means any.
	Source string
	// WhenSrc is the rule as written, its ${VAR}s unexpanded.
	WhenSrc string
	When    *vm.Program
	// when is the rule as compiled, for messages about it.
	when expanded
	To   Target
	// Respond is "passthrough" when the sender gets the local app's
	// response instead of 202.
	Respond string
	// Exec is what a `to: exec` route runs.
	Exec *Exec
	// With is the `with:` of a plugin route, as JSON, given to the plugin
	// with every event.
	With json.RawMessage
	// Tasks are a plugin route's own delivery settings (an exec route's
	// are in Exec); nil keeps the server's.
	Tasks *TaskLimits
	// Line is where the route starts in the file.
	Line int
}

// TaskLimits are a plugin route's `retries`, `concurrency` and `timeout`.
type TaskLimits struct {
	// Retries is how many times a failed task is tried again; -1, unset,
	// keeps the server's --retry-attempts.
	Retries int
	// Concurrency is tasks at once; 0, unset, is 1: in order.
	Concurrency int
	// Timeout bounds one attempt; 0, unset, keeps --attempt-timeout.
	Timeout time.Duration
}

// Queue is the delivery target of the route's events: its tunnel, exec
// route, or, for a plugin route, plugin:NAME/ROUTE, so that each route of
// a plugin has a queue of its own.
func (r *Route) Queue() string {
	if r.To.Kind == TargetPlugin {
		return r.To.String() + "/" + r.Name
	}
	return r.To.String()
}

// TargetKind says where a route sends events.
type TargetKind string

// Target kinds.
const (
	TargetTunnel TargetKind = "tunnel"
	TargetPlugin TargetKind = "plugin"
	// TargetExec runs a command, through the built-in script runner; its
	// name is the route's.
	TargetExec TargetKind = "exec"
)

// Target is where a route sends events: tunnel:NAME, plugin:NAME or exec.
type Target struct {
	Kind TargetKind
	Name string
}

// String names the target: tunnel:NAME, plugin:NAME, or exec:ROUTE.
func (t Target) String() string { return string(t.Kind) + ":" + t.Name }

// RespondPassthrough makes a route answer with the local app's response.
const RespondPassthrough = "passthrough"

// LoadOptions tune loading.
type LoadOptions struct {
	// Providers are the provider factories by name (builtin.Providers()).
	Providers map[string]providers.Factory
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Plugins accepts plugin and exec targets; a server that cannot run
	// them leaves it false, and such routes are refused at load.
	Plugins bool
}

// Load reads and compiles a hooks file. On error it returns Problems: every
// problem found, each with its file:line:col.
func Load(path string, opts LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading hooks file: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse compiles a hooks file's contents; path names it in errors and
// anchors relative paths (secret_file, a plugin's path, an exec route's
// dir and program), which come out absolute.
func Parse(path string, data []byte, opts LoadOptions) (*Config, error) {
	d := &decoder{file: path, lookup: opts.LookupEnv, allowPlugins: opts.Plugins}
	// Absolute, so that a path joined to it keeps a slash: "hooks.yaml"
	// and "./deploy.sh" would make "deploy.sh", a name looked up in PATH.
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		dir = filepath.Dir(path)
	}
	cfg := &Config{File: path, Sources: map[string]*Source{}, Plugins: map[string]*Plugin{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Problems{syntaxProblem(path, data, err)}
	}
	if len(doc.Content) == 0 {
		return nil, Problems{{File: path, Msg: "the file is empty"}}
	}
	var routes *yaml.Node
	d.mapping(doc.Content[0], "hooks file",
		field{"server", func(v *yaml.Node) { d.server(v, &cfg.Server) }},
		field{"sources", func(v *yaml.Node) { d.sources(v, dir, opts.Providers, cfg.Sources) }},
		field{"plugins", func(v *yaml.Node) { d.plugins(v, dir, cfg.Plugins) }},
		field{"routes", func(v *yaml.Node) { routes = v }},
	)
	if routes != nil { // after sources and plugins, so routes can refer to them
		cfg.Routes = d.routes(routes, dir, cfg.Sources, cfg.Plugins)
	}
	if len(d.problems) > 0 {
		sort.SliceStable(d.problems, func(i, j int) bool {
			a, b := d.problems[i], d.problems[j]
			return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
		})
		return nil, d.problems
	}
	cfg.vms.New = func() any { return new(vm.VM) }
	cfg.sum = sha256.Sum256(data)
	return cfg, nil
}

func (d *decoder) server(n *yaml.Node, s *ServerConfig) {
	d.mapping(n, "server",
		field{"listen", func(v *yaml.Node) { s.Listen = d.str(v, "server: listen") }},
		field{"data_dir", func(v *yaml.Node) { s.DataDir = d.str(v, "server: data_dir") }},
		field{"sync_timeout", func(v *yaml.Node) { s.SyncTimeout = d.duration(v, "server: sync_timeout") }},
	)
}

func (d *decoder) sources(n *yaml.Node, dir string, factories map[string]providers.Factory, out map[string]*Source) {
	if n.Kind != yaml.MappingNode {
		d.addf(n, "sources: want a mapping of source names, got %s", kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		ctx := fmt.Sprintf("source %q", name)
		if !validName(name) {
			d.addf(k, "%s: a source name is 1 to 64 of a-z 0-9 - _ (it is the URL /hooks/{name})", ctx)
		}
		if _, dup := out[name]; dup {
			d.addf(k, "%s: defined twice", ctx)
			continue
		}
		src := &Source{Name: name}
		var o providers.Options
		var provNode *yaml.Node
		var secretNodes []*yaml.Node
		// secretSaid is true once a secret's own problem (an unset ${VAR})
		// is reported: the provider's "secret is empty" would repeat it.
		secretSaid := false
		secret := func(v *yaml.Node, read func() []string) {
			secretNodes = append(secretNodes, v)
			before := len(d.problems)
			for _, s := range read() {
				o.Secrets = append(o.Secrets, providers.Secret(s))
			}
			secretSaid = secretSaid || len(d.problems) > before
		}
		d.mapping(v, ctx,
			field{"provider", func(v *yaml.Node) { provNode = v; src.ProviderName = d.str(v, ctx+": provider") }},
			field{"secret", func(v *yaml.Node) { secret(v, func() []string { return []string{d.str(v, ctx+": secret")} }) }},
			field{"secrets", func(v *yaml.Node) { secret(v, func() []string { return d.strList(v, ctx+": secrets") }) }},
			field{"token", func(v *yaml.Node) { secret(v, func() []string { return []string{d.str(v, ctx+": token")} }) }},
			field{"secret_file", func(v *yaml.Node) {
				secretNodes = append(secretNodes, v)
				p := d.str(v, ctx+": secret_file")
				if !filepath.IsAbs(p) {
					p = filepath.Join(dir, p)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					d.addf(v, "%s: secret_file: %v", ctx, err)
					return
				}
				o.Secrets = append(o.Secrets, providers.Secret(strings.TrimRight(string(b), "\r\n")))
			}},
			field{"allow_ips", func(v *yaml.Node) { src.AllowIPs = d.prefixes(v, ctx+": allow_ips") }},
			field{"trusted_proxies", func(v *yaml.Node) { src.TrustedProxies = d.prefixes(v, ctx+": trusted_proxies") }},
			field{"allow_sha1", func(v *yaml.Node) { o.AllowSHA1 = d.boolean(v, ctx+": allow_sha1") }},
			field{"tolerance", func(v *yaml.Node) { o.Tolerance = d.duration(v, ctx+": tolerance") }},
			field{"header", func(v *yaml.Node) { o.Header = d.str(v, ctx+": header") }},
			field{"algorithm", func(v *yaml.Node) { o.Algorithm = d.str(v, ctx+": algorithm") }},
			field{"encoding", func(v *yaml.Node) { o.Encoding = d.str(v, ctx+": encoding") }},
			field{"prefix", func(v *yaml.Node) { o.Prefix = d.str(v, ctx+": prefix") }},
		)
		out[name] = src
		if provNode == nil {
			d.addf(v, "%s: provider is required (one of %s)", ctx, strings.Join(providerNames(factories), ", "))
			continue
		}
		factory, ok := factories[src.ProviderName]
		if !ok {
			d.addf(provNode, "%s: unknown provider %q (known: %s)", ctx, src.ProviderName, strings.Join(providerNames(factories), ", "))
			continue
		}
		if secretSaid {
			continue
		}
		p, err := factory(o)
		if err != nil {
			at := provNode
			if len(secretNodes) > 0 {
				at = secretNodes[0]
			}
			d.addf(at, "%s: %v", ctx, err)
			continue
		}
		src.Provider = p
	}
}

func (d *decoder) prefixes(n *yaml.Node, ctx string) []netip.Prefix {
	var out []netip.Prefix
	for i, s := range d.strList(n, ctx) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				d.addf(n.Content[i], "%s: %q is neither an IP address nor a CIDR prefix", ctx, s)
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

func (d *decoder) routes(n *yaml.Node, dir string, sources map[string]*Source, plugins map[string]*Plugin) []*Route {
	if n.Kind != yaml.SequenceNode {
		d.addf(n, "routes: want a list of routes, got %s", kindName(n))
		return nil
	}
	var out []*Route
	names := map[string]bool{}
	for i, rn := range n.Content {
		r := &Route{Line: rn.Line}
		ctx := fmt.Sprintf("route %d", i+1)
		if rn.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(rn.Content); j += 2 {
				if rn.Content[j].Value == "name" {
					r.Name = rn.Content[j+1].Value
					ctx = fmt.Sprintf("route %q", r.Name)
				}
			}
		}
		var whenNode, toNode, withNode *yaml.Node
		var taskNodes []*yaml.Node // retries, concurrency, timeout: plugin routes only
		tasks := &TaskLimits{Retries: -1}
		d.mapping(rn, ctx,
			field{"retries", func(v *yaml.Node) { taskNodes = append(taskNodes, v); tasks.Retries = d.count(v, ctx+": retries", 0) }},
			field{"concurrency", func(v *yaml.Node) {
				taskNodes = append(taskNodes, v)
				tasks.Concurrency = d.count(v, ctx+": concurrency", 1)
			}},
			field{"timeout", func(v *yaml.Node) {
				taskNodes = append(taskNodes, v)
				tasks.Timeout = d.positiveDuration(v, ctx+": timeout")
			}},
			field{"name", func(v *yaml.Node) {
				if len(r.Name) > 64 || strings.ContainsFunc(r.Name, unicode.IsControl) {
					d.addf(v, "%s: a route name is at most 64 printable characters", ctx)
				}
				if names[r.Name] {
					d.addf(v, "%s: the name is used by an earlier route", ctx)
				}
				names[r.Name] = true
			}},
			field{"source", func(v *yaml.Node) {
				r.Source = d.str(v, ctx+": source")
				if _, ok := sources[r.Source]; !ok {
					d.addf(v, "%s: unknown source %q", ctx, r.Source)
				}
			}},
			field{"when", func(v *yaml.Node) { whenNode = v; r.when = d.expandedStr(v, ctx+": when"); r.WhenSrc = r.when.written }},
			field{"to", func(v *yaml.Node) { toNode = v; r.To = d.target(v, ctx) }},
			field{"with", func(v *yaml.Node) { withNode = v }},
			field{"respond", func(v *yaml.Node) {
				r.Respond = d.str(v, ctx+": respond")
				if r.Respond != RespondPassthrough {
					d.addf(v, "%s: respond: want %q", ctx, RespondPassthrough)
				}
			}},
		)
		if r.Name == "" {
			d.addf(rn, "%s: name is required", ctx)
		}
		if toNode == nil {
			d.addf(rn, "%s: to is required (tunnel:CHANNEL)", ctx)
		}
		switch r.To.Kind {
		case TargetExec:
			r.To.Name = r.Name
			if withNode == nil {
				d.addf(rn, "%s: to: exec needs with: command: [...]", ctx)
			} else {
				r.Exec = d.exec(withNode, dir, ctx)
			}
		case TargetPlugin:
			if plugins[r.To.Name] == nil {
				d.addf(toNode, "%s: to: no plugin %q under plugins:", ctx, r.To.Name)
			}
			if withNode != nil {
				r.With = d.json(withNode, ctx+": with")
			}
			if len(taskNodes) > 0 {
				r.Tasks = tasks
			}
		default:
			if withNode != nil {
				d.addf(withNode, "%s: with: is for exec and plugin targets", ctx)
			}
		}
		if r.To.Kind != TargetPlugin {
			for _, v := range taskNodes {
				where := "an exec route sets it in with:"
				if r.To.Kind != TargetExec {
					where = "a tunnel's deliveries follow the server's --retry-* and --attempt-timeout"
				}
				d.addf(v, "%s: retries, concurrency and timeout are for a plugin route here; %s", ctx, where)
			}
		}
		if r.Respond == RespondPassthrough && r.To.Kind != TargetTunnel {
			d.addf(rn, "%s: respond: passthrough needs a tunnel target", ctx)
		}
		if whenNode == nil {
			d.addf(rn, "%s: when is required (an expr rule; write `when: true` to take every event)", ctx)
		} else if r.when.value != "" || whenNode.Value == "" {
			r.When = d.compileWhen(whenNode, r.when, ctx)
		}
		out = append(out, r)
	}
	return out
}

func (d *decoder) target(n *yaml.Node, ctx string) Target {
	s := d.str(n, ctx+": to")
	kind, name, ok := strings.Cut(s, ":")
	if (s == string(TargetExec) || kind == string(TargetPlugin)) && !d.allowPlugins {
		d.addf(n, "%s: to: exec and plugin targets are not available in this version yet", ctx)
		return Target{}
	}
	switch {
	case s == string(TargetExec):
		return Target{Kind: TargetExec}
	case !ok || name == "":
		d.addf(n, "%s: to: want tunnel:CHANNEL, plugin:NAME or exec, got %q", ctx, s)
	case kind == string(TargetTunnel):
		if !validName(name) {
			d.addf(n, "%s: to: %q is not a valid channel name", ctx, name)
		}
		return Target{Kind: TargetTunnel, Name: name}
	case kind == string(TargetPlugin):
		return Target{Kind: TargetPlugin, Name: name}
	default:
		d.addf(n, "%s: to: unknown target kind %q (want tunnel:CHANNEL, plugin:NAME or exec)", ctx, kind)
	}
	return Target{}
}

// validName accepts source and channel names: 1 to 64 of a-z 0-9 . _ -,
// starting with a letter or digit.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '-' && c != '_' && c != '.')) {
			return false
		}
	}
	return true
}

func providerNames(f map[string]providers.Factory) []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/plugins/host"
	"github.com/hookrelay/hookrelay/plugins/targets"
	"github.com/hookrelay/hookrelay/providers/builtin"
)

// runValidate is "hookrelay validate hooks.yaml": exit 0, or 1 with every
// problem at file:line:col.
func runValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: hookrelay validate HOOKS.yaml") }
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := dispatch.Load(fs.Arg(0), dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	// What the server checks when it starts a plugin, short of starting
	// it: the file, and its pinned checksum.
	failed := false
	for _, name := range slices.Sorted(maps.Keys(cfg.Plugins)) {
		decl := cfg.Plugins[name]
		if err := host.Check(hostConfig(decl)); err != nil {
			fmt.Fprintf(stderr, "%s:%d: %v\n", cfg.File, decl.Line, err) // err names the plugin
			failed = true
		}
	}
	// What the script runner needs to start each exec route's program,
	// short of running it. The server only warns: a script may be
	// installed after it starts.
	for _, err := range targets.CheckExec(cfg) {
		fmt.Fprintln(stderr, err)
		failed = true
	}
	if failed {
		return exitError
	}
	fmt.Fprintf(stdout, "%s: ok, %d sources, %d routes\n", fs.Arg(0), len(cfg.Sources), len(cfg.Routes))
	return exitOK
}

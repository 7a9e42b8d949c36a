package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/hookrelay/hookrelay/dispatch"
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
	fmt.Fprintf(stdout, "%s: ok, %d sources, %d routes\n", fs.Arg(0), len(cfg.Sources), len(cfg.Routes))
	return exitOK
}

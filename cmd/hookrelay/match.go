package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/builtin"
	"github.com/hookrelay/hookrelay/providers/httpfile"
)

// runMatch is "hookrelay match": verify a captured delivery with its
// source's secret, print the normalised event and the routes it matches.
func runMatch(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	config := fs.String("config", envOr("HOOKRELAY_CONFIG", "hooks.yaml"), "hooks file (env HOOKRELAY_CONFIG)")
	source := fs.String("source", "", "the source the delivery was sent to (required)")
	at := fs.String("at", "", "verify as if received at this time (Unix seconds or RFC 3339), for captured deliveries with signed timestamps")
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hookrelay match --config hooks.yaml --source NAME DELIVERY.http")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 || *source == "" {
		fs.Usage()
		return exitUsage
	}
	now := time.Now()
	if *at != "" {
		t, err := parseTime(*at)
		if err != nil {
			fmt.Fprintln(stderr, "hookrelay match: --at:", err)
			return exitUsage
		}
		now = t
	}
	cfg, err := dispatch.Load(*config, dispatch.LoadOptions{Providers: builtin.Providers(), Plugins: true})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	src := cfg.Sources[*source]
	if src == nil {
		fmt.Fprintf(stderr, "hookrelay match: %s has no source %q\n", *config, *source)
		return exitError
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay match:", err)
		return exitError
	}
	delivery, err := httpfile.Parse(raw)
	if err != nil {
		fmt.Fprintf(stderr, "hookrelay match: %s: %v\n", fs.Arg(0), err)
		return exitError
	}
	req := &providers.Request{Header: delivery.Header, Body: delivery.Body, Now: now}
	if err := src.Provider.Verify(req); err != nil {
		fmt.Fprintf(stderr, "hookrelay match: not verified: %v\n", err)
		if errors.Is(err, providers.ErrStale) {
			fmt.Fprintln(stderr, "hookrelay match: a capture is verified as of now; --at TIME (RFC 3339, or Unix seconds) verifies it as of when it was sent")
		}
		return exitError
	}
	ev, err := src.Provider.Normalize(req)
	if err != nil {
		fmt.Fprintf(stderr, "hookrelay match: %v\n", err)
		return exitError
	}
	ev.Source, ev.ReceivedAt = *source, now
	ev.Provider = src.ProviderName // as configured: "forgejo" stays forgejo
	out, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay match:", err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s\n", out)
	routes, errs := cfg.Match(ev)
	for _, err := range errs {
		fmt.Fprintf(stdout, "rule error (route skipped): %v\n", err)
	}
	if len(routes) == 0 {
		fmt.Fprintln(stdout, "routes: none (the event would be answered 2xx and logged as unrouted)")
		return exitOK
	}
	lines := make([]string, len(routes))
	for i, r := range routes {
		lines[i] = fmt.Sprintf("  %s -> %s (%s:%d)", r.Name, r.To, cfg.File, r.Line)
	}
	fmt.Fprintf(stdout, "routes:\n%s\n", strings.Join(lines, "\n"))
	return exitOK
}

func parseTime(s string) (time.Time, error) {
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0), nil
	}
	return time.Parse(time.RFC3339, s)
}

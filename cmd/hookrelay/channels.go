package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hookrelay/hookrelay/server"
	"github.com/hookrelay/hookrelay/store"
)

const channelsUsage = `Usage:
  hookrelay channels list [flags]          the server's channels: connected, queued events (admin token)
  hookrelay channels release NAME [flags]  forget a channel's owner: its client stops, the next claim owns the name
`

// runChannels is "hookrelay channels": the server's tunnel channels.
func runChannels(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, channelsUsage)
		return exitUsage
	}
	switch args[0] {
	case "list":
		return runChannelsList(ctx, args[1:], stdout, stderr)
	case "release":
		return runChannelsRelease(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, channelsUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "hookrelay channels: unknown command %q\n\n%s", args[0], channelsUsage)
		return exitUsage
	}
}

func runChannelsList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("channels list", flag.ContinueOnError)
	usageFor(fs, "hookrelay channels list [flags]")
	var cf connFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	if _, code, ok := parseArgs(fs, args, 0, "no arguments", stderr); !ok {
		return code
	}
	c, code, ok := cf.connect("channels list", stderr)
	if !ok {
		return code
	}
	var raw json.RawMessage
	if err := c.do(ctx, "GET", "/channels", nil, nil, &raw); err != nil {
		return fail(stderr, "channels list", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, raw)
	}
	var l server.ChannelList
	if err := json.Unmarshal(raw, &l); err != nil {
		return fail(stderr, "channels list", fmt.Errorf("decoding the answer: %w", err))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tMODE\tCONNECTED\tQUEUED\tBYTES\tCREATED")
	for _, ch := range l.Channels {
		mode, created := ch.Mode, ch.CreatedAt.Local().Format(time.DateTime)
		if ch.Unclaimed {
			mode, created = "-", "unclaimed: the next client to claim it gets its events"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", ch.Name, mode, yesNo(ch.Connected), ch.Queued.Events, ch.Queued.Bytes, created)
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, "channels list", err)
	}
	return exitOK
}

// runChannelsRelease is "hookrelay channels release NAME": the server
// forgets the channel and its owner's token, tells its client to stop, and
// the next client to claim the name owns it and gets its queued events.
func runChannelsRelease(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("channels release", flag.ContinueOnError)
	usageFor(fs, "hookrelay channels release NAME [flags]")
	var cf connFlags
	cf.register(fs)
	pos, code, ok := parseArgs(fs, args, 1, "one channel name", stderr)
	if !ok {
		return code
	}
	name := pos[0]
	if !store.ValidName(name) {
		fmt.Fprintf(stderr, "hookrelay channels release: %q is not a channel name\n", name)
		return exitUsage
	}
	if cf.channel == "" {
		cf.channel = name // its own token, when no admin token is given
	}
	c, code, ok := cf.connect("channels release", stderr)
	if !ok {
		return code
	}
	var r server.ChannelReleased
	if err := c.do(ctx, "DELETE", "/channels/"+name, nil, nil, &r); err != nil {
		return fail(stderr, "channels release", err)
	}
	what := "no client was connected"
	if r.Disconnected {
		what = "its client was told to stop"
	}
	fmt.Fprintf(stdout, "released channel %s: %s; %d queued event(s) wait for the next client to claim it\n", r.Name, what, r.Queued.Events)
	return exitOK
}

// yesNo is a bool for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/server"
	"github.com/hookrelay/hookrelay/store"
)

const eventsUsage = `Usage:
  hookrelay events list [flags]      stored events, newest first
  hookrelay events show ID [flags]   one event: its request, body, deliveries and attempts
  hookrelay events cancel DELIVERY_ID [flags]
                                     stop retrying one delivery, so that its queue goes on

Run "hookrelay events COMMAND -h" for the flags.
`

// runEvents is "hookrelay events": inspection of a server's stored events.
func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, eventsUsage)
		return exitUsage
	}
	switch args[0] {
	case "list":
		return runEventsList(ctx, args[1:], stdout, stderr)
	case "show":
		return runEventsShow(ctx, args[1:], stdout, stderr)
	case "cancel":
		return runEventsCancel(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, eventsUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "hookrelay events: unknown command %q\n\n%s", args[0], eventsUsage)
		return exitUsage
	}
}

// usageFor sets the synopsis printed above a command's flags.
func usageFor(fs *flag.FlagSet, synopsis string) {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
}

func runEventsList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events list", flag.ContinueOnError)
	usageFor(fs, "hookrelay events list [flags]")
	var cf connFlags
	cf.register(fs)
	source := fs.String("source", "", "only events from this /hooks source")
	typ := fs.String("type", "", "only events of this provider event type (push, pull_request, ...)")
	key := fs.String("key", "", "only events with this vendor id: Stripe's evt_..., X-GitHub-Delivery, Slack's event_id, webhook-id, ...")
	status := fs.String("status", "", "only events with this status: pending, delivered, dead, duplicate or unrouted")
	limit := fs.Int("limit", server.DefaultListLimit, "at most this many events (up to "+strconv.Itoa(server.MaxListLimit)+")")
	before := fs.String("before", "", "only events older than this event id: the next page of a listing")
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	if _, code, ok := parseArgs(fs, args, 0, "no arguments", stderr); !ok {
		return code
	}
	if *limit < 1 || *limit > server.MaxListLimit {
		fmt.Fprintf(stderr, "hookrelay events list: --limit must be from 1 to %d\n", server.MaxListLimit)
		return exitUsage
	}
	c, code, ok := cf.connect("events list", stderr)
	if !ok {
		return code
	}
	q := url.Values{}
	for k, v := range map[string]string{"source": *source, "type": *typ, "key": *key, "status": *status, "before": *before} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if cf.adminToken != "" && cf.channel != "" {
		q.Set("channel", cf.channel) // a channel's token lists its own channel anyway
	}
	q.Set("limit", strconv.Itoa(*limit))
	var raw json.RawMessage
	if err := c.do(ctx, "GET", "/events", q, nil, &raw); err != nil {
		return fail(stderr, "events list", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, raw)
	}
	var l server.EventList
	if err := json.Unmarshal(raw, &l); err != nil {
		return fail(stderr, "events list", fmt.Errorf("decoding the answer: %w", err))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED\tEVENT\tFROM\tTYPE\tSTATUS\tTARGETS")
	for _, e := range l.Events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ReceivedAt.Local().Format(time.DateTime), e.ID, from(&e.Event),
			orDash(e.Type), statusOf(e), orDash(strings.Join(e.Targets, ",")))
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, "events list", err)
	}
	if l.Next != "" {
		fmt.Fprintf(stderr, "more events: add --before %s\n", l.Next)
	}
	return exitOK
}

// from says where an event came in: hooks/SOURCE or webhook/CHANNEL.
func from(e *store.Event) string {
	if e.Source != "" {
		return "hooks/" + e.Source
	}
	return "webhook/" + e.Channel
}

// statusOf is a listed event's status, marking edited copies.
func statusOf(e store.EventSummary) string {
	if e.EditedFrom != "" {
		return e.Status + " (edited)"
	}
	return e.Status
}

// requestPath is the path (and query) an event was sent to, as its
// sender sent it.
func requestPath(ev *store.Event) string {
	switch {
	case ev.Source != "":
		return "/hooks/" + ev.Source + ev.Target
	case ev.Channel != "":
		return "/webhook/" + ev.Channel + ev.Target
	}
	return orDash(ev.Target)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runEventsShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events show", flag.ContinueOnError)
	usageFor(fs, "hookrelay events show EVENT_ID [flags]")
	var cf connFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the server's JSON answer (the body in base64)")
	pos, code, ok := parseArgs(fs, args, 1, "one event id", stderr)
	if !ok {
		return code
	}
	c, code, ok := cf.connect("events show", stderr)
	if !ok {
		return code
	}
	var raw json.RawMessage
	if err := c.do(ctx, "GET", "/events/"+url.PathEscape(pos[0]), nil, nil, &raw); err != nil {
		return fail(stderr, "events show", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, raw)
	}
	var d server.EventDetail
	if err := json.Unmarshal(raw, &d); err != nil || d.Event == nil {
		return fail(stderr, "events show", fmt.Errorf("decoding the answer: %v", err))
	}
	printEvent(stdout, &d)
	return exitOK
}

// printEvent writes an event for people: its request as it is forwarded,
// then each delivery with its attempts.
func printEvent(w io.Writer, d *server.EventDetail) {
	ev := d.Event
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "event\t%s\n", ev.ID)
	fmt.Fprintf(tw, "received\t%s\n", ev.ReceivedAt.Local().Format(time.RFC3339Nano))
	fmt.Fprintf(tw, "from\t%s\n", from(ev))
	if ev.Type != "" {
		fmt.Fprintf(tw, "type\t%s\n", ev.Type)
	}
	if ev.EditedFrom != "" {
		fmt.Fprintf(tw, "edited from\t%s\n", ev.EditedFrom)
	}
	if ev.DuplicateOf != "" {
		fmt.Fprintf(tw, "duplicate of\t%s\n", ev.DuplicateOf)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n%s %s\n", ev.Method, requestPath(ev))
	if ev.Host != "" {
		fmt.Fprintf(w, "Host: %s\n", ev.Host)
	}
	names := make([]string, 0, len(ev.Header))
	for k := range ev.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range ev.Header[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintln(w)
	switch {
	case len(ev.Body) == 0:
		fmt.Fprintln(w, "(no body)")
	case utf8.Valid(ev.Body):
		fmt.Fprintf(w, "%s", ev.Body)
		if ev.Body[len(ev.Body)-1] != '\n' {
			fmt.Fprintln(w)
		}
	default:
		fmt.Fprintf(w, "(%d bytes of binary body: --json shows it in base64)\n", len(ev.Body))
	}
	fmt.Fprintf(w, "\ndeliveries (%d)\n", len(d.Deliveries))
	for _, dd := range d.Deliveries {
		line := "  " + dd.ID + "  " + dd.Target
		if dd.Route != "" {
			line += " (route " + dd.Route + ")"
		}
		line += "  " + dd.Status + "  " + plural(len(dd.Attempts), "attempt")
		if dd.Status == store.Pending && !dd.NextAt.IsZero() {
			line += ", next at " + dd.NextAt.Local().Format(time.DateTime)
		}
		fmt.Fprintln(w, line)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, a := range dd.Attempts {
			result := a.Outcome
			if a.Status != 0 {
				result += " " + strconv.Itoa(a.Status)
			}
			if a.Error != "" {
				result += ": " + a.Error
			}
			fmt.Fprintf(tw, "    #%d\t%s\t%s\t%s\n", a.N, a.At.Local().Format(time.DateTime), a.Duration.Round(time.Millisecond), result)
		}
		_ = tw.Flush()
	}
}

// plural is "1 attempt", "2 attempts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// printJSON writes a JSON answer indented.
func printJSON(stdout, stderr io.Writer, raw json.RawMessage) int {
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay: the server's answer is not JSON:", err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return exitOK
}

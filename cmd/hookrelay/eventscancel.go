package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"

	"github.com/hookrelay/hookrelay/server"
)

// runEventsCancel is "hookrelay events cancel DELIVERY_ID": one delivery
// of an event stops being retried (a queued one dies at once, one being
// attempted is stopped), so that the queue behind it goes on. The
// delivery ids are those `events show` lists.
func runEventsCancel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events cancel", flag.ContinueOnError)
	usageFor(fs, "hookrelay events cancel DELIVERY_ID [flags]")
	var cf connFlags
	cf.register(fs)
	pos, code, ok := parseArgs(fs, args, 1, "one delivery id (hookrelay events show lists them)", stderr)
	if !ok {
		return code
	}
	c, code, ok := cf.connect("events cancel", stderr)
	if !ok {
		return code
	}
	var res server.RetryResult
	if err := c.do(ctx, "POST", "/deliveries/"+url.PathEscape(pos[0])+"/cancel", nil, nil, &res); err != nil {
		return fail(stderr, "events cancel", err)
	}
	d := res.Delivery
	if d.Status == "dead" {
		fmt.Fprintf(stdout, "delivery %s of event %s to %s cancelled; its queue goes on (hookrelay replay %s sends the event again)\n", d.ID, d.EventID, d.Target, d.EventID)
	} else {
		fmt.Fprintf(stdout, "delivery %s of event %s to %s is being stopped; its queue goes on once it is\n", d.ID, d.EventID, d.Target)
	}
	return exitOK
}

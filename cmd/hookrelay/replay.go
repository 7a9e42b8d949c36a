package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"

	"github.com/hookrelay/hookrelay/server"
)

// runReplay is "hookrelay replay": deliver a stored event again, or an
// edited copy of it.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	usageFor(fs, "hookrelay replay EVENT_ID [--to tunnel:NAME] [--edit] [flags]\n\n"+
		"Delivers a stored event again, as new deliveries with new delivery ids, to the targets it went to\n"+
		"(or --to). With --edit, $EDITOR (default vi) edits a copy of its body first, and a new event\n"+
		"with that body is delivered, carrying X-Hookrelay-Edited-From: EVENT_ID.")
	var cf connFlags
	cf.register(fs)
	to := fs.String("to", "", "deliver to this target, tunnel:NAME, instead of the event's own")
	edit := fs.Bool("edit", false, "edit the body in $EDITOR and deliver the edited copy")
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	pos, code, ok := parseArgs(fs, args, 1, "one event id", stderr)
	if !ok {
		return code
	}
	if *to != "" && !strings.HasPrefix(*to, "tunnel:") {
		fmt.Fprintf(stderr, "hookrelay replay: --to must be tunnel:NAME, not %q\n", *to)
		return exitUsage
	}
	c, code, ok := cf.connect("replay", stderr)
	if !ok {
		return code
	}
	id := pos[0]
	req := server.ReplayRequest{To: *to}
	if *edit {
		var d server.EventDetail
		if err := c.do(ctx, "GET", "/events/"+url.PathEscape(id), nil, nil, &d); err != nil {
			return fail(stderr, "replay", err)
		}
		if d.Event == nil {
			return fail(stderr, "replay", errors.New("the server's answer holds no event"))
		}
		body, err := editBody(d.Event.Body, d.Event.Header.Get("Content-Type"))
		if err != nil {
			return fail(stderr, "replay", err)
		}
		if bytes.Equal(body, d.Event.Body) {
			fmt.Fprintf(stderr, "hookrelay replay: the body of event %s is unchanged; nothing replayed (replay without --edit to send it as it was)\n", id)
			return exitError
		}
		req.Body = &body
	}
	var raw json.RawMessage
	if err := c.do(ctx, "POST", "/events/"+url.PathEscape(id)+"/replay", nil, req, &raw); err != nil {
		return fail(stderr, "replay", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, raw)
	}
	var res server.ReplayResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return fail(stderr, "replay", fmt.Errorf("decoding the answer: %w", err))
	}
	if res.EditedFrom != "" {
		fmt.Fprintf(stdout, "event %s (edited from %s)\n", res.EventID, res.EditedFrom)
	} else {
		fmt.Fprintf(stdout, "event %s\n", res.EventID)
	}
	for _, d := range res.Deliveries {
		fmt.Fprintf(stdout, "delivery %s queued\n", d)
	}
	return exitOK
}

// editBody lets the user edit body in $EDITOR and returns the result. The
// editor runs on a private temporary file (0600), without a shell, on the
// terminal. A final newline the editor adds to a body that had none is
// dropped, so saving unchanged is unchanged.
func editBody(body []byte, contentType string) ([]byte, error) {
	editor := strings.Fields(envOr("EDITOR", ""))
	if len(editor) == 0 {
		editor = []string{"vi"}
	}
	ext := ".txt"
	switch {
	case strings.Contains(contentType, "json"):
		ext = ".json"
	case strings.Contains(contentType, "xml"):
		ext = ".xml"
	}
	f, err := os.CreateTemp("", "hookrelay-event-*"+ext) // mode 0600
	if err != nil {
		return nil, fmt.Errorf("creating the file to edit: %w", err)
	}
	path := f.Name()
	defer os.Remove(path)
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing the file to edit: %w", err)
	}
	// Not tied to ctx: the editor is the user's, and it sees Ctrl-C itself.
	cmd := exec.Command(editor[0], append(editor[1:], path)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("editor %s: %w; nothing replayed", editor[0], err)
	}
	edited, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the edited file: %w", err)
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		edited = bytes.TrimSuffix(edited, []byte("\n"))
	}
	return edited, nil
}

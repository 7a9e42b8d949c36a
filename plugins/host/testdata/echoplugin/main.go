// Command echoplugin is the plugin the host tests run as a real process.
// What it does with a task depends on the task's route:
//
//	echo   (any other route) succeeds with a JSON report of what it received
//	fail   fails with exit code 7
//	panic  panics
//	print  prints a line to stdout, to stderr and with the log package,
//	       each naming the task, then one without its newline, and
//	       succeeds
//	block  creates the file named by the route option "mark", then waits
//	       for the call to be cancelled; meanwhile its output so far is
//	       "waiting on MARK", and its live log "blocking on MARK\n", to
//	       which it adds "stopped\n" when cancelled
//
// With -crash-on-health it exits with status 3 at the first health check;
// with -crash-while FILE, at a health check while FILE exists.
// A plugin config {"fail": true} makes Configure fail.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"

	"github.com/hookrelay/hookrelay/plugins/sdk"
)

type echo struct {
	crashOnHealth bool
	crashWhile    string

	mu         sync.Mutex
	configured json.RawMessage
}

// Report is what the echo route answers.
type Report struct {
	TaskID      string          `json:"task_id"`
	Route       string          `json:"route"`
	Attempt     int             `json:"attempt"`
	Event       json.RawMessage `json:"event,omitempty"` // when small
	EventLen    int             `json:"event_len"`
	EventSHA256 string          `json:"event_sha256"`
	EventType   string          `json:"event_type"`
	BodyLen     int             `json:"body_len"`
	BodySHA256  string          `json:"body_sha256"`
	Header      http.Header     `json:"header"`
	Config      json.RawMessage `json:"config,omitempty"`
	Configured  json.RawMessage `json:"configured,omitempty"`
	PID         int             `json:"pid"`
	Environ     []string        `json:"environ"`
}

func (e *echo) Configure(_ context.Context, config json.RawMessage) error {
	var c struct{ Fail bool }
	if len(config) > 0 {
		if err := json.Unmarshal(config, &c); err != nil {
			return err
		}
	}
	if c.Fail {
		return errors.New("config says fail")
	}
	e.mu.Lock()
	e.configured = config
	e.mu.Unlock()
	return nil
}

func (e *echo) Health(context.Context) error {
	if e.crashOnHealth {
		os.Exit(3)
	}
	if e.crashWhile != "" {
		if _, err := os.Stat(e.crashWhile); err == nil {
			os.Exit(3)
		}
	}
	return nil
}

func (e *echo) Handle(ctx context.Context, t *sdk.Task) (sdk.Result, error) {
	switch t.Route {
	case "fail":
		return sdk.Result{Failed: true, ExitCode: 7, Output: "some output", Error: "failed on purpose"}, nil
	case "panic":
		panic("boom in " + t.TaskID)
	case "print":
		fmt.Println("to stdout from " + t.TaskID)
		fmt.Fprintln(os.Stderr, "to stderr from "+t.TaskID)
		log.Printf("with log from %s", t.TaskID)
		fmt.Print("unterminated from " + t.TaskID)
		return sdk.Result{}, nil
	case "block":
		var opt struct{ Mark string }
		if err := t.DecodeConfig(&opt); err != nil {
			return sdk.Result{}, err
		}
		t.Progress(func() string { return "waiting on " + opt.Mark })
		fmt.Fprintf(t.Log(), "blocking on %s\n", opt.Mark)
		if err := os.WriteFile(opt.Mark, nil, 0o600); err != nil {
			return sdk.Result{}, err
		}
		<-ctx.Done()
		fmt.Fprintln(t.Log(), "stopped")
		return sdk.Result{}, ctx.Err()
	}
	var ev struct{ Type string }
	if len(t.Event) > 0 {
		if err := t.DecodeEvent(&ev); err != nil {
			return sdk.Result{}, err
		}
	}
	e.mu.Lock()
	configured := e.configured
	e.mu.Unlock()
	bodySum, eventSum := sha256.Sum256(t.Body), sha256.Sum256(t.Event)
	r := Report{
		TaskID: t.TaskID, Route: t.Route, Attempt: t.Attempt,
		EventLen: len(t.Event), EventSHA256: hex.EncodeToString(eventSum[:]), EventType: ev.Type,
		BodyLen: len(t.Body), BodySHA256: hex.EncodeToString(bodySum[:]),
		Header: t.Header, Config: t.Config, Configured: configured,
		PID: os.Getpid(), Environ: os.Environ(),
	}
	if len(t.Event) < 4096 {
		r.Event = t.Event
	}
	out, err := json.Marshal(r)
	if err != nil {
		return sdk.Result{}, err
	}
	return sdk.Result{Output: string(out)}, nil
}

func main() {
	e := &echo{}
	flag.BoolVar(&e.crashOnHealth, "crash-on-health", false, "exit with status 3 at the first health check")
	flag.StringVar(&e.crashWhile, "crash-while", "", "exit with status 3 at a health check while this file exists")
	flag.Parse()
	sdk.Serve(e)
}

// Command hooksload is the load generator of the durable-delivery benchmark
// (bench/hooks.sh). Each of -c workers POSTs a signed GitHub push delivery
// to -url, a hookrelay /hooks/{source} endpoint, waits for the answer and
// sends the next one: a closed loop. With -rate the requests are due on a
// fixed schedule instead (open loop, as webhook senders send), -c bounds
// those in flight, and latency counts from when each was due. Every request carries a fresh
// X-GitHub-Delivery UUID, because the server drops a delivery it has seen
// (hook id + delivery id); the body, and so X-Hub-Signature-256, is the same
// for all of them.
//
// After -warmup (not recorded) it measures for -duration, lets the requests
// in flight at the deadline finish, and prints the result: a few lines for
// people, or with -json one line
//
//	{"url":...,"body_bytes":...,"concurrency":...,"requests":...,"accepted":...,
//	 "errors":...,"seconds":...,"accepted_per_s":...,"p50_ms":...,"p90_ms":...,
//	 "p99_ms":...,"max_ms":...}
//
// Only a 202 answer counts as accepted (-status sets another, for servers
// such as adnanh/webhook that answer 200); any other status, or a transport
// error, is an error. The first few distinct statuses (and transport errors)
// are printed on stderr with their counts and the body of the first answer. The latency of a request is the time from sending it to
// having read the whole answer (the ack); the percentiles are nearest-rank
// over the accepted requests. Any error makes the exit code 1, after the
// result is printed.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hookrelay/hookrelay/bench/internal/load"
)

// maxSamples is how many distinct statuses or transport errors a phase
// keeps to print.
const maxSamples = 5

// sampleBody is how much of an error answer's body is kept.
const sampleBody = 200

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hooksload:", err)
		os.Exit(1)
	}
}

// config is the validated command line.
type config struct {
	url         string
	secret      string
	concurrency int
	rate        float64
	duration    time.Duration
	warmup      time.Duration
	timeout     time.Duration
	bodyFile    string
	jsonOut     bool
	status      int
}

// result is what a measured run found; -json prints it as one line.
type result struct {
	URL         string `json:"url"`
	BodyBytes   int    `json:"body_bytes"`
	Concurrency int    `json:"concurrency"`
	// Rate is the requests per second due (0: closed loop).
	Rate float64 `json:"rate,omitempty"`
	// Requests is Accepted + Errors.
	Requests       int64   `json:"requests"`
	Accepted       int64   `json:"accepted"`
	Errors         int64   `json:"errors"`
	Seconds        float64 `json:"seconds"`
	AcceptedPerSec float64 `json:"accepted_per_s"`
	P50ms          float64 `json:"p50_ms"`
	P90ms          float64 `json:"p90_ms"`
	P99ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("hooksload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "", "URL to POST deliveries to, e.g. http://127.0.0.1:8080/hooks/github (required)")
	fs.StringVar(&c.secret, "secret", "", "the source's webhook secret, to sign X-Hub-Signature-256 (required)")
	fs.IntVar(&c.concurrency, "c", 16, "workers, each with one request in flight; also the idle connection pool size")
	fs.Float64Var(&c.rate, "rate", 0, "requests per second due, on a fixed schedule (open loop); 0: closed loop, each worker sends as soon as its answer is in")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time; requests in flight at its end still finish")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "unrecorded load before measuring")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "timeout of one request (GitHub gives up after 10s)")
	fs.StringVar(&c.bodyFile, "body", "", "file holding the JSON payload to send (default: a built-in 7 KB push payload)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the result as one JSON line")
	fs.IntVar(&c.status, "status", http.StatusAccepted, "the HTTP status that counts as accepted")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.url == "":
		return c, errors.New("-url is required")
	case c.secret == "":
		return c, errors.New("-secret is required: the server refuses unsigned deliveries")
	case c.concurrency < 1:
		return c, fmt.Errorf("-c %d: must be at least 1", c.concurrency)
	case c.rate < 0:
		return c, fmt.Errorf("-rate %g: must not be negative", c.rate)
	case c.duration <= 0:
		return c, fmt.Errorf("-duration %s: must be positive", c.duration)
	case c.warmup < 0:
		return c, fmt.Errorf("-warmup %s: must not be negative", c.warmup)
	case c.timeout <= 0:
		return c, fmt.Errorf("-timeout %s: must be positive", c.timeout)
	case c.status < 200 || c.status > 299:
		return c, fmt.Errorf("-status %d: must be a 2xx status", c.status)
	}
	return c, nil
}

// run is the whole command: the result goes to stdout, error samples to
// stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h: the usage is printed
	}
	if err != nil {
		return err
	}
	body := pushPayload()
	if c.bodyFile != "" {
		if body, err = os.ReadFile(c.bodyFile); err != nil {
			return fmt.Errorf("reading -body: %w", err)
		}
	}

	s := &sender{
		client:    load.NewClient(c.concurrency, c.timeout),
		url:       c.url,
		body:      body,
		signature: sign(c.secret, body),
		status:    c.status,
	}
	defer s.client.CloseIdleConnections()

	if c.warmup > 0 {
		var errs errorLog
		w := load.Phase{Workers: c.concurrency, Duration: c.warmup, Rate: c.rate, OnError: errs.add}.Run(ctx, s.send)
		if len(errs.samples) > 0 {
			errs.print(stderr, fmt.Sprintf("warm-up: %d of %d requests failed", w.Errors, w.Errors+int64(len(w.Latencies))))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("warming up: %w", err)
	}

	var errs errorLog
	m := load.Phase{Workers: c.concurrency, Duration: c.duration, Rate: c.rate, OnError: errs.add}.Run(ctx, s.send)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("measuring: %w", err)
	}

	sum := m.Summary()
	res := result{
		URL:            c.url,
		BodyBytes:      len(body),
		Concurrency:    c.concurrency,
		Rate:           c.rate,
		Requests:       sum.Passed + m.Errors,
		Accepted:       sum.Passed,
		Errors:         m.Errors,
		Seconds:        sum.Seconds,
		AcceptedPerSec: sum.PerSec,
		P50ms:          sum.P50ms,
		P90ms:          sum.P90ms,
		P99ms:          sum.P99ms,
		MaxMs:          sum.MaxMs,
	}
	if c.jsonOut {
		if err := load.WriteJSON(stdout, res); err != nil {
			return err
		}
	} else if err := printHuman(stdout, res, c); err != nil {
		return fmt.Errorf("writing result: %w", err)
	}
	if m.Errors > 0 {
		errs.print(stderr, fmt.Sprintf("%d of %d requests failed", m.Errors, res.Requests))
		return fmt.Errorf("%w: %d of %d", load.ErrFailed, m.Errors, res.Requests)
	}
	return nil
}

func printHuman(w io.Writer, r result, c config) error {
	_, err := fmt.Fprintf(w, "POST %s: %d-byte body, c%d, %s after %s warm-up\n"+
		"requests %d, accepted %d (%.1f/s), errors %d\n"+
		"ack latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
		r.URL, r.BodyBytes, r.Concurrency, c.duration, c.warmup,
		r.Requests, r.Accepted, r.AcceptedPerSec, r.Errors,
		r.P50ms, r.P90ms, r.P99ms, r.MaxMs)
	return err
}

// sign returns the X-Hub-Signature-256 value of body under secret, as
// GitHub computes it.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// newUUID returns a random (version 4) UUID, the shape of a GitHub delivery
// id.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// sender sends the deliveries. It is safe for concurrent use.
type sender struct {
	client    *http.Client
	url       string
	body      []byte
	signature string
	status    int // the status that counts as accepted
}

// send POSTs one delivery and reads the whole answer; it is an error unless
// the status is s.status.
func (s *sender) send(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(s.body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/hooksload")
	h.Set("X-GitHub-Event", "push")
	h.Set("X-GitHub-Hook-ID", "1")
	h.Set("X-GitHub-Delivery", newUUID())
	h.Set("X-Hub-Signature-256", s.signature)
	resp, err := s.client.Do(req)
	if err != nil {
		return err // names the method, the URL and the cause
	}
	defer resp.Body.Close()
	head, err := io.ReadAll(io.LimitReader(resp.Body, sampleBody))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body) // the rest, so the connection is reused
	}
	if resp.StatusCode != s.status {
		return &statusError{status: resp.Status, body: string(bytes.TrimSpace(head))}
	}
	if err != nil {
		return fmt.Errorf("reading the %d answer: %w", s.status, err)
	}
	return nil
}

// statusError is an answer with another status than the one accepted.
type statusError struct {
	status string // "401 Unauthorized"
	body   string // its first sampleBody bytes
}

func (e *statusError) Error() string { return "status " + e.status + ": " + e.body }

// errorLog counts errors by kind: by status for answers other than 202 (the
// bodies often differ only by the delivery id), by message for transport
// errors. It keeps the first maxSamples kinds, each with its first body, and
// counts the others together. It is safe for concurrent use.
type errorLog struct {
	mu      sync.Mutex
	samples []errorSample
	other   int64
}

type errorSample struct {
	kind  string
	body  string // of the first answer of this kind, if any
	count int64
}

func (l *errorLog) add(err error) {
	kind, body := err.Error(), ""
	var se *statusError
	if errors.As(err, &se) {
		kind, body = "status "+se.status, se.body
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.samples {
		if l.samples[i].kind == kind {
			l.samples[i].count++
			return
		}
	}
	if len(l.samples) < maxSamples {
		l.samples = append(l.samples, errorSample{kind: kind, body: body, count: 1})
		return
	}
	l.other++
}

// print writes title and one line per kind of error.
func (l *errorLog) print(w io.Writer, title string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(w, "hooksload: %s:\n", title)
	for _, s := range l.samples {
		if s.body != "" {
			fmt.Fprintf(w, "  %dx %s, first body: %s\n", s.count, s.kind, s.body)
		} else {
			fmt.Fprintf(w, "  %dx %s\n", s.count, s.kind)
		}
	}
	if l.other > 0 {
		fmt.Fprintf(w, "  %dx other errors\n", l.other)
	}
}

// Command loadgen is the closed-loop load generator of the hookrelay
// benchmark. Each of --concurrency workers POSTs the same random body of
// --body-size bytes, waits for the answer, checks it and sends the next one.
// After --warmup (not recorded) it measures until --duration has passed or
// --requests requests were started, whichever comes first, lets the requests
// in flight finish, and prints one JSON line:
//
//	{"url":...,"body_size":...,"concurrency":...,"requests":...,"errors":...,
//	 "seconds":...,"rps":...,"p50_ms":...,"p99_ms":...,"max_ms":...}
//
// requests counts the answers that passed the check (status 200 and the
// body echoed back byte for byte); errors counts the others. rps is
// requests/seconds. The percentiles are nearest-rank over every recorded
// latency of a passing request. Any error makes the exit code 1, after the
// line is printed.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hookrelay/hookrelay/bench/internal/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// config is the validated command line.
type config struct {
	url         string
	bodySize    byteSize
	concurrency int
	duration    time.Duration
	maxRequests int64
	warmup      time.Duration
	timeout     time.Duration
}

// result is the JSON line loadgen prints.
type result struct {
	URL         string  `json:"url"`
	BodySize    int64   `json:"body_size"`
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&c.url, "url", "", "URL to POST to (required)")
	c.bodySize = 1024
	fs.Var(&c.bodySize, "body-size", "request body size: bytes, or with a KiB, MiB or GiB suffix")
	fs.IntVar(&c.concurrency, "concurrency", 1, "number of workers, each with one request in flight")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "longest measured time")
	fs.Int64Var(&c.maxRequests, "requests", 0, "most requests to measure (0: no limit)")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unrecorded load before measuring")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "timeout of one request, body included")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.url == "":
		return c, errors.New("--url is required")
	case c.concurrency < 1:
		return c, fmt.Errorf("--concurrency %d: must be at least 1", c.concurrency)
	case c.duration <= 0:
		return c, fmt.Errorf("--duration %s: must be positive", c.duration)
	case c.maxRequests < 0:
		return c, fmt.Errorf("--requests %d: must not be negative", c.maxRequests)
	case c.warmup < 0:
		return c, fmt.Errorf("--warmup %s: must not be negative", c.warmup)
	case c.timeout <= 0:
		return c, fmt.Errorf("--timeout %s: must be positive", c.timeout)
	}
	return c, nil
}

// run is the whole command; it writes the JSON line to out.
func run(ctx context.Context, args []string, out io.Writer) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	body := make([]byte, c.bodySize)
	rand.Read(body) // random, so nothing on the path can compress it

	l := &loader{client: load.NewClient(c.concurrency, c.timeout), url: c.url, body: body}
	defer l.client.CloseIdleConnections()

	if c.warmup > 0 {
		w := load.Phase{Workers: c.concurrency, Duration: c.warmup}.Run(ctx, l.do)
		if w.Errors > 0 {
			fmt.Fprintf(os.Stderr, "loadgen: warmup: %d of %d requests failed, first: %v\n",
				w.Errors, w.Errors+int64(len(w.Latencies)), w.FirstErr)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("warming up: %w", err)
	}

	m := load.Phase{Workers: c.concurrency, Duration: c.duration, Limit: c.maxRequests}.Run(ctx, l.do)
	s := m.Summary()
	res := result{
		URL:         c.url,
		BodySize:    int64(c.bodySize),
		Concurrency: c.concurrency,
		Requests:    s.Passed,
		Errors:      m.Errors,
		Seconds:     s.Seconds,
		RPS:         s.PerSec,
		P50ms:       s.P50ms,
		P99ms:       s.P99ms,
		MaxMs:       s.MaxMs,
	}
	if err := load.WriteJSON(out, res); err != nil {
		return err
	}
	if m.Errors > 0 {
		return fmt.Errorf("%w: %d of %d, first: %w", load.ErrFailed, m.Errors, m.Errors+res.Requests, m.FirstErr)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("measuring: %w", err) // after the line: the run was cut short
	}
	return nil
}

// loader sends the benchmark requests. It is safe for concurrent use.
type loader struct {
	client *http.Client
	url    string
	body   []byte
}

// do sends one request and checks that the body came back unchanged.
func (l *loader) do(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(l.body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("sending request: %w", err)
	}
	defer resp.Body.Close()
	cmp := &compareWriter{want: l.body}
	n, err := io.Copy(cmp, resp.Body)
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %s", resp.Status)
	case err != nil:
		return fmt.Errorf("reading response after %d bytes: %w", n, err)
	case n != int64(len(l.body)):
		return fmt.Errorf("response body is %d bytes, want %d", n, len(l.body))
	case cmp.differs:
		return errors.New("response body differs from request body")
	}
	return nil
}

// compareWriter compares what is written to it with want, without keeping it.
type compareWriter struct {
	want    []byte
	off     int
	differs bool
}

// Write never fails, so the caller counts every byte of the response.
func (c *compareWriter) Write(p []byte) (int, error) {
	if !c.differs {
		end := c.off + len(p)
		c.differs = end > len(c.want) || !bytes.Equal(p, c.want[c.off:end])
	}
	c.off += len(p)
	return len(p), nil
}

// byteSize is a flag.Value for sizes such as 1024, 64KiB or 25MiB.
type byteSize int64

// String formats the size in bytes.
func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

// Set parses a byte count with an optional KiB, MiB or GiB suffix.
func (b *byteSize) Set(s string) error {
	num, mult := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			num, mult = s[:len(s)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("size %q: want a byte count such as 1024, 64KiB or 25MiB", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// Command echotarget is the HTTP target of the hookrelay benchmark: it
// answers every request, whatever the method, with 200 and the request body
// echoed back, so the load generator can check that a body made the whole
// round trip. It is the "direct" side the tunnel is compared with.
//
// Usage:
//
//	echotarget --listen 127.0.0.1:0
//
// Once bound it prints "listening on http://ADDR" on stdout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "echotarget:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done, then shuts the server down.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("echotarget", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *listen, err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(echo),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// echo reads the whole request body before answering, like a typical
// webhook receiver, and sends it back with the request's Content-Type and
// an exact Content-Length.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	// A nil Content-Type stops net/http from sniffing one: the echo carries
	// exactly what the request carried.
	w.Header()["Content-Type"] = r.Header.Values("Content-Type")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body) //nolint:errcheck // the client hung up; nothing to report to
}

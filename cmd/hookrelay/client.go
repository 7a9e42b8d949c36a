package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"

	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// runClient is "hookrelay client": flags, wiring, and the reconnect loop.
func runClient(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	serverURL := fs.String("server", envOr("HOOKRELAY_SERVER", ""), "public URL of hookrelay server (env HOOKRELAY_SERVER)")
	to := fs.String("to", "http://localhost:3000", "local app to replay webhooks against; its path is kept as a prefix")
	channel := fs.String("channel", "", "channel to claim or connect; empty gets a new channel once and keeps it")
	token := fs.String("token", "", "channel token; default: the one stored when the channel was claimed (env HOOKRELAY_TOKEN)")
	clientKey := fs.String("client-key", "", "the server's client key, if it requires one (env HOOKRELAY_CLIENT_KEY)")
	concurrency := fs.Int("concurrency", 32, "requests in flight to the local app at once")
	tokensFile := fs.String("tokens-file", "", "where channel tokens are stored (default: hookrelay/tokens.json in the user config dir)")
	quiet := fs.Bool("quiet", false, "print a line only for deliveries that failed (the app unreachable, a request abandoned), not for each one")
	mode := fs.String("mode", "", "how the server answers webhooks for this channel, kept while the client is away:\n"+
		"auto: the app's answer when it comes within the server's sync timeout, else 202 and queued;\n"+
		"sync: always the app's answer (503 while away); async: always 202 and queued\n(default: the mode the channel has, which is the server's until a client sets one)")
	sess := tunnel.DefaultSessionOptions()
	fs.DurationVar(&sess.PingInterval, "ping-interval", sess.PingInterval, "how often to ping the server")
	fs.DurationVar(&sess.ReadTimeout, "read-timeout", sess.ReadTimeout, "reconnect when the server is silent for this long (half-open connection)")
	var lf logFlags
	lf.register(fs)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if *token == "" {
		*token = envOr("HOOKRELAY_TOKEN", "")
	}
	if *clientKey == "" {
		*clientKey = envOr("HOOKRELAY_CLIENT_KEY", "")
	}
	log, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay client:", err)
		return exitUsage
	}
	if err := checkLiveness(sess.PingInterval, sess.ReadTimeout); err != nil {
		fmt.Fprintln(stderr, "hookrelay client:", err)
		return exitUsage
	}
	if *mode != "" && !store.ValidMode(*mode) {
		fmt.Fprintf(stderr, "hookrelay client: --mode must be auto, sync or async, not %q\n", *mode)
		return exitUsage
	}
	if *serverURL == "" {
		fmt.Fprintln(stderr, "hookrelay client: --server is required, e.g. --server https://hooks.example.com")
		return exitUsage
	}
	su, err := url.Parse(*serverURL)
	if err != nil {
		fmt.Fprintf(stderr, "hookrelay client: --server %q: want an http:// or https:// URL, e.g. https://hooks.example.com (%v)\n", *serverURL, err)
		return exitUsage
	}
	tu, err := url.Parse(*to)
	if err != nil {
		fmt.Fprintf(stderr, "hookrelay client: --to %q: want an http:// or https:// URL, e.g. http://localhost:3000 (%v)\n", *to, err)
		return exitUsage
	}
	if *tokensFile == "" {
		if *tokensFile, err = store.DefaultTokensPath(); err != nil {
			fmt.Fprintln(stderr, "hookrelay client: no user config dir; pass --tokens-file:", err)
			return exitError
		}
	}
	c, err := tunnel.NewClient(tunnel.ClientConfig{
		Server:      su,
		Target:      tu,
		Channel:     *channel,
		Token:       *token,
		ClientKey:   *clientKey,
		Mode:        *mode,
		Concurrency: *concurrency,
		Tokens:      store.OpenTokens(*tokensFile),
		Session:     sess,
		Out:         stdout,
		Quiet:       *quiet,
		Log:         log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "hookrelay client:", err)
		return exitUsage
	}
	if err := c.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "hookrelay client:", err)
		return exitError
	}
	return exitOK
}

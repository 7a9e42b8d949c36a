package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/server"
	"github.com/hookrelay/hookrelay/store"
)

// apiTimeout bounds each request to a server's /api.
const apiTimeout = time.Minute

// connFlags are the flags of the commands that talk to a server's /api:
// where it is and which credentials to present.
type connFlags struct {
	server     string
	channel    string
	token      string
	adminToken string
	tokensFile string
}

func (f *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", envOr("HOOKRELAY_SERVER", ""), "public URL of hookrelay server (env HOOKRELAY_SERVER)")
	fs.StringVar(&f.channel, "channel", "", "the channel whose token is used; with --admin-token, a filter\n(default: the channel hookrelay client picked for this server)")
	fs.StringVar(&f.token, "token", "", "the channel's token (env HOOKRELAY_TOKEN; default: the one in the tokens file)")
	fs.StringVar(&f.adminToken, "admin-token", "", "the server's admin token, for every channel (env HOOKRELAY_ADMIN_TOKEN)")
	fs.StringVar(&f.tokensFile, "tokens-file", "", "where hookrelay client stored channel tokens (default: hookrelay/tokens.json in the user config dir)")
}

// connectAdmin is connect for the commands only the admin token may run
// (tasks belong to no channel): without it, it says so at once rather
// than try a channel's token the server would refuse.
func (f *connFlags) connectAdmin(cmd, why string, stderr io.Writer) (c *apiClient, code int, ok bool) {
	if f.adminToken == "" {
		f.adminToken = envOr("HOOKRELAY_ADMIN_TOKEN", "")
	}
	if f.adminToken == "" {
		fmt.Fprintf(stderr, "hookrelay %s: pass --admin-token (or set HOOKRELAY_ADMIN_TOKEN): %s\n", cmd, why)
		return nil, exitUsage, false
	}
	return f.connect(cmd, stderr)
}

// connect resolves the credentials: the admin token if given, else the
// channel's token from --token, the environment or the tokens file. Tokens
// come from the environment only after parsing, so -h never prints one.
// ok is false when the command must stop with code, after a message.
func (f *connFlags) connect(cmd string, stderr io.Writer) (c *apiClient, code int, ok bool) {
	fail := func(code int, format string, args ...any) (*apiClient, int, bool) {
		fmt.Fprintf(stderr, "hookrelay %s: "+format+"\n", append([]any{cmd}, args...)...)
		return nil, code, false
	}
	if f.adminToken == "" {
		f.adminToken = envOr("HOOKRELAY_ADMIN_TOKEN", "")
	}
	if f.token == "" {
		f.token = envOr("HOOKRELAY_TOKEN", "")
	}
	if f.server == "" {
		return fail(exitUsage, "--server is required, e.g. --server https://hooks.example.com")
	}
	base, err := url.Parse(f.server)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fail(exitUsage, "--server must be an http or https URL, not %q", f.server)
	}
	c = &apiClient{base: base, http: &http.Client{Timeout: apiTimeout}}
	if f.adminToken != "" {
		c.token = f.adminToken
		return c, exitOK, true
	}
	var tokens *store.Tokens
	if f.channel == "" || f.token == "" {
		path := f.tokensFile
		if path == "" {
			if path, err = store.DefaultTokensPath(); err != nil {
				return fail(exitUsage, "no user config dir; pass --tokens-file, --token or --admin-token: %v", err)
			}
		}
		tokens = store.OpenTokens(path)
	}
	// The tokens file is keyed by the server URL as hookrelay client
	// spells it.
	key := base.String()
	if f.channel == "" {
		if f.channel, err = tokens.DefaultChannel(key); err != nil {
			return fail(exitError, "%v", err)
		}
		if f.channel == "" {
			return fail(exitUsage, "name the channel with --channel (the tokens file has no default channel for %s), or pass --admin-token", key)
		}
	}
	if !store.ValidName(f.channel) {
		return fail(exitUsage, "--channel %.64q is not a channel name", f.channel)
	}
	if f.token == "" {
		if f.token, err = tokens.Get(key, f.channel); err != nil {
			return fail(exitError, "%v", err)
		}
		if f.token == "" {
			return fail(exitUsage, "no token for channel %s of %s in the tokens file: pass --token or --admin-token", f.channel, key)
		}
	}
	c.token, c.channel = f.token, f.channel
	return c, exitOK, true
}

// apiClient calls a server's /api with one set of credentials.
type apiClient struct {
	base  *url.URL
	token string
	// channel is sent in server.HeaderChannel with a channel's token;
	// empty with the admin token.
	channel string
	http    *http.Client
}

// apiError is an answer of the server other than 2xx.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
}

// do sends a request to path (under /api) and decodes a 2xx answer into
// out, which may be a *json.RawMessage to keep it as it came.
func (c *apiClient) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api" + path
	u.RawPath, u.RawQuery = "", query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.channel != "" {
		req.Header.Set(server.HeaderChannel, c.channel)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL error names the URL, which holds no credentials.
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", u.Redacted(), err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode) + " from " + u.Redacted() + " (is --server a hookrelay server?)"
		}
		return &apiError{Status: resp.StatusCode, Message: e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding the answer of %s: %w", u.Redacted(), err)
	}
	return nil
}

// fail prints err for command cmd and returns the exit code of an API or
// connection error.
func fail(stderr io.Writer, cmd string, err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		fmt.Fprintf(stderr, "hookrelay %s: the server refused: %v\n", cmd, ae)
	} else {
		fmt.Fprintf(stderr, "hookrelay %s: %v\n", cmd, err)
	}
	return exitError
}

// parseArgs parses flags that may come before, after or between the
// command's positional arguments (hookrelay events show ID --json), and
// wants exactly n of those. ok is false when the command must stop with
// code.
func parseArgs(fs *flag.FlagSet, args []string, n int, what string, stderr io.Writer) (pos []string, code int, ok bool) {
	fs.SetOutput(stderr)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...) // after "--" nothing is a flag
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != n {
		fmt.Fprintf(stderr, "hookrelay %s: want %s\n", fs.Name(), what)
		fs.Usage()
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// seen is one request as the local app received it.
type seen struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         []byte
	ContentLength                int64
}

// app is a local app that records what it receives and answers with respond.
type app struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newApp(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, body []byte)) *app {
	a := &app{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		a.mu.Lock()
		a.reqs = append(a.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Host, r.Header.Clone(), body, r.ContentLength})
		a.mu.Unlock()
		respond(w, r, body)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) last(t *testing.T) seen {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reqs) == 0 {
		t.Fatal("the local app received nothing")
	}
	return a.reqs[len(a.reqs)-1]
}

// echoApp answers 200 with the request body.
func echoApp(t *testing.T) *app {
	return newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) { _, _ = w.Write(body) })
}

// noRedirect is a sender that, like GitHub, does not follow redirects.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       60 * time.Second,
}

func send(t *testing.T, method, url string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func errorOf(t *testing.T, b []byte) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("want a JSON error body, got %q", b)
	}
	return e.Error
}

// The body and header values reach the app byte for byte, so a GitHub
// signature verifies there; the path suffix, query and prefix of --to are
// kept; hop-by-hop headers are dropped; the app's answer comes back whole.
func TestForwardIsByteExact(t *testing.T) {
	const secret = "It's a Secret to Everybody"
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(r.Header.Get("X-Hub-Signature-256")), []byte(want)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-App", "yes")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("verified:" + r.Header.Get("X-GitHub-Event")))
	})
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, a.URL+"/hooks", "--channel", "alice")
	c.connected(1)

	// Odd bytes on purpose: CRLF, NUL, invalid UTF-8 and trailing spaces.
	body := []byte("{\"zen\":\"Keep it logically awesome.\"}\r\n\x00\xff\xfe  ")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	h := http.Header{
		"X-Github-Event":      {"push"},
		"X-Github-Delivery":   {"72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))},
		"Content-Type":        {"application/json"},
		"X-Spaced":            {"two  spaces\tinside"},
		"X-Multi":             {"1", "2"},
		"Connection":          {"X-Hop-Secret"},
		"X-Hop-Secret":        {"must not pass"},
	}
	resp, got := send(t, "POST", srv.url+"/webhook/alice/github/a%2Fb?x=1&y=%2F&z", body, h)
	if resp.StatusCode != http.StatusCreated || string(got) != "verified:push" {
		t.Fatalf("sender got %d %q, want 201 verified:push", resp.StatusCode, got)
	}
	if resp.Header.Get("X-App") != "yes" || len(resp.Header.Values("Set-Cookie")) != 2 {
		t.Fatalf("response headers not passed through: %v", resp.Header)
	}
	r := a.last(t)
	if !bytes.Equal(r.Body, body) || r.ContentLength != int64(len(body)) {
		t.Fatalf("app got body %q (length %d), want %q", r.Body, r.ContentLength, body)
	}
	if r.Path != "/hooks/github/a%2Fb" || r.RawQuery != "x=1&y=%2F&z" {
		t.Fatalf("app got path %q query %q", r.Path, r.RawQuery)
	}
	for k, want := range map[string]string{
		"X-Spaced": "two  spaces\tinside", "X-Github-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": strings.TrimPrefix(srv.url, "http://"),
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("app got %s %q, want %q", k, got, want)
		}
	}
	if v := r.Header.Values("X-Multi"); len(v) != 2 || v[0] != "1" || v[1] != "2" {
		t.Errorf("app got X-Multi %q", v)
	}
	if r.Header.Get("X-Hop-Secret") != "" || r.Header.Get("Connection") != "" {
		t.Errorf("hop-by-hop headers reached the app: %v", r.Header)
	}
	// The client's line names the local path, without the query.
	c.waitLine("POST /hooks/github/a%2Fb  201", 0, 5*time.Second)
}

// A --to ending in a slash keeps it when the public URL adds no path of
// its own: an app may route /hook/ and not /hook.
func TestForwardKeepsTrailingSlashOfTo(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) { w.WriteHeader(http.StatusOK) })
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, a.URL+"/hook/", "--channel", "slash")
	c.connected(1)
	tests := []struct{ public, path, query string }{
		{"/webhook/slash", "/hook/", ""},
		{"/webhook/slash?x=1", "/hook/", "x=1"},
		{"/webhook/slash/", "/hook/", ""},
		{"/webhook/slash/push", "/hook/push", ""},
	}
	for _, tt := range tests {
		resp, _ := send(t, "POST", srv.url+tt.public, []byte("{}"), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", tt.public, resp.StatusCode)
		}
		if r := a.last(t); r.Path != tt.path || r.RawQuery != tt.query {
			t.Errorf("%s: app got path %q query %q, want %q %q", tt.public, r.Path, r.RawQuery, tt.path, tt.query)
		}
	}
}

func TestRedirectAndStatusPassThrough(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", "15")
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprint(w, "short and stout")
		}
	})
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "redirects")
	c.connected(1)
	tests := []struct {
		path   string
		status int
		header string
		body   string
		method string
	}{
		{"/moved", http.StatusFound, "/elsewhere", "", "GET"},
		{"/empty", http.StatusNoContent, "", "", "DELETE"},
		{"/teapot", http.StatusTeapot, "", "short and stout", "PATCH"},
		// No body, but the length the app declared ("short and stout").
		{"/teapot", http.StatusTeapot, "", "", "HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := send(t, tt.method, srv.url+"/webhook/redirects"+tt.path, nil, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.header != "" && resp.Header.Get("Location") != tt.header {
				t.Fatalf("Location %q, want %q", resp.Header.Get("Location"), tt.header)
			}
			if tt.body != "" && string(body) != tt.body {
				t.Fatalf("body %q, want %q", body, tt.body)
			}
			if got := a.last(t); got.Method != tt.method {
				t.Fatalf("app got method %s", got.Method)
			}
			if tt.method == "HEAD" && (resp.ContentLength != int64(len("short and stout")) || len(body) != 0) {
				t.Fatalf("HEAD answered with Content-Length %d and %d body bytes, want the app's 15 and none", resp.ContentLength, len(body))
			}
		})
	}
}

func TestTwoHundredConcurrentRequests(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "busy", "--quiet")
	c.connected(1)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			body := bytes.Repeat([]byte(fmt.Sprintf("request %d;", i)), 50+i*7)
			req, _ := http.NewRequestWithContext(ctx(t), "POST", fmt.Sprintf("%s/webhook/busy/%d", srv.url, i), bytes.NewReader(body))
			resp, err := noRedirect.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, body) {
				errs <- fmt.Errorf("request %d: status %d, %d bytes back of %d, err %v", i, resp.StatusCode, len(got), len(body), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestBodyLimit(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		sum := sha256.Sum256(body)
		_, _ = w.Write([]byte(hex.EncodeToString(sum[:])))
	})
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "big")
	c.connected(1)
	const limit = 25 << 20
	big := bytes.Repeat([]byte("0123456789abcdef"), limit/16)

	sum := sha256.Sum256(big)
	resp, got := send(t, "POST", srv.url+"/webhook/big/upload", big, nil)
	if resp.StatusCode != 200 || string(got) != hex.EncodeToString(sum[:]) {
		t.Fatalf("25 MiB body: status %d, answer %q", resp.StatusCode, got)
	}

	over := append(big, 'x')
	resp, got = send(t, "POST", srv.url+"/webhook/big/upload", over, nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("25 MiB + 1 byte: status %d, want 413", resp.StatusCode)
	}
	errorOf(t, got)

	// Without a Content-Length the limit holds too.
	req, _ := http.NewRequestWithContext(ctx(t), "POST", srv.url+"/webhook/big/chunked", io.MultiReader(bytes.NewReader(over)))
	req.ContentLength = -1
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked 25 MiB + 1 byte: status %d, want 413", resp.StatusCode)
	}
}

// Answers the sender gets when the tunnel cannot deliver.
func TestUndeliverableAnswers(t *testing.T) {
	slow := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := startServer(t, "", "--sync-timeout", "1s")
	// Sync mode: the sender always gets the app's answer or an error.
	c := startClient(t, t.TempDir(), srv.url, slow.URL, "--channel", "slow", "--mode", "sync")
	c.connected(1)
	down := startClient(t, t.TempDir(), srv.url, "http://127.0.0.1:1", "--channel", "down", "--mode", "sync", "--quiet")
	down.connected(1)

	tests := []struct {
		name, url string
		status    int
		errPart   string
	}{
		{"no client", srv.url + "/webhook/nobody/x", http.StatusServiceUnavailable, "no client is connected to channel nobody"},
		{"slow app", srv.url + "/webhook/slow/x", http.StatusGatewayTimeout, "no answer within 1s (--sync-timeout) from the app behind channel slow"},
		{"app down", srv.url + "/webhook/down/x", http.StatusBadGateway, "could not reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, "POST", tt.url, []byte("{}"), nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			if msg := errorOf(t, body); !strings.Contains(msg, tt.errPart) {
				t.Fatalf("error %q does not say %q", msg, tt.errPart)
			}
		})
	}
	// The developer's line says no answer went back, and why, in the
	// server's words.
	c.waitLine("POST /x  ---  ", 0, 10*time.Second)
	c.waitLine("(request abandoned by the server: its time limit passed)", 0, 10*time.Second)
	// --quiet prints failures all the same.
	down.waitLine("POST /x  502  ", 0, 10*time.Second)
}

func TestClientInterruptExitsZero(t *testing.T) {
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, "http://127.0.0.1:1", "--channel", "bye")
	c.connected(1)
	c.signal(syscall.SIGINT)
	if code := c.wait(10 * time.Second); code != 0 {
		t.Fatalf("client exit code %d after Ctrl-C, want 0", code)
	}
	srv.signal(syscall.SIGTERM)
	if code := srv.wait(15 * time.Second); code != 0 {
		t.Fatalf("server exit code %d after SIGTERM, want 0", code)
	}
}

// A client stopped with Ctrl-C while the app handles a request lets the
// app finish it and passes the answer on: the request is delivered once,
// not cut off and sent again after the next start.
func TestClientInterruptLetsRequestsInFlightFinish(t *testing.T) {
	var reqs atomic.Int32
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reqs.Add(1)
		time.Sleep(1500 * time.Millisecond)
		_, _ = w.Write([]byte("done"))
	})
	srv := startServer(t, "", "--sync-timeout", "300ms")
	tokens := t.TempDir()
	c := startClient(t, tokens, srv.url, a.URL, "--channel", "slow", "--mode", "auto")
	c.connected(1)
	q := sendQueued(t, srv.url+"/webhook/slow/x", []byte(`{}`), nil) // 202 after 300ms; the attempt goes on
	waitFor(t, "the app to get the request", 10*time.Second, func() bool { return reqs.Load() == 1 })
	c.signal(syscall.SIGINT)
	if code := c.wait(15 * time.Second); code != 0 {
		t.Fatalf("client exit code %d after Ctrl-C, want 0", code)
	}
	waitFor(t, "the delivery recorded", 10*time.Second, func() bool {
		return strings.Contains(srv.stderr(), "msg=delivered delivery_id="+q.Deliveries[0])
	})
	again := startClient(t, tokens, srv.url, a.URL, "--channel", "slow", "--mode", "auto")
	again.connected(1)
	time.Sleep(500 * time.Millisecond) // a redelivery would come now
	if n := reqs.Load(); n != 1 {
		t.Fatalf("the app got the request %d times, want once", n)
	}
}

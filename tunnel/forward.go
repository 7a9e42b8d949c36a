package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bodyReader hides Stream.Close from net/http, which closes request
// bodies: the stream outlives the request until the response is sent.
type bodyReader struct{ st *Stream }

func (b bodyReader) Read(p []byte) (int, error) { return b.st.Read(p) }

// serve replays one tunnelled request against the local app and streams
// the answer back. It runs in the stream's own goroutine.
func (c *Client) serve(st *Stream, head *RequestHead) {
	defer st.Close()
	start := time.Now()
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-st.Context().Done():
		return
	}
	status, err := c.forward(st, head)
	if c.cfg.Quiet && err == nil {
		return // a failure is printed all the same
	}
	code := "---" // no answer went back
	if status != 0 {
		code = strconv.Itoa(status)
	}
	line := fmt.Sprintf("%s %s %s  %s  %s%s", clock(), head.Method, c.localPath(head), code, fmtDuration(time.Since(start)), deliveryNote(head.Header))
	if err != nil {
		line += fmt.Sprintf("  (%v)", err)
	}
	c.printf("%s", line)
}

// localPath is the path of the local app's URL a request goes to, without
// its query (query strings may hold secrets).
func (c *Client) localPath(head *RequestHead) string {
	p := c.cfg.Target.EscapedPath()
	if p == "" {
		p = "/"
	}
	p = joinTarget(p, head.Target)
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// joinTarget appends a request's target, what followed the channel in
// the public URL (nothing, a query, or a path), to --to, a URL or its
// path without a query. A target that adds no path keeps --to exactly as
// given, trailing slash included: an app may route /hook/ and not /hook.
func joinTarget(to, target string) string {
	if target != "" && target[0] == '/' {
		return strings.TrimSuffix(to, "/") + target
	}
	return to + target
}

// forward does the local request; it returns the status the sender got.
func (c *Client) forward(st *Stream, head *RequestHead) (int, error) {
	base := *c.cfg.Target
	base.RawQuery, base.Fragment = "", ""
	to := base.String()
	if base.Path == "" {
		to += "/"
	}
	target := joinTarget(to, head.Target)
	var body io.Reader = http.NoBody
	if head.ContentLength != 0 {
		body = bodyReader{st}
	}
	req, err := http.NewRequestWithContext(st.Context(), head.Method, target, body)
	if err != nil {
		return c.fail(st, http.StatusBadGateway, "hookrelay client could not build the local request", err)
	}
	req.Header = head.Header
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = nil // net/http must not add its own
	}
	req.ContentLength = head.ContentLength
	resp, err := c.local.Do(req)
	if err != nil {
		if cause := context.Cause(st.Context()); cause != nil {
			if pr := (*peerReset)(nil); errors.As(cause, &pr) {
				return 0, errors.New(pr.Reason) // the server's own words
			}
			return 0, fmt.Errorf("abandoned: %w", cause)
		}
		// The sender learns that the app is down, not where it lives.
		return c.fail(st, http.StatusBadGateway, "hookrelay client could not reach the local app", unwrapURLError(err))
	}
	defer resp.Body.Close()
	rh := &ResponseHead{Status: resp.StatusCode, ContentLength: resp.ContentLength, Header: StripHopHeaders(resp.Header)}
	if req.Method == http.MethodHead {
		rh.ContentLength = 0
	}
	if err := st.WriteHead(rh, rh.ContentLength == 0); err != nil {
		if errors.Is(err, ErrHeadTooLarge) {
			return c.fail(st, http.StatusBadGateway, "the local app's response headers do not fit the tunnel", err)
		}
		return resp.StatusCode, err
	}
	if rh.ContentLength == 0 {
		return resp.StatusCode, nil
	}
	buf := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(buf)
	if _, err := io.CopyBuffer(st, resp.Body, *buf); err != nil {
		return resp.StatusCode, fmt.Errorf("copying response body: %w", err)
	}
	return resp.StatusCode, st.CloseWrite()
}

// HeaderClientError marks an answer made by hookrelay client, not by the
// local app (which could not be reached): the server queues and retries
// such a request rather than take the answer as the app's.
const HeaderClientError = "Hookrelay-Client-Error"

// fail answers the sender with a JSON error from the client side; detail
// is only for the developer's terminal.
func (c *Client) fail(st *Stream, status int, public string, detail error) (int, error) {
	err := fmt.Errorf("%s: %w", public, detail)
	b, _ := json.Marshal(map[string]string{"error": public})
	h := http.Header{"Content-Type": {"application/json"}, HeaderClientError: {"1"}}
	if werr := st.WriteHead(&ResponseHead{Status: status, ContentLength: int64(len(b)), Header: h}, false); werr != nil {
		return status, err
	}
	_, _ = st.write(b, true)
	return status, err
}

func unwrapURLError(err error) error {
	if ue, ok := err.(interface{ Unwrap() error }); ok {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

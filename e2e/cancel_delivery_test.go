package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An event the app keeps failing on holds its channel's queue; the
// channel's owner cancels its delivery with `events cancel`, and the
// queue goes on. Another channel's token may not cancel it.
func TestEventsCancelUnblocksTheQueue(t *testing.T) {
	var good atomic.Int32
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if string(body) == "poison" {
			http.Error(w, "cannot handle this one", http.StatusInternalServerError)
			return
		}
		good.Add(1)
	})
	srv := startServer(t, "", "--retry-min", "1h", "--retry-max", "1h")
	tokens := t.TempDir()
	c := startClient(t, tokens, srv.url, a.URL, "--channel", "stuck", "--mode", "async")
	c.connected(1)
	poison := sendQueued(t, srv.url+"/webhook/stuck", []byte("poison"), nil)
	sendQueued(t, srv.url+"/webhook/stuck", []byte("fine"), nil)
	c.waitLine("POST /  500", 0, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := good.Load(); n != 0 {
		t.Fatalf("the app got %d events behind the failing one, want none while it waits for its retry", n)
	}

	did := poison.Deliveries[0]
	other := t.TempDir()
	claim(t, srv, other, a.URL, "nosy")
	_, errOut, code := cli(t, nil, "events", "cancel", did, "--server", srv.url, "--tokens-file", filepath.Join(other, "tokens.json"), "--channel", "nosy")
	if code == 0 || !strings.Contains(errOut, did) {
		t.Fatalf("another channel's owner cancelling: exit %d, %s; want refused", code, errOut)
	}

	out, errOut, code := cli(t, nil, "events", "cancel", did, "--server", srv.url, "--tokens-file", filepath.Join(tokens, "tokens.json"), "--channel", "stuck")
	if code != 0 || !strings.Contains(out, "delivery "+did+" of event "+poison.EventID+" to tunnel:stuck cancelled") {
		t.Fatalf("events cancel: exit %d, %s%s", code, out, errOut)
	}
	waitFor(t, "the event behind it delivered", 10*time.Second, func() bool { return good.Load() == 1 })
	_, errOut, code = cli(t, nil, "events", "cancel", did, "--server", srv.url, "--tokens-file", filepath.Join(tokens, "tokens.json"), "--channel", "stuck")
	if code == 0 || !strings.Contains(errOut, "is dead: delivery has ended; nothing to cancel") {
		t.Fatalf("cancelling it again: exit %d, %s; want it has ended", code, errOut)
	}
}

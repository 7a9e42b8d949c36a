package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// queuedAnswer is the 202 answer of a stored request.
type queuedAnswer struct {
	EventID     string   `json:"event_id"`
	Deliveries  []string `json:"deliveries"`
	Status      string   `json:"status"`
	DuplicateOf string   `json:"duplicate_of"`
}

// sendQueued posts body to url and wants a 202 with the event stored.
func sendQueued(t *testing.T, url string, body []byte, header http.Header) queuedAnswer {
	t.Helper()
	resp, b := send(t, "POST", url, body, header)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s: status %d, want 202 (%s)", url, resp.StatusCode, b)
	}
	var q queuedAnswer
	if err := json.Unmarshal(b, &q); err != nil || q.EventID == "" || len(q.Deliveries) != 1 {
		t.Fatalf("POST %s: answer %s is not a queued event with one delivery (%v)", url, b, err)
	}
	return q
}

// claim starts a client on channel once and stops it, so the channel
// exists (and is owned) while nobody is connected.
func claim(t *testing.T, srv *server, tokens, to, channel string, args ...string) {
	t.Helper()
	c := startClient(t, tokens, srv.url, to, append([]string{"--channel", channel}, args...)...)
	c.connected(1)
	c.signal(syscall.SIGINT)
	if code := c.wait(10 * time.Second); code != 0 {
		t.Fatalf("client exit code %d", code)
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *app) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.reqs)
}

func (a *app) all() []seen {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seen(nil), a.reqs...)
}

// Webhooks sent while the laptop sleeps are answered 202, kept, and
// delivered once each, in order, when its client connects again.
func TestOfflineQueueDrainsInOrder(t *testing.T) {
	const n = 25
	a := echoApp(t)
	srv := startServer(t, "")
	tokens := t.TempDir()
	claim(t, srv, tokens, a.URL, "laptop")
	ids := make([]string, n)
	for i := range n {
		ids[i] = sendQueued(t, srv.url+"/webhook/laptop/in?n="+strconv.Itoa(i), fmt.Appendf(nil, `{"n":%d}`, i), nil).EventID
	}
	if a.count() != 0 {
		t.Fatalf("the app got %d requests while no client was connected", a.count())
	}
	c := startClient(t, tokens, srv.url, a.URL, "--channel", "laptop")
	c.connected(1)
	waitFor(t, "all queued events", 30*time.Second, func() bool { return a.count() >= n })
	time.Sleep(300 * time.Millisecond) // anything extra would show up now
	got := a.all()
	if len(got) != n {
		t.Fatalf("the app got %d requests, want %d", len(got), n)
	}
	for i, r := range got {
		if want := fmt.Sprintf(`{"n":%d}`, i); string(r.Body) != want || r.RawQuery != "n="+strconv.Itoa(i) {
			t.Fatalf("request %d is %s ?%s, want %s: out of order", i, r.Body, r.RawQuery, want)
		}
		if r.Header.Get("X-Hookrelay-Event-Id") != ids[i] || r.Header.Get("X-Hookrelay-Delivery-Id") == "" || r.Header.Get("X-Hookrelay-Attempt") != "1" {
			t.Fatalf("request %d: delivery headers %v", i, r.Header)
		}
	}
}

// A client killed while the local app handles a delivery gets it again
// after it reconnects, with the same delivery id, as its second attempt:
// queued (async), or tried at once while the sender waited (auto).
func TestDeliveryInterruptedByClientCrashIsRedelivered(t *testing.T) {
	for _, mode := range []string{"async", "auto"} {
		t.Run(mode, func(t *testing.T) {
			var calls atomic.Int32
			release := make(chan struct{})
			a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				if calls.Add(1) == 1 {
					select { // the first attempt hangs until the client is dead
					case <-release:
					case <-time.After(20 * time.Second):
					}
				}
			})
			srv := startServer(t, "", "--sync-timeout", "15s")
			tokens := t.TempDir()
			c := startClient(t, tokens, srv.url, a.URL, "--channel", "crash", "--mode", mode)
			c.connected(1)
			answered := make(chan queuedAnswer, 1)
			go func() { // auto mode answers only once the tunnel fails
				var q queuedAnswer
				resp, err := http.Post(srv.url+"/webhook/crash/job", "application/json", strings.NewReader(`{"job":1}`))
				if err == nil {
					if resp.StatusCode == http.StatusAccepted {
						_ = json.NewDecoder(resp.Body).Decode(&q)
					}
					resp.Body.Close()
				}
				answered <- q
			}()
			waitFor(t, "the first attempt", 10*time.Second, func() bool { return a.count() == 1 })
			c.signal(syscall.SIGKILL)
			c.wait(10 * time.Second)
			close(release)
			var q queuedAnswer
			select {
			case q = <-answered:
			case <-time.After(20 * time.Second):
				t.Fatal("the sender got no answer")
			}
			if len(q.Deliveries) != 1 {
				t.Fatalf("the sender's answer %+v, want 202 with one delivery", q)
			}
			c2 := startClient(t, tokens, srv.url, a.URL, "--channel", "crash")
			c2.connected(1)
			waitFor(t, "the second attempt", 20*time.Second, func() bool { return a.count() >= 2 })
			time.Sleep(300 * time.Millisecond)
			got := a.all()
			if len(got) != 2 {
				t.Fatalf("the app got %d requests, want 2", len(got))
			}
			for i, r := range got {
				if r.Header.Get("X-Hookrelay-Delivery-Id") != q.Deliveries[0] || string(r.Body) != `{"job":1}` {
					t.Fatalf("attempt %d: delivery id %q body %s, want %q", i+1, r.Header.Get("X-Hookrelay-Delivery-Id"), r.Body, q.Deliveries[0])
				}
			}
			if got[1].Header.Get("X-Hookrelay-Attempt") != "2" {
				t.Fatalf("second attempt says attempt %q", got[1].Header.Get("X-Hookrelay-Attempt"))
			}
		})
	}
}

// What the server answered 202 for survives kill -9 of the server.
func TestServerKilledAfterAcceptLosesNothing(t *testing.T) {
	const n = 20
	a := echoApp(t)
	srv := startServer(t, "")
	tokens := t.TempDir()
	claim(t, srv, tokens, a.URL, "sturdy")
	for i := range n {
		sendQueued(t, srv.url+"/webhook/sturdy", fmt.Appendf(nil, `{"n":%d}`, i), nil)
	}
	srv.signal(syscall.SIGKILL)
	srv.wait(10 * time.Second)
	// Same address: the client's token is stored per server URL.
	srv2 := startServer(t, srv.data, "--listen", strings.TrimPrefix(srv.url, "http://"))
	c := startClient(t, tokens, srv2.url, a.URL, "--channel", "sturdy")
	c.connected(1)
	waitFor(t, "all events after the restart", 30*time.Second, func() bool { return a.count() >= n })
	time.Sleep(300 * time.Millisecond)
	got := a.all()
	if len(got) != n {
		t.Fatalf("the app got %d requests, want %d", len(got), n)
	}
	for i, r := range got {
		if want := fmt.Sprintf(`{"n":%d}`, i); string(r.Body) != want {
			t.Fatalf("request %d is %s, want %s", i, r.Body, want)
		}
	}
}

// An app that fails three times gets the delivery a fourth time, with the
// same delivery id and counted attempts.
func TestFailedDeliveriesAreRetried(t *testing.T) {
	var calls atomic.Int32
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if calls.Add(1) <= 3 {
			http.Error(w, "not yet", http.StatusInternalServerError)
		}
	})
	srv := startServer(t, "", "--retry-min", "50ms", "--retry-max", "200ms")
	c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "flaky", "--mode", "async")
	c.connected(1)
	q := sendQueued(t, srv.url+"/webhook/flaky", []byte(`{}`), nil)
	waitFor(t, "four attempts", 20*time.Second, func() bool { return a.count() >= 4 })
	time.Sleep(500 * time.Millisecond)
	got := a.all()
	if len(got) != 4 {
		t.Fatalf("the app got %d attempts, want 4", len(got))
	}
	for i, r := range got {
		if r.Header.Get("X-Hookrelay-Delivery-Id") != q.Deliveries[0] || r.Header.Get("X-Hookrelay-Attempt") != strconv.Itoa(i+1) {
			t.Fatalf("attempt %d: headers %v", i+1, r.Header)
		}
	}
	waitFor(t, "the delivered log line", 10*time.Second, func() bool {
		return strings.Contains(srv.stderr(), "msg=delivered delivery_id="+q.Deliveries[0])
	})
}

// A full queue refuses new events with 429 and says why; what it holds
// is still delivered.
func TestFullQueueRefusesClearly(t *testing.T) {
	a := echoApp(t)
	srv := startServer(t, "", "--queue-max-events", "3")
	tokens := t.TempDir()
	claim(t, srv, tokens, a.URL, "small")
	for i := range 3 {
		sendQueued(t, srv.url+"/webhook/small", fmt.Appendf(nil, `{"n":%d}`, i), nil)
	}
	resp, body := send(t, "POST", srv.url+"/webhook/small", []byte(`{"n":3}`), nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth event: status %d, want 429 (%s)", resp.StatusCode, body)
	}
	if msg := errorOf(t, body); !strings.Contains(msg, "queue of tunnel:small holds its maximum of 3 events") {
		t.Fatalf("429 says %q", msg)
	}
	c := startClient(t, tokens, srv.url, a.URL, "--channel", "small")
	c.connected(1)
	waitFor(t, "the three queued events", 20*time.Second, func() bool { return a.count() >= 3 })
	time.Sleep(300 * time.Millisecond)
	if a.count() != 3 {
		t.Fatalf("the app got %d requests, want 3", a.count())
	}
	// Drained, and the client is back: the app answers directly again.
	if resp, body := send(t, "POST", srv.url+"/webhook/small", []byte(`{"n":4}`), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the drain: status %d, want the app's 200 (%s)", resp.StatusCode, body)
	}
}

// GitHub sending the same delivery twice (same hook id and delivery id)
// gets 200 the second time, and the app sees it once.
func TestDuplicateGitHubDeliveryIsDeliveredOnce(t *testing.T) {
	a := verifyingApp(t)
	config := hooksFile(t, t.TempDir(), "  - name: to-dana\n    when: true\n    to: tunnel:dana\n")
	srv := startHooksServer(t, config)
	startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "dana").connected(1)
	body := prBody("main")
	h := githubDelivery("pull_request", body, ghSecret)
	resp, got := send(t, "POST", srv.url+"/hooks/github", body, h)
	first, _ := accepted(t, resp, got, http.StatusAccepted)
	resp, got = send(t, "POST", srv.url+"/hooks/github", body, h)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("repeat: status %d, want 200 (%s)", resp.StatusCode, got)
	}
	var dup queuedAnswer
	if err := json.Unmarshal(got, &dup); err != nil || dup.Status != "duplicate" || dup.DuplicateOf != first {
		t.Fatalf("repeat answered %s, want a duplicate of %s", got, first)
	}
	// A new delivery id is a new event.
	h2 := githubDelivery("pull_request", body, ghSecret)
	resp, got = send(t, "POST", srv.url+"/hooks/github", body, h2)
	accepted(t, resp, got, http.StatusAccepted)
	waitFor(t, "two deliveries", 10*time.Second, func() bool { return a.count() >= 2 })
	time.Sleep(300 * time.Millisecond)
	if n := a.count(); n != 2 {
		t.Fatalf("the app got %d requests, want 2 (the repeat must not be delivered)", n)
	}
}

// When the client cannot reach the local app, the attempt is recorded as
// that, not as the 502 the client answered in the app's place.
func TestUnreachableAppIsRecordedAsSuch(t *testing.T) {
	for _, mode := range []string{"async", "auto"} { // auto: the first attempt is the request's own
		t.Run(mode, func(t *testing.T) { testUnreachableApp(t, mode) })
	}
}

func testUnreachableApp(t *testing.T, mode string) {
	down := newApp(t, func(http.ResponseWriter, *http.Request, []byte) {})
	down.Close() // nothing listens there any more
	srv := startServer(t, "", "--retry-min", "50ms", "--retry-max", "100ms", "--retry-attempts", "2")
	c := startClient(t, t.TempDir(), srv.url, down.URL, "--channel", "away", "--mode", mode)
	c.connected(1)
	q := sendQueued(t, srv.url+"/webhook/away", []byte(`{}`), nil)
	want := `msg="delivery dead: out of attempts" delivery_id=` + q.Deliveries[0]
	waitFor(t, "the delivery to die", 20*time.Second, func() bool { return strings.Contains(srv.stderr(), want) })
	line := srv.stderr()[strings.Index(srv.stderr(), want):]
	line = line[:strings.IndexByte(line, '\n')]
	if !strings.Contains(line, `err="hookrelay client could not reach the local app"`) {
		t.Errorf("the dead delivery's error: %s; want the client's reason", line)
	}
	if strings.Contains(srv.stderr(), "the target answered 502") {
		t.Errorf("an attempt was recorded as the app's 502:\n%s", srv.stderr())
	}
}

// A queued delivery whose app answers with a body larger than what is kept
// of it ends cleanly: the client does not report an error for it.
func TestLargeAnswerToQueuedDelivery(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(big))
	})
	srv := startServer(t, "")
	c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "bigq", "--mode", "async")
	c.connected(1)
	sendQueued(t, srv.url+"/webhook/bigq/job", []byte(`{"job":1}`), nil)
	line, _ := c.waitMatch(func(l string) bool { return strings.Contains(l, "POST /job") }, "the delivery's line", 0, 20*time.Second)
	if !strings.Contains(line, "201") || strings.Contains(line, "(") {
		t.Fatalf("the client's line %q, want 201 and no error", line)
	}
}

// A tunnel delivery cut short by kill -9 of the server is counted: after
// the restart the app gets it again marked attempt 2, not 1 again, and the
// event lists the interrupted attempt.
func TestTunnelAttemptCutShortByACrashIsCounted(t *testing.T) {
	got := make(chan string, 10)
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		got <- r.Header.Get("X-Hookrelay-Attempt")
		if r.Header.Get("X-Hookrelay-Attempt") == "1" {
			select { // the server is killed meanwhile
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			}
		}
	})
	srv := startServer(t, "", "--retry-min", "50ms", "--retry-max", "200ms")
	tokens := t.TempDir()
	c := startClient(t, tokens, srv.url, a.URL, "--channel", "cut", "--mode", "async")
	c.connected(1)
	q := sendQueued(t, srv.url+"/webhook/cut", []byte(`{}`), nil)
	if n := <-got; n != "1" {
		t.Fatalf("first request says attempt %q, want 1", n)
	}
	srv.signal(syscall.SIGKILL)
	srv.wait(10 * time.Second)
	srv2 := startServer(t, srv.data, "--listen", strings.TrimPrefix(srv.url, "http://"), "--retry-min", "50ms", "--retry-max", "200ms")
	select {
	case n := <-got:
		if n != "2" {
			t.Fatalf("after the restart the app got attempt %q, want 2", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the event was not delivered again after the restart")
	}
	waitFor(t, "the delivery recorded", 10*time.Second, func() bool {
		return strings.Contains(srv2.stderr(), "msg=delivered delivery_id="+q.Deliveries[0])
	})
}

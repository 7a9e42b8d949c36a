package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/store"
)

// postQueued posts body to path and wants it stored: 202 with an event id.
func postQueued(t *testing.T, r *rig, path, body string) queued {
	t.Helper()
	resp, err := http.Post(r.url+path, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var q queued
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil || resp.StatusCode != http.StatusAccepted || q.EventID == "" {
		t.Fatalf("POST %s: %d %+v %v", path, resp.StatusCode, q, err)
	}
	return q
}

// In auto mode, an attempt that outlives the sync timeout goes on in the
// background, holding the head of the queue. An app that sends its answer's
// head and then stalls must not hold it past the attempt timeout: the
// queue behind it goes on.
func TestAutoAttemptStalledBodyReleasesQueue(t *testing.T) {
	release := make(chan struct{})
	got := make(chan string, 10)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Path
		if r.URL.Path != "/stall" {
			return
		}
		time.Sleep(300 * time.Millisecond) // past the sync timeout
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("the start of an answer that never ends"))
		w.(http.Flusher).Flush()
		<-release
	}))
	t.Cleanup(app.Close)
	t.Cleanup(func() { close(release) })
	r := newRig(t, app.URL, Config{DefaultMode: store.ModeAuto, SyncTimeout: 100 * time.Millisecond})
	first := postQueued(t, r, "/webhook/bench/stall", "first")
	postQueued(t, r, "/webhook/bench/next", "second")
	timeout := rigPolicy().Timeout
	deadline := time.After(timeout + 5*time.Second)
	for {
		select {
		case p := <-got:
			if p != "/next" {
				continue
			}
			d, err := r.srv.cfg.Events.Deliveries(t.Context(), first.EventID)
			if err != nil || len(d) != 1 || d[0].Attempts != 1 {
				t.Fatalf("the stalled delivery: %+v, %v; want one attempt recorded", d, err)
			}
			return
		case <-deadline:
			t.Fatalf("the queue behind a stalled auto-mode attempt did not go on within %s (attempt timeout %s)", timeout+5*time.Second, timeout)
		}
	}
}

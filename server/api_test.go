package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/delivery"
	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers/builtin"
	"github.com/hookrelay/hookrelay/store"
	"github.com/hookrelay/hookrelay/tunnel"
)

// Tokens of the API rig: the admin's, bench's owner's, other's owner's.
const (
	adminToken = "admin-0123456789abcdefghijklmnopqrstuvwxyz"
	benchToken = "hrt_bench-0123456789abcdefghijklmnopqrstuvwxyz"
	otherToken = "hrt_other-0123456789abcdefghijklmnopqrstuvwxyz"
)

const apiHooksYAML = `sources:
  github: { provider: github, secret: gh-secret }
  gitlab: { provider: gitlab, token: gl-secret-token }
  deploy: { provider: token, header: X-Deploy-Key, secret: deploy-secret-key }
routes:
  - name: pushes
    source: github
    when: event.type == "push"
    to: tunnel:bench
`

// recorder is a local app that keeps what it receives; paths under /fail
// are answered 500 while failing is set.
type recorder struct {
	*httptest.Server
	failing atomic.Bool
	mu      sync.Mutex
	reqs    []recorded
}

type recorded struct {
	path   string
	header http.Header
	body   string
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{r.URL.Path, r.Header.Clone(), string(b)})
		rec.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/fail") && rec.failing.Load() {
			http.Error(w, "failing on purpose", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(rec.Close)
	return rec
}

// waitFor waits until n requests with event id evID arrived and returns them.
func (rec *recorder) waitFor(t *testing.T, evID string, n int) []recorded {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		var got []recorded
		for _, r := range rec.reqs {
			if r.header.Get(delivery.HeaderEventID) == evID {
				got = append(got, r)
			}
		}
		rec.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app got %d requests of event %s within 10s, want %d", len(got), evID, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockedBuffer collects the server's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// apiRig is a server with an admin token, channel bench connected to a
// recorder, channel other claimed but away, and four stored events.
type apiRig struct {
	*rig
	t   *testing.T
	app *recorder
	log *lockedBuffer
	// The seeded events: a /webhook to bench, a push routed to bench, an
	// unrouted issue, and a /webhook to other, which waits.
	webhook, push, issue, away string
}

func newAPIRig(t *testing.T) *apiRig {
	t.Helper()
	rules, err := dispatch.Parse("hooks.yaml", []byte(apiHooksYAML), dispatch.LoadOptions{Providers: builtin.Providers()})
	if err != nil {
		t.Fatal(err)
	}
	app := newRecorder(t)
	logs := &lockedBuffer{}
	cfg := Config{AdminToken: adminToken, DefaultMode: store.ModeAsync, Rules: staticRules{rules},
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	r := &apiRig{rig: newRig(t, app.URL, cfg, func(c *tunnel.ClientConfig) { c.Token = benchToken }), t: t, app: app, log: logs}
	if _, _, err := r.srv.channels.Claim("other", otherToken); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out := logs.String(); strings.Contains(out, adminToken) || strings.Contains(out, benchToken) || strings.Contains(out, otherToken) {
			t.Errorf("a token in the server log:\n%s", out)
		}
	})
	r.webhook = r.send("/webhook/bench/a", nil, "hello")
	push := `{"ref":"refs/heads/main","repository":{"full_name":"o/r"},"sender":{"login":"a"}}`
	r.push = r.send("/hooks/github", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": signGitHub(push)}, push)
	r.issue = r.send("/hooks/github", map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": signGitHub(push)}, push)
	r.away = r.send("/webhook/other/x", nil, "for other")
	app.waitFor(t, r.webhook, 1)
	app.waitFor(t, r.push, 1)
	r.waitStatus(r.webhook, store.Delivered)
	r.waitStatus(r.push, store.Delivered)
	return r
}

// send posts a webhook and returns its event id.
func (r *apiRig) send(path string, header map[string]string, body string) string {
	r.t.Helper()
	req, _ := http.NewRequest("POST", r.url+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var q queued
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil || resp.StatusCode != http.StatusAccepted || q.EventID == "" {
		r.t.Fatalf("POST %s: %d %+v %v", path, resp.StatusCode, q, err)
	}
	return q.EventID
}

// call makes an /api request with token (and channel, in HeaderChannel)
// and decodes a 2xx answer into out.
func (r *apiRig) call(method, path, token, channel string, body any, out any) (int, string) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.url+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if channel != "" {
		req.Header.Set(HeaderChannel, channel)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, tok := range []string{adminToken, benchToken, otherToken} {
		if strings.Contains(string(b), tok) || strings.Contains(resp.Header.Get("WWW-Authenticate"), tok) {
			r.t.Fatalf("%s %s: a token in the answer: %s", method, path, b)
		}
	}
	if resp.StatusCode >= 400 {
		var e map[string]string
		if json.Unmarshal(b, &e) != nil || e["error"] == "" {
			r.t.Fatalf("%s %s: %d is not a JSON error: %s", method, path, resp.StatusCode, b)
		}
	} else if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			r.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

// show returns an event as the admin sees it.
func (r *apiRig) show(id string) EventDetail {
	r.t.Helper()
	var d EventDetail
	if code, b := r.call("GET", "/api/events/"+id, adminToken, "", nil, &d); code != http.StatusOK {
		r.t.Fatalf("show %s: %d %s", id, code, b)
	}
	return d
}

// waitStatus waits until every delivery of event id has status.
func (r *apiRig) waitStatus(id, status string) EventDetail {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := r.show(id)
		done := len(d.Deliveries) > 0
		for _, dd := range d.Deliveries {
			done = done && dd.Status == status
		}
		if done {
			return d
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("event %s: deliveries %+v, want all %s", id, d.Deliveries, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAPIAuth(t *testing.T) {
	r := newAPIRig(t)
	d := r.show(r.webhook)
	otherDelivery := r.show(r.away).Deliveries[0].ID
	tests := []struct {
		name, method, path, token, channel string
		body                               any
		want                               int
	}{
		{"no token", "GET", "/api/events", "", "", nil, http.StatusUnauthorized},
		{"bad token", "GET", "/api/events", "nope-" + adminToken, "", nil, http.StatusUnauthorized},
		{"bad token for a channel", "GET", "/api/events", otherToken, "bench", nil, http.StatusUnauthorized},
		{"channel token without its channel", "GET", "/api/events", benchToken, "", nil, http.StatusUnauthorized},
		{"token for an unknown channel", "GET", "/api/events", benchToken, "nobody", nil, http.StatusUnauthorized},
		{"admin lists", "GET", "/api/events", adminToken, "", nil, http.StatusOK},
		{"owner lists", "GET", "/api/events", benchToken, "bench", nil, http.StatusOK},
		{"owner lists another channel", "GET", "/api/events?channel=other", benchToken, "bench", nil, http.StatusForbidden},
		{"admin shows", "GET", "/api/events/" + r.away, adminToken, "", nil, http.StatusOK},
		{"owner shows", "GET", "/api/events/" + r.webhook, benchToken, "bench", nil, http.StatusOK},
		{"owner shows an event routed to it", "GET", "/api/events/" + r.push, benchToken, "bench", nil, http.StatusOK},
		{"other's owner shows bench's event", "GET", "/api/events/" + r.webhook, otherToken, "other", nil, http.StatusForbidden},
		{"owner shows an unrouted event", "GET", "/api/events/" + r.issue, benchToken, "bench", nil, http.StatusForbidden},
		{"admin shows an unknown event", "GET", "/api/events/0190aaaa-0000-7000-8000-000000000000", adminToken, "", nil, http.StatusNotFound},
		{"owner shows an unknown event", "GET", "/api/events/0190aaaa-0000-7000-8000-000000000000", benchToken, "bench", nil, http.StatusNotFound},
		{"no token replays", "POST", "/api/events/" + r.webhook + "/replay", "", "", nil, http.StatusUnauthorized},
		{"other's owner replays bench's event", "POST", "/api/events/" + r.webhook + "/replay", otherToken, "other", nil, http.StatusForbidden},
		{"owner replays to another channel", "POST", "/api/events/" + r.webhook + "/replay", benchToken, "bench", ReplayRequest{To: "tunnel:other"}, http.StatusForbidden},
		{"owner replays an unknown event", "POST", "/api/events/0190aaaa-0000-7000-8000-000000000000/replay", benchToken, "bench", nil, http.StatusNotFound},
		{"owner retries another channel's delivery", "POST", "/api/deliveries/" + otherDelivery + "/retry", benchToken, "bench", nil, http.StatusForbidden},
		{"owner retries an unknown delivery", "POST", "/api/deliveries/nope/retry", benchToken, "bench", nil, http.StatusNotFound},
		{"owner retries a delivered delivery", "POST", "/api/deliveries/" + d.Deliveries[0].ID + "/retry", benchToken, "bench", nil, http.StatusConflict},
		{"bad token lists channels", "GET", "/api/channels", benchToken, "other", nil, http.StatusUnauthorized},
		{"owner lists channels", "GET", "/api/channels", otherToken, "other", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			if code, b := r.call(tt.method, tt.path, tt.token, tt.channel, tt.body, nil); code != tt.want {
				t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.path, code, b, tt.want)
			}
		})
	}
	r.t = t
	// A Basic header is no bearer token.
	req, _ := http.NewRequest("GET", r.url+"/api/events", nil)
	req.SetBasicAuth("admin", adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("basic auth: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// Without an admin token nothing is an admin's, the empty token least of all.
func TestAPINoAdminToken(t *testing.T) {
	a := &api{}
	for _, tok := range []string{"", "x", adminToken} {
		if a.isAdmin(tok) {
			t.Fatalf("isAdmin(%q) with no admin token", tok)
		}
	}
	tests := []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer  abc ", "abc", true},
		{"Bearer ", "", false},
		{"Basic YWRtaW46eA==", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if tok, ok := bearer(tt.header); tok != tt.token || ok != tt.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", tt.header, tok, ok, tt.token, tt.ok)
		}
	}
}

func TestAPIListEvents(t *testing.T) {
	r := newAPIRig(t)
	list := func(query, token, channel string) EventList {
		t.Helper()
		var l EventList
		if code, b := r.call("GET", "/api/events?"+query, token, channel, nil, &l); code != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, code, b)
		}
		return l
	}
	ids := func(l EventList) []string {
		var out []string
		for _, e := range l.Events {
			out = append(out, e.ID)
		}
		return out
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	tests := []struct {
		name, query, token, channel string
		want                        []string // newest first
	}{
		{"all", "", adminToken, "", []string{r.away, r.issue, r.push, r.webhook}},
		{"by source", "source=github", adminToken, "", []string{r.issue, r.push}},
		{"by type", "type=push", adminToken, "", []string{r.push}},
		{"by channel: its requests and what was routed to it", "channel=bench", adminToken, "", []string{r.push, r.webhook}},
		{"unrouted", "status=unrouted", adminToken, "", []string{r.issue}},
		{"pending", "status=pending", adminToken, "", []string{r.away}},
		{"delivered to bench", "status=delivered&channel=bench", adminToken, "", []string{r.push, r.webhook}},
		{"since an hour ahead", "since=" + future, adminToken, "", nil},
		{"until an hour ahead", "until=" + future + "&source=github", adminToken, "", []string{r.issue, r.push}},
		{"owner: its channel only", "", benchToken, "bench", []string{r.push, r.webhook}},
		{"owner naming its channel", "channel=bench&type=push", benchToken, "bench", []string{r.push}},
		{"other's owner", "", otherToken, "other", []string{r.away}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			l := list(tt.query, tt.token, tt.channel)
			if got := ids(l); !slices.Equal(got, tt.want) || l.Next != "" {
				t.Fatalf("got %v (next %q), want %v", got, l.Next, tt.want)
			}
		})
	}
	r.t = t

	// Pages of one, followed through next, give every event once, in order.
	var all []string
	before := ""
	for range 10 {
		l := list("limit=1&before="+before, adminToken, "")
		all = append(all, ids(l)...)
		if l.Next == "" {
			break
		}
		before = l.Next
	}
	if want := []string{r.away, r.issue, r.push, r.webhook}; !slices.Equal(all, want) {
		t.Fatalf("paged: %v, want %v", all, want)
	}
	l := list("limit=2", adminToken, "")
	if len(l.Events) != 2 || l.Next != r.issue {
		t.Fatalf("limit=2: %v next %q", ids(l), l.Next)
	}

	// What a listing shows: status, targets, no body; an owner sees only
	// its own targets.
	l = list("channel=bench", adminToken, "")
	if e := l.Events[0]; e.Status != store.Delivered || !slices.Equal(e.Targets, []string{"tunnel:bench"}) || e.Deliveries != 1 ||
		e.Source != "github" || e.Type != "push" || e.Body != nil {
		t.Fatalf("push summary: %+v", e)
	}
	if e := l.Events[1]; e.Channel != "bench" || e.Method != "POST" || e.Target != "/a" {
		t.Fatalf("webhook summary: %+v", e)
	}

	for _, q := range []string{"since=yesterday", "until=2026-01-02", "limit=0", "limit=501", "limit=x", "status=lost"} {
		if code, b := r.call("GET", "/api/events?"+q, adminToken, "", nil, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, code, b)
		}
	}
}

func TestAPIShowEvent(t *testing.T) {
	r := newAPIRig(t)
	var d EventDetail
	if code, b := r.call("GET", "/api/events/"+r.webhook, benchToken, "bench", nil, &d); code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	if d.Event.ID != r.webhook || string(d.Event.Body) != "hello" || d.Event.Channel != "bench" || d.Event.Method != "POST" {
		t.Fatalf("event %+v", d.Event)
	}
	if len(d.Deliveries) != 1 {
		t.Fatalf("deliveries %+v", d.Deliveries)
	}
	dd := d.Deliveries[0]
	if dd.Status != store.Delivered || dd.Target != "tunnel:bench" || len(dd.Attempts) != 1 ||
		dd.Attempts[0].Outcome != store.OutcomeDelivered || dd.Attempts[0].Status != http.StatusOK {
		t.Fatalf("delivery %+v", dd)
	}
	// The JSON names the list of attempts "attempts".
	_, raw := r.call("GET", "/api/events/"+r.webhook, adminToken, "", nil, nil)
	if !strings.Contains(raw, `"attempts":[{"n":1`) || !strings.Contains(raw, `"body":"aGVsbG8="`) {
		t.Fatalf("raw answer: %s", raw)
	}
	// A queued event has a pending delivery and no attempts yet.
	d = r.show(r.away)
	if len(d.Deliveries) != 1 || d.Deliveries[0].Status != store.Pending || d.Deliveries[0].Attempts == nil {
		t.Fatalf("away: %+v", d.Deliveries)
	}
}

func TestAPIReplay(t *testing.T) {
	r := newAPIRig(t)
	first := r.app.waitFor(t, r.webhook, 1)[0]

	// The same event again, as the channel's owner: a new delivery.
	var res ReplayResult
	if code, b := r.call("POST", "/api/events/"+r.webhook+"/replay", benchToken, "bench", nil, &res); code != http.StatusAccepted {
		t.Fatalf("replay: %d %s", code, b)
	}
	if res.EventID != r.webhook || len(res.Deliveries) != 1 || res.EditedFrom != "" {
		t.Fatalf("replay answer %+v", res)
	}
	got := r.app.waitFor(t, r.webhook, 2)[1]
	if got.body != "hello" || got.path != "/a" || got.header.Get(delivery.HeaderDeliveryID) != res.Deliveries[0] ||
		got.header.Get(delivery.HeaderDeliveryID) == first.header.Get(delivery.HeaderDeliveryID) || got.header.Get(delivery.HeaderEdited) != "" {
		t.Fatalf("replayed request %+v (first %+v)", got, first)
	}
	d := r.waitStatus(r.webhook, store.Delivered)
	if len(d.Deliveries) != 2 || d.Deliveries[1].ID != res.Deliveries[0] {
		t.Fatalf("deliveries after the replay %+v", d.Deliveries)
	}
	var l EventList
	r.call("GET", "/api/events?channel=bench&until="+url.QueryEscape(d.Event.ReceivedAt.Add(time.Nanosecond).Format(time.RFC3339Nano)), adminToken, "", nil, &l)
	if len(l.Events) != 1 || l.Events[0].ID != r.webhook || l.Events[0].Deliveries != 2 || !slices.Equal(l.Events[0].Targets, []string{"tunnel:bench"}) {
		t.Fatalf("listed after the replay: %+v", l.Events)
	}

	// A routed event keeps its route.
	if code, b := r.call("POST", "/api/events/"+r.push+"/replay", adminToken, "", ReplayRequest{}, &res); code != http.StatusAccepted {
		t.Fatalf("replay push: %d %s", code, b)
	}
	if got := r.app.waitFor(t, r.push, 2)[1]; got.header.Get(delivery.HeaderRoute) != "pushes" {
		t.Fatalf("replayed push: route %q", got.header.Get(delivery.HeaderRoute))
	}

	// Edited, by the admin: a new event recording the original.
	edited := []byte("edited")
	if code, b := r.call("POST", "/api/events/"+r.webhook+"/replay", adminToken, "", ReplayRequest{To: "tunnel:bench", Body: &edited}, &res); code != http.StatusAccepted {
		t.Fatalf("edited replay: %d %s", code, b)
	}
	if res.EventID == r.webhook || res.EditedFrom != r.webhook || len(res.Deliveries) != 1 {
		t.Fatalf("edited replay answer %+v", res)
	}
	got = r.app.waitFor(t, res.EventID, 1)[0]
	if got.body != "edited" || got.path != "/a" || got.header.Get(delivery.HeaderEdited) != r.webhook {
		t.Fatalf("edited request %+v", got)
	}
	d = r.waitStatus(res.EventID, store.Delivered)
	if d.Event.EditedFrom != r.webhook || d.Event.Channel != "bench" || d.Event.DedupKey != "" || string(d.Event.Body) != "edited" ||
		d.Event.Header.Get("Content-Length") != "6" {
		t.Fatalf("edited event %+v", d.Event)
	}

	// An edited copy of a routed event keeps its source, type and route.
	if code, b := r.call("POST", "/api/events/"+r.push+"/replay", benchToken, "bench", ReplayRequest{Body: &edited}, &res); code != http.StatusAccepted {
		t.Fatalf("edited push: %d %s", code, b)
	}
	got = r.app.waitFor(t, res.EventID, 1)[0]
	if got.body != "edited" || got.header.Get(delivery.HeaderRoute) != "pushes" || got.header.Get("X-GitHub-Event") != "push" {
		t.Fatalf("edited push request %+v", got)
	}
	if ev := r.show(res.EventID).Event; ev.Source != "github" || ev.Type != "push" || ev.EditedFrom != r.push {
		t.Fatalf("edited push event %+v", ev)
	}

	// Refusals: nowhere to go, a bad target, a bad body.
	tests := []struct {
		name, id string
		body     any
		want     int
	}{
		{"unrouted, no target", r.issue, nil, http.StatusConflict},
		{"not a tunnel", r.webhook, ReplayRequest{To: "plugin:x"}, http.StatusBadRequest},
		{"unknown channel", r.webhook, ReplayRequest{To: "tunnel:nobody"}, http.StatusBadRequest},
		{"unknown field", r.webhook, map[string]string{"target": "tunnel:bench"}, http.StatusBadRequest},
		{"body not base64", r.webhook, map[string]string{"body": "%%%"}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			if code, b := r.call("POST", "/api/events/"+tt.id+"/replay", adminToken, "", tt.body, nil); code != tt.want {
				t.Fatalf("%d %s, want %d", code, b, tt.want)
			}
		})
	}
	r.t = t
	// The unrouted event goes where it is told.
	if code, b := r.call("POST", "/api/events/"+r.issue+"/replay", adminToken, "", ReplayRequest{To: "tunnel:bench"}, &res); code != http.StatusAccepted {
		t.Fatalf("replay unrouted: %d %s", code, b)
	}
	if got := r.app.waitFor(t, r.issue, 1)[0]; got.header.Get(delivery.HeaderRoute) != "" {
		t.Fatalf("a hand-picked target has no route: %+v", got)
	}
	// A hand-picked target does not become one of the event's own: a
	// plain replay goes where its routes sent it, and nowhere for one
	// that no route took.
	if code, b := r.call("POST", "/api/events/"+r.push+"/replay", adminToken, "", ReplayRequest{To: "tunnel:other"}, &res); code != http.StatusAccepted {
		t.Fatalf("replay to other: %d %s", code, b)
	}
	if code, b := r.call("POST", "/api/events/"+r.push+"/replay", adminToken, "", ReplayRequest{}, &res); code != http.StatusAccepted || len(res.Deliveries) != 1 {
		t.Fatalf("plain replay after a hand-picked one: %d %s, want one delivery, to its route's target", code, b)
	}
	if code, b := r.call("POST", "/api/events/"+r.issue+"/replay", adminToken, "", ReplayRequest{}, nil); code != http.StatusConflict {
		t.Fatalf("plain replay of an unrouted event replayed by hand: %d %s, want 409", code, b)
	}
}

func TestAPIRetryDeadDelivery(t *testing.T) {
	r := newAPIRig(t)
	r.app.failing.Store(true)
	id := r.send("/webhook/bench/fail", nil, "doomed")
	d := r.waitStatus(id, store.Dead)
	dead := d.Deliveries[0]
	if n := rigPolicy().MaxAttempts; len(dead.Attempts) != n || dead.LastStatus != http.StatusInternalServerError {
		t.Fatalf("dead delivery %+v, want %d attempts answered 500", dead, n)
	}
	var l EventList
	r.call("GET", "/api/events?status=dead", benchToken, "bench", nil, &l)
	if len(l.Events) != 1 || l.Events[0].ID != id {
		t.Fatalf("dead events %+v", l.Events)
	}

	r.app.failing.Store(false)
	var res RetryResult
	if code, b := r.call("POST", "/api/deliveries/"+dead.ID+"/retry", benchToken, "bench", nil, &res); code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", code, b)
	}
	if res.Delivery.ID != dead.ID || res.Delivery.Status != store.Pending {
		t.Fatalf("retry answer %+v", res.Delivery)
	}
	got := r.app.waitFor(t, id, rigPolicy().MaxAttempts+1)
	last := got[len(got)-1]
	if last.header.Get(delivery.HeaderDeliveryID) != dead.ID || last.body != "doomed" {
		t.Fatalf("retried request %+v", last)
	}
	d = r.waitStatus(id, store.Delivered)
	if dd := d.Deliveries[0]; len(dd.Attempts) != rigPolicy().MaxAttempts+1 || dd.Attempts[len(dd.Attempts)-1].Status != http.StatusOK {
		t.Fatalf("after the retry %+v", dd)
	}
}

func TestAPIChannels(t *testing.T) {
	r := newAPIRig(t)
	var l ChannelList
	if code, b := r.call("GET", "/api/channels", adminToken, "", nil, &l); code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	if len(l.Channels) != 2 {
		t.Fatalf("channels %+v", l.Channels)
	}
	bench, other := l.Channels[0], l.Channels[1]
	if bench.Name != "bench" || !bench.Connected || bench.Queued.Events != 0 || bench.Mode != store.ModeAsync {
		t.Fatalf("bench %+v", bench)
	}
	if other.Name != "other" || other.Connected || other.Queued.Events != 1 || other.Queued.Bytes <= 0 {
		t.Fatalf("other %+v", other)
	}
	if code, b := r.call("GET", "/api/channels", benchToken, "bench", nil, &l); code != http.StatusOK || len(l.Channels) != 1 || l.Channels[0].Name != "bench" {
		t.Fatalf("owner: %d %s", code, b)
	}
}

// DELETE /api/channels/{name}: the admin or the channel's own token
// releases it; another channel's token is refused; the name is free after.
func TestAPIReleaseChannel(t *testing.T) {
	r := newAPIRig(t)
	tests := []struct {
		name, path, token, channel string
		want                       int
	}{
		{"another channel's token", "/api/channels/other", benchToken, "bench", http.StatusForbidden},
		{"no token", "/api/channels/other", "", "", http.StatusUnauthorized},
		{"unknown channel", "/api/channels/nobody", adminToken, "", http.StatusNotFound},
		{"its own token, while away", "/api/channels/other", otherToken, "other", http.StatusOK},
		{"released already", "/api/channels/other", adminToken, "", http.StatusNotFound},
		{"the admin, while connected", "/api/channels/bench", adminToken, "", http.StatusOK},
	}
	for _, tt := range tests {
		var out ChannelReleased
		code, b := r.call("DELETE", tt.path, tt.token, tt.channel, nil, &out)
		if code != tt.want {
			t.Fatalf("%s: %d %s, want %d", tt.name, code, b, tt.want)
		}
		if tt.want != http.StatusOK {
			continue
		}
		name := strings.TrimPrefix(tt.path, "/api/channels/")
		if out.Name != name || out.Disconnected != (name == "bench") || (name == "other" && out.Queued.Events != 1) {
			t.Errorf("%s: %+v", tt.name, out)
		}
		if r.srv.channels.Exists(name) {
			t.Errorf("%s: channel %s still registered", tt.name, name)
		}
	}
	if r.srv.hub.Connected("bench") {
		t.Error("bench's client is still attached after its release")
	}
	if _, _, err := r.srv.channels.Claim("other", benchToken); err != nil {
		t.Errorf("claiming the released name with a new token: %v", err)
	}
}

// The inspection API shows a source's credentials as [redacted], as
// plugins see them: the GitLab token and a token source's own header
// would let whoever reads them forge deliveries. The store keeps them.
func TestAPIRedactsCredentials(t *testing.T) {
	r := newAPIRig(t)
	gl := r.send("/hooks/gitlab", map[string]string{"X-Gitlab-Token": "gl-secret-token", "X-Gitlab-Event": "Push Hook", "Content-Type": "application/json"}, `{"object_kind":"push"}`)
	dep := r.send("/hooks/deploy", map[string]string{"X-Deploy-Key": "deploy-secret-key", "Authorization": "Bearer bearer-secret", "Content-Type": "application/json"}, `{"x":1}`)
	secrets := []string{"gl-secret-token", "deploy-secret-key", "bearer-secret"}
	check := func(what string, b string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(b, sec) {
				t.Errorf("%s shows %s:\n%s", what, sec, b)
			}
		}
	}
	var l EventList
	code, b := r.call("GET", "/api/events?limit=50", adminToken, "", nil, &l)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	check("GET /api/events", b)
	for _, id := range []string{gl, dep} {
		var d EventDetail
		code, b := r.call("GET", "/api/events/"+id, adminToken, "", nil, &d)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, b)
		}
		check("GET /api/events/"+id, b)
		if d.Event.Header.Get("Content-Type") != "application/json" {
			t.Errorf("event %s: other headers lost: %v", id, d.Event.Header)
		}
	}
	var d EventDetail
	r.call("GET", "/api/events/"+dep, adminToken, "", nil, &d)
	if d.Event.Header.Get("X-Deploy-Key") != "[redacted]" || d.Event.Header.Get("Authorization") != "[redacted]" {
		t.Errorf("deploy event's header %v, want its key and authorization [redacted]", d.Event.Header)
	}
	// An edited copy of the deploy event hides the same headers.
	edited := []byte(`{"x":2}`)
	var res ReplayResult
	if code, b := r.call("POST", "/api/events/"+dep+"/replay", adminToken, "", ReplayRequest{To: "tunnel:bench", Body: &edited}, &res); code != http.StatusAccepted {
		t.Fatalf("edited replay: %d %s", code, b)
	}
	code, b = r.call("GET", "/api/events/"+res.EventID, adminToken, "", nil, nil)
	check("GET /api/events/ of an edited copy", b)
	code, b = r.call("GET", "/api/events?limit=50", adminToken, "", nil, nil)
	check("GET /api/events after an edited copy", b)
	stored, err := r.srv.cfg.Events.Event(t.Context(), gl)
	if err != nil || stored.Header.Get("X-Gitlab-Token") != "gl-secret-token" {
		t.Errorf("the store lost the token it replays with: %v %v", stored, err)
	}
}

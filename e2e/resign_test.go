package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const stripeSecret = "whsec_e2e_resign"

// stripeSign is a Stripe-Signature header for body signed at t.
func stripeSign(body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(stripeSecret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// stripeApp checks the Stripe signature and its age itself, as Stripe's
// libraries do, with a tolerance of tol.
func stripeApp(t *testing.T, tol time.Duration) *app {
	return newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var ts, v1 string
		for item := range strings.SplitSeq(r.Header.Get("Stripe-Signature"), ",") {
			k, v, _ := strings.Cut(item, "=")
			switch k {
			case "t":
				ts = v
			case "v1":
				v1 = v
			}
		}
		sec, _ := strconv.ParseInt(ts, 10, 64)
		mac := hmac.New(sha256.New, []byte(stripeSecret))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		switch {
		case !hmac.Equal([]byte(v1), []byte(hex.EncodeToString(mac.Sum(nil)))):
			http.Error(w, "bad signature", http.StatusBadRequest)
		case time.Since(time.Unix(sec, 0)) > tol:
			http.Error(w, "stale signature", http.StatusBadRequest)
		}
	})
}

// A Stripe event kept while the client was away until its signature is
// too old for the app's own check is re-signed when it is delivered, so
// that the check passes; a fresh one goes out as Stripe signed it.
func TestStaleStripeEventIsResignedForTheApp(t *testing.T) {
	a := stripeApp(t, 290*time.Second) // a little stricter than Stripe's five minutes
	dir := t.TempDir()
	config := filepath.Join(dir, "hooks.yaml")
	y := fmt.Sprintf(`sources:
  stripe: { provider: stripe, secret: %q }
routes:
  - name: payments
    source: stripe
    when: event.type == "payment_intent.succeeded"
    to: tunnel:pay
`, stripeSecret)
	if err := os.WriteFile(config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "", "--config", config)
	tokens := t.TempDir()
	claim(t, srv, tokens, a.URL, "pay") // the channel exists; its client is away

	// Signed 295 s ago: within hookrelay's five minutes, so accepted, but
	// too old for the app by the time its client is back.
	body := []byte(`{"id":"evt_1","type":"payment_intent.succeeded"}`)
	h := http.Header{"Content-Type": {"application/json"}, "Stripe-Signature": {stripeSign(body, time.Now().Add(-295*time.Second))}}
	resp, got := send(t, "POST", srv.url+"/hooks/stripe", body, h)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("stripe delivery: %d %s, want 202", resp.StatusCode, got)
	}

	c := startClient(t, tokens, srv.url, a.URL, "--channel", "pay")
	c.connected(1)
	waitFor(t, "the event delivered", 20*time.Second, func() bool { return a.count() >= 1 })
	c.waitLine("POST /  200", 0, 10*time.Second) // not 400 from the app's check

	fresh := []byte(`{"id":"evt_2","type":"payment_intent.succeeded"}`)
	sig := stripeSign(fresh, time.Now())
	h = http.Header{"Content-Type": {"application/json"}, "Stripe-Signature": {sig}}
	if resp, got := send(t, "POST", srv.url+"/hooks/stripe", fresh, h); resp.StatusCode/100 != 2 {
		t.Fatalf("fresh stripe delivery: %d %s", resp.StatusCode, got)
	}
	waitFor(t, "the fresh event delivered", 20*time.Second, func() bool { return a.count() >= 2 })
	if got := a.last(t).Header.Get("Stripe-Signature"); got != sig {
		t.Errorf("a fresh event reached the app signed %q, want Stripe's own %q", got, sig)
	}
}

// match on a capture whose signed timestamp is old says how to verify it
// as of when it was sent, and --at does.
func TestMatchSuggestsAtForAStaleCapture(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "hooks.yaml")
	y := fmt.Sprintf("sources:\n  stripe: { provider: stripe, secret: %q }\nroutes:\n  - { name: pay, when: 'event.type == \"charge.succeeded\"', to: tunnel:pay }\n", stripeSecret)
	if err := os.WriteFile(config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	sent := time.Now().Add(-time.Hour).Truncate(time.Second)
	body := `{"id":"evt_1","type":"charge.succeeded"}`
	raw := "POST /hooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nStripe-Signature: " +
		stripeSign([]byte(body), sent) + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	capture := filepath.Join(dir, "evt.http")
	if err := os.WriteFile(capture, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "match", "--config", config, "--source", "stripe", capture)
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "--at TIME") {
		t.Fatalf("match on an hour-old capture: exit %d, %s; want 1 and a hint of --at", cmd.ProcessState.ExitCode(), out)
	}
	out, err := exec.Command(binary, "match", "--config", config, "--source", "stripe", "--at", strconv.FormatInt(sent.Unix(), 10), capture).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "pay -> tunnel:pay") {
		t.Fatalf("match --at: %v, %s", err, out)
	}
}

// events list --key finds a Stripe event by its evt_ id.
func TestEventsListByVendorKey(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "hooks.yaml")
	y := fmt.Sprintf("sources:\n  stripe: { provider: stripe, secret: %q }\nroutes: []\n", stripeSecret)
	if err := os.WriteFile(config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "", "--config", config, "--admin-token", e2eAdminToken)
	var ids []string
	for _, evt := range []string{"evt_aaa", "evt_bbb"} {
		body := []byte(`{"id":"` + evt + `","type":"charge.succeeded"}`)
		h := http.Header{"Content-Type": {"application/json"}, "Stripe-Signature": {stripeSign(body, time.Now())}}
		resp, got := send(t, "POST", srv.url+"/hooks/stripe", body, h)
		id, _ := accepted(t, resp, got, http.StatusAccepted) // unrouted, stored
		ids = append(ids, id)
	}
	out, errOut, code := cli(t, nil, "events", "list", "--key", "evt_bbb", "--server", srv.url, "--admin-token", e2eAdminToken)
	if code != 0 || !strings.Contains(out, ids[1]) || strings.Contains(out, ids[0]) {
		t.Fatalf("events list --key evt_bbb: exit %d, want only %s:\n%s%s", code, ids[1], out, errOut)
	}
	// Its normalised view holds what rules saw: payload and headers.
	out, errOut, code = cli(t, nil, "events", "show", ids[1], "--json", "--server", srv.url, "--admin-token", e2eAdminToken)
	var d struct {
		Event struct {
			Normalized struct {
				Type    string            `json:"type"`
				Headers map[string]string `json:"headers"`
				Payload map[string]any    `json:"payload"`
			} `json:"normalized"`
		} `json:"event"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil {
		t.Fatalf("events show --json: exit %d, %s%s", code, out, errOut)
	}
	if n := d.Event.Normalized; n.Type != "charge.succeeded" || n.Payload["id"] != "evt_bbb" || n.Headers["Stripe-Signature"] == "" {
		t.Errorf("normalised view: %+v; want the type, the payload and the headers rules saw", n)
	}
}

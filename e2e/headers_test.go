package e2e

import (
	"net/http"
	"testing"
	"time"
)

// hookrelay's delivery headers reach the app only as hookrelay set them,
// in every mode: an app dedupes on X-Hookrelay-Delivery-Id, so a sender
// must not be able to choose it.
func TestSendersCannotSetDeliveryHeaders(t *testing.T) {
	spoofed := http.Header{
		"X-Hookrelay-Event-Id":    {"fake-event"},
		"X-Hookrelay-Delivery-Id": {"fake-delivery"},
		"X-Hookrelay-Attempt":     {"99"},
		"X-Hookrelay-Route":       {"fake-route"},
		"X-Hookrelay-Edited-From": {"fake-edit"},
		"Content-Type":            {"application/json"},
	}
	for _, mode := range []string{"sync", "auto", "async"} {
		t.Run(mode, func(t *testing.T) {
			a := echoApp(t)
			srv := startServer(t, "")
			c := startClient(t, t.TempDir(), srv.url, a.URL, "--channel", "app", "--mode", mode)
			c.connected(1)
			resp, b := send(t, "POST", srv.url+"/webhook/app/in", []byte(`{"a":1}`), spoofed)
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			waitFor(t, "the app's request", 20*time.Second, func() bool { return a.count() == 1 })
			got := a.last(t).Header
			for k, v := range spoofed {
				if k != "Content-Type" && got.Get(k) == v[0] {
					t.Errorf("the app got the sender's %s: %q", k, v[0])
				}
			}
			if mode != "sync" && (got.Get("X-Hookrelay-Delivery-Id") == "" || got.Get("X-Hookrelay-Attempt") != "1") {
				t.Errorf("hookrelay's own delivery headers are missing: %v", got)
			}
		})
	}
}

package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"

	"github.com/google/uuid"
	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/providers/builtin"
)

// BenchmarkForward compares a request through the tunnel (server, WebSocket,
// client, local app) with the same request sent straight to the local app,
// in one run: read the ratio of the two, not the absolute times. The
// process-level comparison with peak RSS is bench/tunnel.sh.
func BenchmarkForward(b *testing.B) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(body)
	}))
	defer app.Close()
	mode := os.Getenv("HOOKRELAY_BENCH_MODE") // sync (the rig's default) or auto
	r := newRig(b, app.URL, Config{DefaultMode: mode})
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		for _, conc := range []int{1, 16} {
			for _, mode := range []string{"direct", "tunnel"} {
				url := app.URL + "/echo"
				if mode == "tunnel" {
					url = r.url + "/webhook/bench/echo"
				}
				b.Run(fmt.Sprintf("%s/size=%dKiB/c=%d", mode, size>>10, conc), func(b *testing.B) {
					benchPost(b, url, size, conc)
				})
			}
		}
	}
}

func benchPost(b *testing.B, url string, size, conc int) {
	body := bytes.Repeat([]byte("x"), size)
	tr := &http.Transport{MaxIdleConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.SetBytes(int64(size))
	b.SetParallelism(max(1, conc/max(1, testingProcs())))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 64<<10)
		for pb.Next() {
			resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			n, err := io.CopyBuffer(io.Discard, resp.Body, buf)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || n != int64(size) {
				b.Errorf("status %d, %d of %d bytes, err %v", resp.StatusCode, n, size, err)
				return
			}
		}
	})
}

// testingProcs is GOMAXPROCS, the goroutines per parallelism unit of RunParallel.
func testingProcs() int { return runtime.GOMAXPROCS(0) }

// BenchmarkHooksDurable posts signed GitHub pushes to /hooks/github, each
// stored durably before its 202, at concurrency 16, while the client drains
// the queue. bench/hooks.sh is the process-level run with fsync on and off.
func BenchmarkHooksDurable(b *testing.B) {
	cfg, err := dispatch.Parse("hooks.yaml", []byte(`sources:
  github: { provider: github, secret: gh-secret }
routes:
  - name: pushes
    when: event.type == "push"
    to: tunnel:bench
`), dispatch.LoadOptions{Providers: builtin.Providers()})
	if err != nil {
		b.Fatal(err)
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer app.Close()
	r := newRig(b, app.URL, Config{Rules: staticRules{cfg}})
	raw, err := os.ReadFile("../providers/github/testdata/push.http")
	if err != nil {
		b.Fatal(err)
	}
	body := raw[bytes.Index(raw, []byte("\r\n\r\n"))+4:]
	sig := signGitHub(string(body))
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.SetParallelism(max(1, 16/testingProcs()))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", r.url+"/hooks/github", bytes.NewReader(body))
			req.Header = http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"push"}, "X-Github-Hook-Id": {"1"},
				"X-Github-Delivery": {uuid.NewString()}, "X-Hub-Signature-256": {sig}}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

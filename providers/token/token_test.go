package token

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// The token of testdata/README, and a wrong one.
const (
	testSecret  providers.Secret = "hookrelay-token-testdata-secret"
	wrongSecret providers.Secret = "not-the-token"
)

// delivery is one testdata file: the sender it imitates, the header option
// a source needs for it, and what it normalises to.
type delivery struct {
	name        string // testdata/<name>.http
	source      string // testdata/payloads/<source>; JSON is compacted
	header      string // the header option; empty: Authorization
	value       string // the header value, with %s for the token
	contentType string
	extra       http.Header // the sender's other headers
	want        providertest.Fields
	payload     string // "json" or "form"
}

func (d delivery) authHeader() string {
	if d.header == "" {
		return DefaultHeader
	}
	return d.header
}

func deliveries() []delivery {
	return []delivery{
		{
			// Alertmanager with http_config.authorization (type Bearer).
			name: "alertmanager_firing", source: "alertmanager_firing.json", value: "Bearer %s", contentType: "application/json",
			extra:   http.Header{"User-Agent": {"Alertmanager/0.28.1"}},
			payload: "json",
		},
		{
			// Grafana alerting's webhook contact point with a custom header,
			// through an ingress that adds X-Request-Id.
			name: "grafana_alerting", source: "grafana_alerting.json", header: "X-Webhook-Token", value: "%s", contentType: "application/json",
			extra:   http.Header{"User-Agent": {"Grafana"}, "X-Request-Id": {"5d0c8f7e2b1a4e93a6c7d8e9f0a1b2c3"}},
			want:    providertest.Fields{DeliveryID: "5d0c8f7e2b1a4e93a6c7d8e9f0a1b2c3"},
			payload: "json",
		},
		{
			// A job runner posting a form with the bare token in
			// Authorization and an idempotency key.
			name: "job_failed", source: "job_failed.form", value: "%s", contentType: "application/x-www-form-urlencoded",
			extra:   http.Header{"User-Agent": {"jobrunner/1.8.0"}, "Idempotency-Key": {"nightly-backup-2025-03-14-db-03"}},
			want:    providertest.Fields{DeliveryID: "nightly-backup-2025-03-14-db-03", DedupKey: "nightly-backup-2025-03-14-db-03"},
			payload: "form",
		},
	}
}

func (d delivery) options(secrets ...providers.Secret) providers.Options {
	return providers.Options{Secrets: secrets, Header: d.header}
}

// File implements providertest.Fixture.
func (d delivery) File() string { return d.name + ".http" }

// Want is what d normalises to, for providertest.Golden.
func (d delivery) Want() providertest.Fields { return d.want }

// Render builds the raw request of d from its payload, with its token.
func (d delivery) Render(t testing.TB) []byte {
	t.Helper()
	body := providertest.Payload(t, d.source)
	h := d.extra.Clone()
	h.Set("Host", "hooks.example.com")
	h.Set("Content-Type", d.contentType)
	h.Set(d.authHeader(), strings.ReplaceAll(d.value, "%s", string(testSecret)))
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/alice/" + d.name, Header: h, Body: body})
}

// testCase describes the provider and its testdata to providertest. A
// token does not cover the body, so a changed body still passes: that is
// the limit of this provider, stated in its README. Each file needs the
// header option of the sender it imitates.
func testCase() providertest.Case {
	byFile := providertest.ByFile(deliveries())
	return providertest.Case{
		Allowed:  []string{"header"},
		Fixtures: providertest.Render(deliveries()),
		Name:     Name, New: New,
		Secret: testSecret, Wrong: wrongSecret,
		BodyUnsigned: true,
		Never:        func(*providers.Request) []string { return []string{string(testSecret)[1:]} },
		ForFile: func(file string, c *providertest.Case) {
			h := byFile[file].authHeader()
			c.Options.Header = byFile[file].header
			c.SignatureHeaders = []string{h}
			set := func(name string, value func(v string) string) providertest.Check {
				return providertest.Check{Name: name, Want: providers.ErrBadSignature,
					Edit: func(r *providers.Request) { r.Header.Set(h, value(r.Header.Get(h))) }}
			}
			c.Checks = append(c.Checks,
				set("token with a trailing byte", func(v string) string { return v + "x" }),
				set("Bearer and the token with a trailing byte", func(string) string { return "Bearer " + string(testSecret) + "x" }),
				set("token without its first byte", func(string) string { return string(testSecret)[1:] }),
				set("token with a byte in front", func(string) string { return "x" + string(testSecret) }))
		},
		Golden: providertest.Golden(deliveries()),
		Event: func(t *testing.T, file string, e *providers.Event) {
			d := byFile[file]
			m, ok := e.Payload.(map[string]any)
			switch {
			case !ok:
				t.Errorf("payload is %T", e.Payload)
			case d.payload == "form" && m["status"] != "failed":
				t.Errorf("form payload %v", m)
			case d.payload == "json" && m["status"] != "firing":
				t.Errorf("JSON payload without its status")
			}
			if got := e.Headers[http.CanonicalHeaderKey(d.authHeader())]; got != "[redacted]" {
				t.Errorf("headers[%s] = %q, want [redacted]", d.authHeader(), got)
			}
		},
	}
}

// TestTestdata runs the checks of testCase over testdata/*.http.
func TestTestdata(t *testing.T) { providertest.Run(t, testCase()) }

// TestHeaderForms covers which values of which header are accepted.
func TestHeaderForms(t *testing.T) {
	const s = string(testSecret)
	tests := []struct {
		name   string
		header string // option
		send   string // header sent
		value  string
		want   error
	}{
		{"Bearer", "", "Authorization", "Bearer " + s, nil},
		{"bearer in lower case", "", "Authorization", "bearer " + s, nil},
		{"Bearer, two spaces", "", "Authorization", "Bearer  " + s, nil},
		{"bare", "", "Authorization", s, nil},
		{"option in lower case", "authorization", "Authorization", "Bearer " + s, nil},
		{"Basic is not a token", "", "Authorization", "Basic " + s, providers.ErrBadSignature},
		{"Token scheme is not Bearer", "", "Authorization", "Token " + s, providers.ErrBadSignature},
		{"Bearer without a token", "", "Authorization", "Bearer ", providers.ErrBadSignature},
		{"prefix of the token", "", "Authorization", "Bearer " + s[:len(s)-1], providers.ErrBadSignature},
		{"custom header, bare", "X-Webhook-Token", "X-Webhook-Token", s, nil},
		{"custom header takes no scheme", "X-Webhook-Token", "X-Webhook-Token", "Bearer " + s, providers.ErrBadSignature},
		{"custom header configured, Authorization sent", "X-Webhook-Token", "Authorization", "Bearer " + s, providers.ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.send, tt.value)
			err := providertest.MustNew(t, New, providers.Options{Secrets: []providers.Secret{testSecret}, Header: tt.header}).Verify(&providers.Request{Header: h, Body: []byte("{}")})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	s := []providers.Secret{testSecret}
	providertest.CheckNew(t, testCase(), []providertest.OptionsCase{
		{Name: "defaults", Options: providers.Options{Secrets: s}},
		{Name: "custom header", Options: providers.Options{Secrets: s, Header: "X-Webhook-Token"}},
		{Name: "no secret", Options: providers.Options{}, WantErr: "token: the source needs a secret"},
		{Name: "empty secret", Options: providers.Options{Secrets: []providers.Secret{""}}, WantErr: "token: secret 1 is empty"},
		{Name: "bad header name", Options: providers.Options{Secrets: s, Header: "X-Token:"}, WantErr: `token: option header "X-Token:" is not a valid header name`},
		{Name: "signing options", Options: providers.Options{Secrets: s, Algorithm: "sha256", Prefix: "Bearer "}, WantErr: "token: option algorithm, prefix does not apply"},
	})
}

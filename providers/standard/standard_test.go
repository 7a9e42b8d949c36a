package standard

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// The secrets of testdata/README, and the key testSecret decodes to.
const (
	testKeyText                  = "hookrelay standard testdata key!"
	testSecret  providers.Secret = "whsec_aG9va3JlbGF5IHN0YW5kYXJkIHRlc3RkYXRhIGtleSE="
	oldSecret   providers.Secret = "whsec_aG9va3JlbGF5IHN0YW5kYXJkIHByZXZpb3VzIGtleSE="
	wrongSecret providers.Secret = "whsec_bm90IHRoZSBrZXkgdGhlIHNlbmRlciB1c2Vk"
)

// delivery is one testdata file: how it is generated and what it normalises to.
type delivery struct {
	name    string // testdata/<name>.http, from testdata/payloads/<name>.json
	svix    bool   // svix-* header names instead of webhook-*
	id      string
	ts      int64
	signers []providers.Secret // keys that sign it, in header order; default testSecret
	header  http.Header        // the sender's other headers
	want    providertest.Fields
}

func deliveries() []delivery {
	return []delivery{
		{
			name: "contact_created", id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", ts: 1667507170,
			header: http.Header{"User-Agent": {"Go-http-client/1.1"}},
			want:   providertest.Fields{Type: "contact.created", DeliveryID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", DedupKey: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
		},
		{
			name: "email_delivered", svix: true, id: "msg_2pD1Ff8MfhWkPcuAqqvXRwmTdPU", ts: 1732318872,
			header: http.Header{"User-Agent": {"Svix-Webhooks/1.43.0"}},
			want:   providertest.Fields{Type: "email.delivered", DeliveryID: "msg_2pD1Ff8MfhWkPcuAqqvXRwmTdPU", DedupKey: "msg_2pD1Ff8MfhWkPcuAqqvXRwmTdPU"},
		},
		{
			// Sent during a secret rotation: Svix signs with the old and
			// the new secret, so the header lists two v1 signatures.
			name: "user_created", svix: true, id: "msg_29w83xUuJfAiFz1v7bqq6cjWa5Z", ts: 1654012591,
			signers: []providers.Secret{oldSecret, testSecret},
			header:  http.Header{"User-Agent": {"Svix-Webhooks/1.21.0"}},
			want:    providertest.Fields{Type: "user.created", DeliveryID: "msg_29w83xUuJfAiFz1v7bqq6cjWa5Z", DedupKey: "msg_29w83xUuJfAiFz1v7bqq6cjWa5Z"},
		},
	}
}

func names(svix bool) (id, ts, sig string) {
	if svix {
		return SvixHeaderID, SvixHeaderTimestamp, SvixHeaderSignature
	}
	return HeaderID, HeaderTimestamp, HeaderSignature
}

// File implements providertest.Fixture.
func (d delivery) File() string { return d.name + ".http" }

// Want is what d normalises to, for providertest.Golden.
func (d delivery) Want() providertest.Fields { return d.want }

// Render builds the raw request of d from its payload, compacted the way
// senders put JSON on the wire, signed by d's signers.
func (d delivery) Render(t testing.TB) []byte {
	t.Helper()
	body := providertest.Payload(t, d.name+".json")
	signers := d.signers
	if signers == nil {
		signers = []providers.Secret{testSecret}
	}
	ts := strconv.FormatInt(d.ts, 10)
	var sigs []string
	for _, s := range signers {
		sigs = append(sigs, Sign(mustKey(t, s), d.id, ts, body))
	}
	h := d.header.Clone()
	h.Set("Host", "hooks.example.com")
	h.Set("Content-Type", "application/json")
	hid, hts, hsig := names(d.svix)
	h[hid] = []string{d.id}
	h[hts] = []string{ts}
	h[hsig] = []string{strings.Join(sigs, " ")}
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/alice/" + d.name, Header: h, Body: body})
}

func mustKey(t testing.TB, s providers.Secret) []byte {
	t.Helper()
	k, err := DecodeKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signedAt is a delivery's own timestamp (webhook-timestamp or
// svix-timestamp), at which tests receive it.
func signedAt(h http.Header) time.Time {
	_, ts, _ := names(h.Get(HeaderTimestamp) == "")
	sec, _ := strconv.ParseInt(h.Get(ts), 10, 64)
	return time.Unix(sec, 0)
}

// load reads testdata/<name>.http as a Request received at its timestamp.
func load(t testing.TB, name string) *providers.Request {
	t.Helper()
	return providertest.Load(t, name+".http", signedAt)
}

// testCase describes the provider and its testdata to providertest.
func testCase() providertest.Case {
	return providertest.Case{
		Allowed:  []string{"tolerance"},
		Fixtures: providertest.Render(deliveries()),
		Name:     Name, New: New, Now: signedAt,
		Secret: testSecret, Wrong: wrongSecret,
		SignatureHeaders: []string{HeaderSignature, SvixHeaderSignature},
		Timestamped:      true,
		Never: func(r *providers.Request) []string {
			hid, hts, _ := names(r.Header.Get(HeaderTimestamp) == "")
			key, _ := DecodeKey(testSecret)
			want := Sign(key, r.Header.Get(hid), r.Header.Get(hts), r.Body)
			return []string{strings.TrimPrefix(want, "v1,"), testKeyText}
		},
		Checks: []providertest.Check{
			{Name: "id header missing", Want: providers.ErrMissingSignature,
				Edit: func(r *providers.Request) { r.Header.Del(HeaderID); r.Header.Del(SvixHeaderID) }},
			{Name: "id changed", Want: providers.ErrBadSignature,
				Edit: func(r *providers.Request) {
					hid, _, _ := names(r.Header.Get(HeaderID) == "")
					r.Header.Set(hid, "msg_forged")
				}},
			{Name: "inside a longer tolerance", Configure: func(o *providers.Options) { o.Tolerance = time.Hour },
				Edit: func(r *providers.Request) { r.Now = r.Now.Add(30 * time.Minute) }},
		},
		Golden: providertest.Golden(deliveries()),
		Event: func(t *testing.T, file string, e *providers.Event) {
			if m, ok := e.Payload.(map[string]any); !ok || m["type"] != e.Type {
				t.Errorf("payload %T without the type", e.Payload)
			}
			if e.Headers["Content-Type"] != "application/json" {
				t.Errorf("headers %v", e.Headers)
			}
		},
	}
}

// TestTestdata runs the checks of testCase over testdata/*.http.
func TestTestdata(t *testing.T) { providertest.Run(t, testCase()) }

func TestKnownAnswer(t *testing.T) {
	// The test vector of the Standard Webhooks reference libraries
	// (github.com/standard-webhooks/standard-webhooks, libraries/*).
	const (
		secret  providers.Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id                       = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts                       = "1614265330"
		payload                  = `{"test": 2432232314}`
		want                     = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	if got := Sign(mustKey(t, secret), id, ts, []byte(payload)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	now := time.Unix(1614265330, 0)
	tests := []struct {
		name   string
		secret providers.Secret
		svix   bool
	}{
		{"whsec secret, webhook headers", secret, false},
		{"bare base64 secret", providers.Secret(strings.TrimPrefix(string(secret), SecretPrefix)), false},
		{"svix headers", secret, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hid, hts, hsig := names(tt.svix)
			h := http.Header{}
			h.Set(hid, id)
			h.Set(hts, ts)
			h.Set(hsig, want)
			p := providertest.MustNew(t, New, providers.Options{Secrets: []providers.Secret{tt.secret}})
			if err := p.Verify(&providers.Request{Header: h, Body: []byte(payload), Now: now}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSignatureList covers the parsing of the signature header.
func TestSignatureList(t *testing.T) {
	key := mustKey(t, testSecret)
	body := []byte(`{"type":"ping"}`)
	const id, ts = "msg_1", "1700000000"
	good := Sign(key, id, ts, body)
	mac := strings.TrimPrefix(good, "v1,")
	other := Sign(mustKey(t, oldSecret), id, ts, body)
	tests := []struct {
		name string
		sig  string
		want error
	}{
		{"one entry", good, nil},
		{"second of two entries", other + " " + good, nil},
		{"extra spaces", "  " + other + "   " + good + " ", nil},
		{"right mac under v1a is ignored", "v1a," + mac, providers.ErrBadSignature},
		{"right mac under v2 is ignored", "v2," + mac, providers.ErrBadSignature},
		{"no version", mac, providers.ErrBadSignature},
		{"comma-separated list is not the format", other + "," + good, providers.ErrBadSignature},
		{"only other keys", other, providers.ErrBadSignature},
		{"blank", "   ", providers.ErrBadSignature},
	}
	p := providertest.MustNew(t, New, providers.Options{Secrets: []providers.Secret{testSecret}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(HeaderID, id)
			h.Set(HeaderTimestamp, ts)
			h.Set(HeaderSignature, tt.sig)
			err := p.Verify(&providers.Request{Header: h, Body: body, Now: time.Unix(1700000000, 0)})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMalformedTimestamp(t *testing.T) {
	key := mustKey(t, testSecret)
	body := []byte(`{}`)
	h := http.Header{}
	h.Set(HeaderID, "msg_1")
	h.Set(HeaderTimestamp, "2024-01-01T00:00:00Z")
	h.Set(HeaderSignature, Sign(key, "msg_1", "2024-01-01T00:00:00Z", body))
	p := providertest.MustNew(t, New, providers.Options{Secrets: []providers.Secret{testSecret}})
	if err := p.Verify(&providers.Request{Header: h, Body: body, Now: time.Now()}); !errors.Is(err, providers.ErrMalformed) {
		t.Fatalf("Verify = %v, want ErrMalformed", err)
	}
}

func TestNew(t *testing.T) {
	providertest.CheckNew(t, testCase(), []providertest.OptionsCase{
		{Name: "whsec secret", Options: providers.Options{Secrets: []providers.Secret{testSecret}}},
		{Name: "bare base64 secret", Options: providers.Options{Secrets: []providers.Secret{"aG9va3JlbGF5IHN0YW5kYXJkIHRlc3RkYXRhIGtleSE="}}},
		{Name: "rotation", Options: providers.Options{Secrets: []providers.Secret{oldSecret, testSecret}}},
		{Name: "tolerance", Options: providers.Options{Secrets: []providers.Secret{testSecret}, Tolerance: time.Minute}},
		{Name: "no secret", Options: providers.Options{}, WantErr: "standard: the source needs a secret"},
		{Name: "not base64", Options: providers.Options{Secrets: []providers.Secret{testSecret, "whsec_not*base64!"}}, WantErr: "standard: secret 2: not a Standard Webhooks secret"},
		{Name: "empty key", Options: providers.Options{Secrets: []providers.Secret{"whsec_"}}, WantErr: "standard: secret 1: the Standard Webhooks key is empty"},
		{Name: "negative tolerance", Options: providers.Options{Secrets: []providers.Secret{testSecret}, Tolerance: -time.Second}, WantErr: "standard: option tolerance -1s is negative"},
		{Name: "several options do not apply", Options: providers.Options{Secrets: []providers.Secret{testSecret}, AllowSHA1: true, Header: "X-Sig"}, WantErr: "option allow_sha1, header does not apply"},
	})
}

// TestNewHidesKey checks that an error about a secret that does not decode
// shows no part of its key, not even the base64 before the bad byte.
func TestNewHidesKey(t *testing.T) {
	const key = "c2VjcmV0LWluLWEtbm90LWJhc2U2NCFzdHJpbmc"
	_, err := New(providers.Options{Secrets: []providers.Secret{testSecret, "whsec_" + key + "*"}})
	if err == nil {
		t.Fatal("expected an error")
	}
	providertest.NoLeak(t, err, key, string(testSecret), testKeyText)
}

func TestNormalizeMalformed(t *testing.T) {
	p := providertest.MustNew(t, New, providers.Options{Secrets: []providers.Secret{testSecret}})
	providertest.Malformed(t, p, http.Header{"Webhook-Id": {"msg_1"}}, `standard: delivery "msg_1": `, []providertest.Body{
		{Body: ""}, {Body: "not json"}, {Body: `["type"]`}, {Body: `{"type":"a"} {}`}, {Body: "null"},
	})
}

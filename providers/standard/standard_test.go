package standard

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
)

var update = flag.Bool("update", false, "rewrite testdata/*.http from testdata/payloads/*.json")

// The secrets of testdata/README.
const (
	testSecret  providers.Secret = "whsec_aG9va3JlbGF5IHN0YW5kYXJkIHRlc3RkYXRhIGtleSE="
	oldSecret   providers.Secret = "whsec_aG9va3JlbGF5IHN0YW5kYXJkIHByZXZpb3VzIGtleSE="
	wrongSecret providers.Secret = "whsec_bm90IHRoZSBrZXkgdGhlIHNlbmRlciB1c2Vk"
)

// fields are the Event fields golden tests compare.
type fields struct {
	Type, Action, DeliveryID, DedupKey, Repo, Ref, Branch, Tag, Sender string
}

func fieldsOf(e *providers.Event) fields {
	return fields{e.Type, e.Action, e.DeliveryID, e.DedupKey, e.Repo, e.Ref, e.Branch, e.Tag, e.Sender}
}

// delivery is one testdata file: how it is generated and what it normalises to.
type delivery struct {
	name    string // testdata/<name>.http, from testdata/payloads/<name>.json
	svix    bool   // svix-* header names instead of webhook-*
	id      string
	ts      int64
	signers []providers.Secret // keys that sign it, in header order; default testSecret
	header  http.Header        // the sender's other headers
	want    fields
}

func deliveries() []delivery {
	return []delivery{
		{
			name: "contact_created", id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", ts: 1667507170,
			header: http.Header{"User-Agent": {"Go-http-client/1.1"}},
			want:   fields{Type: "contact.created", DeliveryID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", DedupKey: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
		},
		{
			name: "email_delivered", svix: true, id: "msg_2pD1Ff8MfhWkPcuAqqvXRwmTdPU", ts: 1732318872,
			header: http.Header{"User-Agent": {"Svix-Webhooks/1.43.0"}},
			want:   fields{Type: "email.delivered", DeliveryID: "msg_2pD1Ff8MfhWkPcuAqqvXRwmTdPU", DedupKey: "msg_2pD1Ff8MfhWkPcuAqqvXRwmTdPU"},
		},
		{
			// Sent during a secret rotation: Svix signs with the old and
			// the new secret, so the header lists two v1 signatures.
			name: "user_created", svix: true, id: "msg_29w83xUuJfAiFz1v7bqq6cjWa5Z", ts: 1654012591,
			signers: []providers.Secret{oldSecret, testSecret},
			header:  http.Header{"User-Agent": {"Svix-Webhooks/1.21.0"}},
			want:    fields{Type: "user.created", DeliveryID: "msg_29w83xUuJfAiFz1v7bqq6cjWa5Z", DedupKey: "msg_29w83xUuJfAiFz1v7bqq6cjWa5Z"},
		},
	}
}

func names(svix bool) (id, ts, sig string) {
	if svix {
		return SvixHeaderID, SvixHeaderTimestamp, SvixHeaderSignature
	}
	return HeaderID, HeaderTimestamp, HeaderSignature
}

// render builds the raw request of d from its payload, compacted the way
// senders put JSON on the wire, signed by d's signers.
func render(t *testing.T, d delivery) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "payloads", d.name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	if err := json.Compact(&body, src); err != nil {
		t.Fatalf("%s.json: %v", d.name, err)
	}
	signers := d.signers
	if signers == nil {
		signers = []providers.Secret{testSecret}
	}
	ts := strconv.FormatInt(d.ts, 10)
	var sigs []string
	for _, s := range signers {
		sigs = append(sigs, Sign(mustKey(t, s), d.id, ts, body.Bytes()))
	}
	h := d.header.Clone()
	h.Set("Host", "hooks.example.com")
	h.Set("Content-Type", "application/json")
	hid, hts, hsig := names(d.svix)
	h[hid] = []string{d.id}
	h[hts] = []string{ts}
	h[hsig] = []string{strings.Join(sigs, " ")}
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/alice/" + d.name, Header: h, Body: body.Bytes()})
}

func mustKey(t testing.TB, s providers.Secret) []byte {
	t.Helper()
	k, err := DecodeKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// load reads a testdata file as a Request received at its own timestamp.
func load(t testing.TB, name string) *providers.Request {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".http"))
	if err != nil {
		t.Fatal(err)
	}
	hr, err := httpfile.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, ts, _ := names(hr.Header.Get(HeaderTimestamp) == "")
	sec, err := strconv.ParseInt(hr.Header.Get(ts), 10, 64)
	if err != nil {
		t.Fatalf("%s: timestamp: %v", name, err)
	}
	return &providers.Request{Header: hr.Header, Body: hr.Body, Now: time.Unix(sec, 0)}
}

func newProvider(t testing.TB, o providers.Options) providers.Provider {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTestdata regenerates testdata with -update and otherwise checks that
// every file is what its payload and secret produce, and has a golden row.
func TestTestdata(t *testing.T) {
	rows := map[string]bool{}
	for _, d := range deliveries() {
		rows[d.name+".http"] = true
		path := filepath.Join("testdata", d.name+".http")
		want := render(t, d)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go test ./providers/standard -update", path)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.http"))
	for _, f := range files {
		if !rows[filepath.Base(f)] {
			t.Errorf("%s has no row in deliveries()", f)
		}
	}
}

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
			p := newProvider(t, providers.Options{Secrets: []providers.Secret{tt.secret}})
			if err := p.Verify(&providers.Request{Header: h, Body: []byte(payload), Now: now}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	for _, d := range deliveries() {
		tests := []struct {
			name    string
			secrets []providers.Secret
			tol     time.Duration
			edit    func(r *providers.Request)
			want    error
		}{
			{name: "right secret", secrets: []providers.Secret{testSecret}},
			{name: "right secret second in rotation", secrets: []providers.Secret{wrongSecret, testSecret}},
			{name: "wrong secret", secrets: []providers.Secret{wrongSecret}, want: providers.ErrBadSignature},
			{name: "body byte flipped", secrets: []providers.Secret{testSecret}, want: providers.ErrBadSignature,
				edit: func(r *providers.Request) { r.Body[len(r.Body)/2] ^= 1 }},
			{name: "signature header missing", secrets: []providers.Secret{testSecret}, want: providers.ErrMissingSignature,
				edit: func(r *providers.Request) { r.Header.Del(HeaderSignature); r.Header.Del(SvixHeaderSignature) }},
			{name: "id header missing", secrets: []providers.Secret{testSecret}, want: providers.ErrMissingSignature,
				edit: func(r *providers.Request) { r.Header.Del(HeaderID); r.Header.Del(SvixHeaderID) }},
			{name: "id changed", secrets: []providers.Secret{testSecret}, want: providers.ErrBadSignature,
				edit: func(r *providers.Request) {
					hid, _, _ := names(r.Header.Get(HeaderID) == "")
					r.Header.Set(hid, "msg_forged")
				}},
			{name: "stale", secrets: []providers.Secret{testSecret}, want: providers.ErrStale,
				edit: func(r *providers.Request) { r.Now = r.Now.Add(providers.DefaultTolerance + time.Second) }},
			{name: "far future", secrets: []providers.Secret{testSecret}, want: providers.ErrStale,
				edit: func(r *providers.Request) { r.Now = r.Now.Add(-providers.DefaultTolerance - time.Second) }},
			{name: "inside a longer tolerance", secrets: []providers.Secret{testSecret}, tol: time.Hour,
				edit: func(r *providers.Request) { r.Now = r.Now.Add(30 * time.Minute) }},
		}
		for _, tt := range tests {
			t.Run(d.name+"/"+tt.name, func(t *testing.T) {
				r := load(t, d.name)
				if tt.edit != nil {
					tt.edit(r)
				}
				p := newProvider(t, providers.Options{Secrets: tt.secrets, Tolerance: tt.tol})
				err := p.Verify(r)
				if tt.want == nil && err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("Verify = %v, want %v", err, tt.want)
				}
			})
		}
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
	p := newProvider(t, providers.Options{Secrets: []providers.Secret{testSecret}})
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
	p := newProvider(t, providers.Options{Secrets: []providers.Secret{testSecret}})
	if err := p.Verify(&providers.Request{Header: h, Body: body, Now: time.Now()}); !errors.Is(err, providers.ErrMalformed) {
		t.Fatalf("Verify = %v, want ErrMalformed", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		o       providers.Options
		wantErr string // substring; empty: no error
	}{
		{"whsec secret", providers.Options{Secrets: []providers.Secret{testSecret}}, ""},
		{"bare base64 secret", providers.Options{Secrets: []providers.Secret{"aG9va3JlbGF5IHN0YW5kYXJkIHRlc3RkYXRhIGtleSE="}}, ""},
		{"rotation", providers.Options{Secrets: []providers.Secret{oldSecret, testSecret}}, ""},
		{"tolerance", providers.Options{Secrets: []providers.Secret{testSecret}, Tolerance: time.Minute}, ""},
		{"no secret", providers.Options{}, "standard: the source needs a secret"},
		{"not base64", providers.Options{Secrets: []providers.Secret{testSecret, "whsec_not*base64!"}}, "standard: secret 2: not a Standard Webhooks secret"},
		{"empty key", providers.Options{Secrets: []providers.Secret{"whsec_"}}, "standard: secret 1: the Standard Webhooks key is empty"},
		{"negative tolerance", providers.Options{Secrets: []providers.Secret{testSecret}, Tolerance: -time.Second}, "standard: tolerance -1s is negative"},
		{"algorithm does not apply", providers.Options{Secrets: []providers.Secret{testSecret}, Algorithm: "sha512"}, "standard: option algorithm does not apply"},
		{"several options do not apply", providers.Options{Secrets: []providers.Secret{testSecret}, AllowSHA1: true, Header: "X-Sig"}, "option allow_sha1, header does not apply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.wantErr)
			}
			for _, s := range tt.o.Secrets {
				if k := strings.TrimPrefix(string(s), SecretPrefix); k != "" && strings.Contains(err.Error(), k) {
					t.Fatalf("error %q contains a secret", err)
				}
			}
		})
	}
}

// TestErrorsNeverContainSecret collects every kind of error the provider
// returns and checks none shows a secret, a key or the expected signature.
func TestErrorsNeverContainSecret(t *testing.T) {
	secrets := []providers.Secret{testSecret, "whsec_" + "c2VjcmV0LWluLWEtbm90LWJhc2U2NCFzdHJpbmc*"}
	var errs []error
	_, err := New(providers.Options{Secrets: secrets})
	errs = append(errs, err)
	p := newProvider(t, providers.Options{Secrets: []providers.Secret{testSecret}})
	var expected []string
	for _, d := range deliveries() {
		r := load(t, d.name)
		hid, hts, hsig := names(d.svix)
		expected = append(expected, strings.TrimPrefix(Sign(mustKey(t, testSecret), r.Header.Get(hid), r.Header.Get(hts), r.Body), "v1,"))
		r.Body = append(r.Body, ' ')
		errs = append(errs, p.Verify(r))
		r = load(t, d.name)
		r.Header.Del(hsig)
		errs = append(errs, p.Verify(r))
		r = load(t, d.name)
		r.Now = r.Now.Add(time.Hour)
		errs = append(errs, p.Verify(r))
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		msg := err.Error()
		for _, s := range append(expected, string(testSecret), "aG9va3JlbGF5IHN0YW5kYXJkIHRlc3RkYXRhIGtleSE=", "hookrelay standard testdata key!", "c2VjcmV0LWluLWEtbm90LWJhc2U2NCFzdHJpbmc") {
			if strings.Contains(msg, s) {
				t.Errorf("error %q contains secret material %q", msg, s)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	p := newProvider(t, providers.Options{Secrets: []providers.Secret{testSecret}})
	for _, d := range deliveries() {
		t.Run(d.name, func(t *testing.T) {
			r := load(t, d.name)
			if err := p.Verify(r); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			e, err := p.Normalize(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(e); got != d.want {
				t.Errorf("fields\n got %+v\nwant %+v", got, d.want)
			}
			if e.Provider != Name || e.ID != "" || e.Source != "" || !e.ReceivedAt.IsZero() {
				t.Errorf("provider %q, id %q, source %q, received %v", e.Provider, e.ID, e.Source, e.ReceivedAt)
			}
			if m, ok := e.Payload.(map[string]any); !ok || m["type"] != d.want.Type {
				t.Errorf("payload %T without the type", e.Payload)
			}
			if e.Headers["Content-Type"] != "application/json" {
				t.Errorf("headers %v", e.Headers)
			}
		})
	}
}

func TestNormalizeMalformed(t *testing.T) {
	p := newProvider(t, providers.Options{Secrets: []providers.Secret{testSecret}})
	for _, body := range []string{"", "not json", `["type"]`, `{"type":"a"} {}`, "null"} {
		h := http.Header{}
		h.Set(HeaderID, "msg_1")
		if _, err := p.Normalize(&providers.Request{Header: h, Body: []byte(body)}); !errors.Is(err, providers.ErrMalformed) {
			t.Errorf("Normalize(%q) = %v, want ErrMalformed", body, err)
		}
	}
}

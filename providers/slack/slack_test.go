package slack

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// signedAt is a delivery's X-Slack-Request-Timestamp, at which tests
// receive it.
func signedAt(h http.Header) time.Time {
	ts, _ := strconv.ParseInt(h.Get(TimestampHeader), 10, 64)
	return time.Unix(ts, 0)
}

// load reads testdata/<file> as a Request received at its timestamp.
func load(t testing.TB, file string) *providers.Request {
	t.Helper()
	return providertest.Load(t, file, signedAt)
}

func secrets(s ...string) providers.Options {
	return providers.Options{Secrets: providertest.Secrets(s...)}
}

// testCase describes the provider and its testdata to providertest.
func testCase() providertest.Case {
	// payloadHas is one field each file's Payload must show, proving it is
	// the right decoding (the envelope, the form fields, the payload= JSON).
	payloadHas := map[string][2]string{
		"url_verification.http":     {"challenge", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
		"app_mention.http":          {"api_app_id", "A0PNCHHK2"},
		"app_mention-retry.http":    {"api_app_id", "A0PNCHHK2"},
		"message.channel_join.http": {"team_id", "T061EG9R6"},
		"slash_command.http":        {"channel_name", "foobar"},
		"block_actions.http":        {"response_url", "https://hooks.slack.com/actions/T061EG9R6/7337212361922/Qm9vZ3l3b29nbGVKbGxHYVlhb0F5"},
	}
	const trigger = "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	return providertest.Case{
		Allowed:  []string{"tolerance"},
		Fixtures: providertest.Render(deliveries),
		Name:     Name, New: New, Now: signedAt,
		Secret: testSecret, Wrong: "00000000000000000000000000wrong0",
		SignatureHeaders: []string{SignatureHeader},
		Timestamped:      true,
		Never: func(r *providers.Request) []string {
			return []string{v0Signature(testSecret, r.Header.Get(TimestampHeader), r.Body)[3:]}
		},
		Checks: []providertest.Check{
			{Name: "timestamp header missing", Want: providers.ErrMissingSignature,
				Edit: func(r *providers.Request) { r.Header.Del(TimestampHeader) }},
			{Name: "timestamp replaced by now", Want: providers.ErrBadSignature, Edit: func(r *providers.Request) {
				r.Now = r.Now.Add(time.Hour)
				r.Header.Set(TimestampHeader, strconv.FormatInt(r.Now.Unix(), 10))
			}},
		},
		Golden: map[string]providertest.Fields{
			"url_verification.http":     {Type: "url_verification"},
			"app_mention.http":          {Type: "app_mention", DeliveryID: "Ev07AB3CD4EF", DedupKey: "Ev07AB3CD4EF", Sender: "U061F7AUR"},
			"app_mention-retry.http":    {Type: "app_mention", DeliveryID: "Ev07AB3CD4EF", DedupKey: "Ev07AB3CD4EF", Sender: "U061F7AUR"},
			"message.channel_join.http": {Type: "message", Action: "channel_join", DeliveryID: "Ev07AB4GH5IJ", DedupKey: "Ev07AB4GH5IJ", Sender: "U07A1B2C3D4"},
			"slash_command.http":        {Type: "slash_command", Action: "/webhook-collect", DeliveryID: trigger, DedupKey: trigger, Sender: "roadrunner"},
			"block_actions.http": {Type: "interactive", Action: "block_actions", DeliveryID: "7337212361922.6049232859.0d5bb2f1c9b3b8f3e4a1c2d3e4f5a6b7",
				DedupKey: "7337212361922.6049232859.0d5bb2f1c9b3b8f3e4a1c2d3e4f5a6b7", Sender: "roadrunner"},
		},
		Event: func(t *testing.T, file string, e *providers.Event) {
			if e.Headers[SignatureHeader] == "" || e.Headers["User-Agent"] != "Slackbot 1.0 (+https://api.slack.com/robots)" {
				t.Errorf("headers = %v", e.Headers)
			}
			kv := payloadHas[file]
			if got := providers.Str(e.Payload, kv[0]); got != kv[1] {
				t.Errorf("payload.%s = %q, want %q", kv[0], got, kv[1])
			}
			if (e.Reply != nil) != (e.Type == TypeURLVerification) {
				t.Errorf("reply = %+v for type %s", e.Reply, e.Type)
			}
		},
	}
}

// TestTestdata runs the checks of testCase over testdata/*.http.
func TestTestdata(t *testing.T) { providertest.Run(t, testCase()) }

// TestKnownAnswer is the worked example of Slack's "Verifying requests from
// Slack" (api.slack.com/authentication/verifying-requests-from-slack): its
// signing secret, timestamp and slash command body give its signature.
func TestKnownAnswer(t *testing.T) {
	if got := v0Signature(testSecret, katTimestamp, []byte(katBody)); got != katSignature {
		t.Fatalf("independent HMAC = %s, want %s", got, katSignature)
	}
	if got := load(t, "slash_command.http").Header.Get(SignatureHeader); got != katSignature {
		t.Fatalf("slash_command.http is signed %s, want the documented %s", got, katSignature)
	}
	ts, _ := strconv.ParseInt(katTimestamp, 10, 64)
	tests := []struct {
		name    string
		sig     string
		ts      string
		body    string
		now     time.Time
		wantErr error
	}{
		{"documented request", katSignature, katTimestamp, katBody, time.Unix(ts, 0), nil},
		{"uppercase hex", "v0=" + strings.ToUpper(strings.TrimPrefix(katSignature, "v0=")), katTimestamp, katBody, time.Unix(ts, 0), nil},
		{"timestamp changed", katSignature, "1531420619", katBody, time.Unix(ts, 0), providers.ErrBadSignature},
		{"text field filled in", katSignature, katTimestamp, strings.Replace(katBody, "text=&", "text=x&", 1), time.Unix(ts, 0), providers.ErrBadSignature},
		{"documented request received today", katSignature, katTimestamp, katBody, time.Unix(ts, 0).Add(24 * time.Hour), providers.ErrStale},
	}
	p := providertest.MustNew(t, New, secrets(testSecret))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &providers.Request{
				Header: http.Header{SignatureHeader: {tt.sig}, TimestampHeader: {tt.ts}, "Content-Type": {formType}},
				Body:   []byte(tt.body),
				Now:    tt.now,
			}
			err := p.Verify(r)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			providertest.NoLeak(t, err, testSecret, strings.TrimPrefix(katSignature, "v0="))
		})
	}
}

func TestVerifyHeaders(t *testing.T) {
	const ts = "1719916621"
	body := []byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}`)
	good := v0Signature(testSecret, ts, body)
	tests := []struct {
		name    string
		sig, ts string
		wantErr error
	}{
		{"valid", good, ts, nil},
		{"no version prefix", strings.TrimPrefix(good, "v0="), ts, providers.ErrMissingSignature},
		{"other version", "v1=" + strings.TrimPrefix(good, "v0="), ts, providers.ErrMissingSignature},
		{"GitHub style", "sha256=" + strings.TrimPrefix(good, "v0="), ts, providers.ErrMissingSignature},
		{"not hex", "v0=zz", ts, providers.ErrBadSignature},
		{"empty v0", "v0=", ts, providers.ErrBadSignature},
		{"truncated", good[:len(good)-2], ts, providers.ErrBadSignature},
		{"timestamp with fraction, signed", v0Signature(testSecret, ts+".5", body), ts + ".5", providers.ErrMalformed},
		{"timestamp not a number, signed", v0Signature(testSecret, "soon", body), "soon", providers.ErrMalformed},
		{"timestamp not a number, unsigned", good, "soon", providers.ErrBadSignature},
	}
	p := providertest.MustNew(t, New, secrets(testSecret))
	now, _ := strconv.ParseInt(ts, 10, 64)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &providers.Request{Header: http.Header{SignatureHeader: {tt.sig}, TimestampHeader: {tt.ts}}, Body: body, Now: time.Unix(now, 0)}
			err := p.Verify(r)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			providertest.NoLeak(t, err, testSecret, good[3:])
		})
	}
}

func TestVerifyZeroNowUsesClock(t *testing.T) {
	body := []byte(`{"type":"url_verification","challenge":"x"}`)
	p := providertest.MustNew(t, New, secrets(testSecret))
	for _, tt := range []struct {
		name    string
		age     time.Duration
		wantErr error
	}{
		{"fresh", 0, nil},
		{"an hour old", time.Hour, providers.ErrStale},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := strconv.FormatInt(time.Now().Add(-tt.age).Unix(), 10)
			r := &providers.Request{Header: http.Header{SignatureHeader: {v0Signature(testSecret, ts, body)}, TimestampHeader: {ts}}, Body: body}
			if err := p.Verify(r); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestURLVerificationReply(t *testing.T) {
	tests := []struct {
		name      string
		challenge string
	}{
		{"Slack's example", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
		{"characters JSON must escape", "a\"b\\c</script>&\u2028"},
	}
	p := providertest.MustNew(t, New, secrets(testSecret))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": tt.challenge, "type": "url_verification"})
			e, err := p.Normalize(&providers.Request{Header: http.Header{"Content-Type": {jsonType}}, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			if e.Reply == nil || e.Reply.Status != http.StatusOK || e.Reply.ContentType != "application/json" {
				t.Fatalf("reply = %+v", e.Reply)
			}
			var got map[string]string
			if err := json.Unmarshal(e.Reply.Body, &got); err != nil || len(got) != 1 || got["challenge"] != tt.challenge {
				t.Fatalf("reply body %s decodes to %v, %v", e.Reply.Body, got, err)
			}
		})
	}
}

// TestRetryDedups checks Slack's redelivery of an event (X-Slack-Retry-Num)
// normalises to the same DedupKey as the first attempt.
func TestRetryDedups(t *testing.T) {
	p := providertest.MustNew(t, New, secrets(testSecret))
	first, err := p.Normalize(load(t, "app_mention.http"))
	if err != nil {
		t.Fatal(err)
	}
	retry, err := p.Normalize(load(t, "app_mention-retry.http"))
	if err != nil {
		t.Fatal(err)
	}
	if first.DedupKey == "" || first.DedupKey != retry.DedupKey {
		t.Fatalf("dedup keys %q and %q", first.DedupKey, retry.DedupKey)
	}
	if retry.Headers["X-Slack-Retry-Num"] != "1" {
		t.Fatalf("retry headers = %v", retry.Headers)
	}
}

func TestNormalizeCases(t *testing.T) {
	form := func(v url.Values) string { return v.Encode() }
	providertest.NormalizeTable(t, providertest.MustNew(t, New, secrets(testSecret)), nil, []providertest.Body{
		{Name: "interactive with name only", ContentType: formType, Body: form(url.Values{"payload": {`{"type":"view_submission","user":{"id":"U1","name":"wile"},"trigger_id":"1.2.3"}`}}),
			Want: providertest.Fields{Type: "interactive", Action: "view_submission", DeliveryID: "1.2.3", DedupKey: "1.2.3", Sender: "wile"}},
		{Name: "interactive without trigger_id", ContentType: formType, Body: form(url.Values{"payload": {`{"type":"block_suggestion","user":{"id":"U1","username":"wile"}}`}}),
			Want: providertest.Fields{Type: "interactive", Action: "block_suggestion", Sender: "wile"}},
		{Name: "slash command without trigger_id", ContentType: formType + "; charset=utf-8", Body: "command=%2Fdeploy&text=api&user_name=wile",
			Want: providertest.Fields{Type: "slash_command", Action: "/deploy", Sender: "wile"}},
		{Name: "bot message without user", ContentType: jsonType, Body: `{"type":"event_callback","event_id":"Ev9","event":{"type":"message","subtype":"bot_message","bot_id":"B1"}}`,
			Want: providertest.Fields{Type: "message", Action: "bot_message", DeliveryID: "Ev9", DedupKey: "Ev9"}},
		{Name: "user object is not a sender id", ContentType: jsonType, Body: `{"type":"event_callback","event_id":"Ev8","event":{"type":"user_change","user":{"id":"U1","name":"wile"}}}`,
			Want: providertest.Fields{Type: "user_change", DeliveryID: "Ev8", DedupKey: "Ev8"}},
		{Name: "app_rate_limited", ContentType: jsonType, Body: `{"token":"x","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}`,
			Want: providertest.Fields{Type: "app_rate_limited"}},
		{Name: "no content type is JSON", Body: `{"type":"event_callback","event_id":"Ev7","event":{"type":"reaction_added","user":"U2"}}`,
			Want: providertest.Fields{Type: "reaction_added", DeliveryID: "Ev7", DedupKey: "Ev7", Sender: "U2"}},
	})
}

func TestNormalizeErrors(t *testing.T) {
	p := providertest.MustNew(t, New, providers.Options{Secrets: providertest.Secrets(testSecret)})
	providertest.Malformed(t, p, nil, "slack: ", []providertest.Body{
		{Name: "empty JSON", ContentType: jsonType, Body: ""},
		{Name: "not JSON", ContentType: jsonType, Body: "command=%2Fdeploy"},
		{Name: "JSON array", ContentType: jsonType, Body: `[{"type":"event_callback"}]`},
		{Name: "no type", ContentType: jsonType, Body: `{"event_id":"Ev1"}`},
		{Name: "event_callback without event", ContentType: jsonType, Body: `{"type":"event_callback","event_id":"Ev1"}`},
		{Name: "url_verification without challenge", ContentType: jsonType, Body: `{"type":"url_verification"}`},
		{Name: "bad form", ContentType: formType, Body: "a=%zz"},
		{Name: "form neither command nor payload", ContentType: formType, Body: "token=x&team_id=T1"},
		{Name: "payload not JSON", ContentType: formType, Body: "payload=%7Bnope"},
		{Name: "payload without type", ContentType: formType, Body: "payload=%7B%7D"},
		{Name: "empty command", ContentType: formType, Body: "command=&user_name=wile"},
	})
}

func TestNew(t *testing.T) {
	providertest.CheckNew(t, testCase(), []providertest.OptionsCase{
		{Name: "one secret", Options: secrets(testSecret)},
		{Name: "two secrets", Options: secrets("old0000000000000000000000000000a", testSecret)},
		{Name: "tolerance", Options: providers.Options{Secrets: []providers.Secret{testSecret}, Tolerance: time.Minute}},
		{Name: "no secret", Options: providers.Options{}, WantErr: "slack: the source needs a secret"},
		{Name: "empty secret", Options: secrets(testSecret, ""), WantErr: "slack: secret 2 is empty"},
		{Name: "negative tolerance", Options: providers.Options{Secrets: []providers.Secret{testSecret}, Tolerance: -time.Second}, WantErr: "option tolerance"},
	})
}

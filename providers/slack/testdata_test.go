package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/hookrelay/hookrelay/providers/httpfile"
)

// testSecret signs testdata. It is the signing secret of Slack's
// "Verifying requests from Slack" example, so slash_command.http (the
// example's request) carries the documented signature.
const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// delivery is one testdata file: the request Slack sends and when it signed it.
type delivery struct {
	file        string // under testdata/
	ts          int64  // X-Slack-Request-Timestamp
	contentType string
	retry       string // X-Slack-Retry-Num, for a redelivery
	body        string
}

// v0Signature is Slack's documented scheme written out with crypto/hmac,
// independently of the provider's code: "v0=" + hex HMAC-SHA256 of
// "v0:<timestamp>:<body>" under the signing secret.
func v0Signature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// File implements providertest.Fixture.
func (d delivery) File() string { return d.file }

// Render renders d as the bytes of its .http file.
func (d delivery) Render(testing.TB) []byte {
	ts := strconv.FormatInt(d.ts, 10)
	body := []byte(d.body)
	h := http.Header{
		"Host":            {"hooks.example.com"},
		"User-Agent":      {"Slackbot 1.0 (+https://api.slack.com/robots)"},
		"Accept":          {"*/*"},
		"Accept-Encoding": {"gzip,deflate"},
		"Content-Type":    {d.contentType},
		TimestampHeader:   {ts},
		SignatureHeader:   {v0Signature(testSecret, ts, body)},
	}
	if d.retry != "" {
		h.Set("X-Slack-Retry-Num", d.retry)
		h.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/alice/slack", Header: h, Body: body})
}

const (
	jsonType = "application/json"
	formType = "application/x-www-form-urlencoded"

	// kat* are the request of Slack's "Verifying requests from Slack" example.
	katTimestamp = "1531420618"
	katBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	katSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

	appMention = `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T061EG9R6","context_team_id":"T061EG9R6","context_enterprise_id":null,"api_app_id":"A0PNCHHK2","event":{"user":"U061F7AUR","type":"app_mention","ts":"1719916620.123459","client_msg_id":"7c4a1e2b-3d5f-4a6b-8c9d-0e1f2a3b4c5d","text":"<@U0LAN0Z89> deploy api to staging","team":"T061EG9R6","blocks":[{"type":"rich_text","block_id":"Qf2xP","elements":[{"type":"rich_text_section","elements":[{"type":"user","user_id":"U0LAN0Z89"},{"type":"text","text":" deploy api to staging"}]}]}],"channel":"C0LAE2Q6K","event_ts":"1719916620.123459"},"type":"event_callback","event_id":"Ev07AB3CD4EF","event_time":1719916620,"authorizations":[{"enterprise_id":null,"team_id":"T061EG9R6","user_id":"U0LAN0Z89","is_bot":true,"is_enterprise_install":false}],"is_ext_shared_channel":false,"event_context":"4-eyJldCI6ImFwcF9tZW50aW9uIiwidGlkIjoiVDA2MUVHOVI2IiwiYWlkIjoiQTBQTkNISEsyIiwiY2lkIjoiQzBMQUUyUTZLIn0"}`
)

// blockActions is the JSON of an interactivity request's payload= field: a
// click on a button in a message the app posted.
const blockActions = `{"type":"block_actions","user":{"id":"U061F7AUR","username":"roadrunner","name":"roadrunner","team_id":"T061EG9R6"},"api_app_id":"A0PNCHHK2","token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","container":{"type":"message","message_ts":"1719917000.000300","channel_id":"C0LAE2Q6K","is_ephemeral":false},"trigger_id":"7337212361922.6049232859.0d5bb2f1c9b3b8f3e4a1c2d3e4f5a6b7","team":{"id":"T061EG9R6","domain":"testteamnow"},"enterprise":null,"is_enterprise_install":false,"channel":{"id":"C0LAE2Q6K","name":"deploys"},"message":{"user":"U0LAN0Z89","type":"message","ts":"1719917000.000300","bot_id":"B0LAN0Z8A","app_id":"A0PNCHHK2","text":"Deploy api@4f2c9e1 to production?","team":"T061EG9R6","blocks":[{"type":"section","block_id":"deploy_prompt","text":{"type":"mrkdwn","text":"Deploy *api@4f2c9e1* to production?","verbatim":false}},{"type":"actions","block_id":"deploy_actions","elements":[{"type":"button","action_id":"approve_deploy","text":{"type":"plain_text","text":"Approve","emoji":true},"style":"primary","value":"deploy-1042"},{"type":"button","action_id":"cancel_deploy","text":{"type":"plain_text","text":"Cancel","emoji":true},"style":"danger","value":"deploy-1042"}]}]},"state":{"values":{}},"response_url":"https:\/\/hooks.slack.com\/actions\/T061EG9R6\/7337212361922\/Qm9vZ3l3b29nbGVKbGxHYVlhb0F5","actions":[{"action_id":"approve_deploy","block_id":"deploy_actions","text":{"type":"plain_text","text":"Approve","emoji":true},"value":"deploy-1042","style":"primary","type":"button","action_ts":"1719917012.345678"}]}`

var deliveries = []delivery{
	{file: "url_verification.http", ts: 1719916500, contentType: jsonType,
		body: `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`},
	{file: "app_mention.http", ts: 1719916621, contentType: jsonType, body: appMention},
	// Slack redelivers the same event (same event_id) when the first
	// attempt was not answered within three seconds.
	{file: "app_mention-retry.http", ts: 1719916625, contentType: jsonType, retry: "1", body: appMention},
	{file: "message.channel_join.http", ts: 1719916802, contentType: jsonType,
		body: `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T061EG9R6","context_team_id":"T061EG9R6","context_enterprise_id":null,"api_app_id":"A0PNCHHK2","event":{"type":"message","subtype":"channel_join","user":"U07A1B2C3D4","text":"<@U07A1B2C3D4> has joined the channel","inviter":"U061F7AUR","ts":"1719916801.000200","channel":"C0LAE2Q6K","event_ts":"1719916801.000200","channel_type":"channel"},"type":"event_callback","event_id":"Ev07AB4GH5IJ","event_time":1719916801,"authorizations":[{"enterprise_id":null,"team_id":"T061EG9R6","user_id":"U0LAN0Z89","is_bot":true,"is_enterprise_install":false}],"is_ext_shared_channel":false,"event_context":"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMDYxRUc5UjYiLCJhaWQiOiJBMFBOQ0hISzIiLCJjaWQiOiJDMExBRTJRNksifQ"}`},
	{file: "slash_command.http", ts: 1531420618, contentType: formType, body: katBody},
	{file: "block_actions.http", ts: 1719917013, contentType: formType,
		body: url.Values{"payload": {blockActions}}.Encode()},
}

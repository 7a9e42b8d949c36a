package bitbucket

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// testSecret signs every file under testdata/; testdata/README names it.
const testSecret = "hookrelay-bitbucket-testdata"

// fixture is one delivery under testdata/, built from a payload template.
type fixture struct {
	file       string
	eventKey   string
	delivery   string
	dataCenter bool
	payload    string
}

var fixtures = []fixture{
	{"cloud_repo_push.http", "repo:push", "a3f1c9e2-6b7d-4e5a-9c08-1d2e3f4a5b6c", false, cloudPush},
	{"cloud_pullrequest_created.http", "pullrequest:created", "7c2d9e4f-1a3b-4c5d-8e6f-0a9b8c7d6e5f", false, cloudPullRequestCreated},
	{"dc_repo_refs_changed.http", "repo:refs_changed", "d84e2b6a-3c1f-4a97-b5e0-6f2c8d1a9e37", true, dcRefsChanged},
	{"dc_pr_opened.http", "pr:opened", "2f9a7c5e-8b3d-4e1f-a6c2-9d0b4e7f1a58", true, dcPROpened},
}

// File implements providertest.Fixture.
func (f fixture) File() string { return f.file }

// Render renders f as Bitbucket Cloud or Data Center sends it: compact JSON
// signed with testSecret in X-Hub-Signature.
func (f fixture) Render(t testing.TB) []byte {
	t.Helper()
	js := providertest.CompactJSON(t, f.file+" payload template", []byte(expand(f.payload)))
	body := js
	sig := "sha256=" + hex.EncodeToString(providers.MAC(sha256.New, []byte(testSecret), body))
	h := http.Header{
		"Host":            {"hooks.example.com"},
		"X-Event-Key":     {f.eventKey},
		"X-Hub-Signature": {sig},
	}
	if f.dataCenter {
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["User-Agent"] = []string{"Atlassian HttpClient 4.2.0 / Bitbucket-9.4.3 (9004003) / Default"}
		h["X-Request-Id"] = []string{f.delivery}
		h["Accept-Encoding"] = []string{"gzip,deflate"}
	} else {
		h["Content-Type"] = []string{"application/json"}
		h["User-Agent"] = []string{"Bitbucket-Webhooks/2.0"}
		h["X-Request-UUID"] = []string{f.delivery}
		h["X-Hook-UUID"] = []string{"5b3e1c7a-9d2f-4e86-a0b4-c7f1e9d2a3b8"}
		h["X-Attempt-Number"] = []string{"1"}
		h["Accept"] = []string{"*/*"}
	}
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/acme/bitbucket", Header: h, Body: body})
}

func expand(s string) string {
	return strings.NewReplacer(
		"{{CLOUD_REPO}}", cloudRepo,
		"{{CLOUD_REPO_SHORT}}", cloudRepoShort,
		"{{PRAMAN}}", cloudUser("Priya Raman", "praman", "3c1e5a7b-9d2f-4b6e-8a0c-2e4f6a8b0c1d", "712020:8f3b1c5e-2d7a-4e9b-b6c0-4a1d3f5e7b92", "PR-3"),
		"{{JMARSH}}", cloudUser("Jordan Marsh", "jmarsh", "e7a9c1b3-5d2f-4e8a-9b0c-6d4f2a8e1c3b", "557058:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "JM-5"),
		"{{DC_REPO}}", dcRepo,
		"{{TKOWALSKI}}", dcUser("tkowalski", "Tomasz Kowalski", "tomasz.kowalski@acme.example", 1052),
		"{{AOKAFOR}}", dcUser("aokafor", "Adaeze Okafor", "adaeze.okafor@acme.example", 877),
	).Replace(s)
}

func cloudUser(display, nick, uuid, account, initials string) string {
	return strings.NewReplacer("DISPLAY", display, "NICK", nick, "UUID", uuid, "ACCOUNT", account, "INITIALS", initials).Replace(`{
	"display_name": "DISPLAY",
	"links": {
		"self": {"href": "https://api.bitbucket.org/2.0/users/%7BUUID%7D"},
		"avatar": {"href": "https://secure.gravatar.com/avatar/0c8e2f4a6b1d3e5f7a9c0b2d4e6f8a1c?d=https%3A%2F%2Favatar-management--avatars.us-west-2.prod.public.atl-paas.net%2Finitials%2FINITIALS.png"},
		"html": {"href": "https://bitbucket.org/%7BUUID%7D/"}
	},
	"type": "user", "uuid": "{UUID}", "account_id": "ACCOUNT", "nickname": "NICK"}`)
}

// cloudRepoStart starts both forms of the Cloud repository object.
const cloudRepoStart = `
	"type": "repository", "full_name": "acme/checkout-service",
	"links": {
		"self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service"},
		"html": {"href": "https://bitbucket.org/acme/checkout-service"},
		"avatar": {"href": "https://bytebucket.org/ravatar/%7B9a1c3e5b-7d2f-4a6b-8c0e-1f3a5b7c9d2e%7D?ts=default"}
	},`

const cloudRepo = `{` + cloudRepoStart + `
	"name": "checkout-service", "scm": "git", "website": null,
	"owner": {
		"display_name": "Acme",
		"links": {
			"self": {"href": "https://api.bitbucket.org/2.0/workspaces/%7B4d6f8a0c-2e4b-4d6f-8a1c-3e5b7d9f1a2c%7D"},
			"avatar": {"href": "https://bitbucket.org/account/acme/avatar/"},
			"html": {"href": "https://bitbucket.org/%7B4d6f8a0c-2e4b-4d6f-8a1c-3e5b7d9f1a2c%7D/"}
		},
		"type": "team", "uuid": "{4d6f8a0c-2e4b-4d6f-8a1c-3e5b7d9f1a2c}", "username": "acme"
	},
	"workspace": {
		"type": "workspace", "uuid": "{4d6f8a0c-2e4b-4d6f-8a1c-3e5b7d9f1a2c}", "name": "Acme", "slug": "acme",
		"links": {
			"avatar": {"href": "https://bitbucket.org/workspaces/acme/avatar/?ts=1731931203"},
			"html": {"href": "https://bitbucket.org/acme/"},
			"self": {"href": "https://api.bitbucket.org/2.0/workspaces/acme"}
		}
	},
	"is_private": true,
	"project": {
		"type": "project", "key": "CHK", "uuid": "{b2d4f6a8-0c1e-4a3b-9d5f-7a9c1e3b5d7f}", "name": "Checkout",
		"links": {
			"self": {"href": "https://api.bitbucket.org/2.0/workspaces/acme/projects/CHK"},
			"html": {"href": "https://bitbucket.org/acme/workspace/projects/CHK"},
			"avatar": {"href": "https://bitbucket.org/acme/workspace/projects/CHK/avatar/32?ts=1706101944"}
		}
	},
	"uuid": "{9a1c3e5b-7d2f-4a6b-8c0e-1f3a5b7c9d2e}", "parent": null}`

const cloudRepoShort = `{` + cloudRepoStart + `
	"name": "checkout-service", "uuid": "{9a1c3e5b-7d2f-4a6b-8c0e-1f3a5b7c9d2e}"}`

// cloudCommit renders a commit object of a Cloud push change.
func cloudCommit(hash, parent, date, message, author string) string {
	return strings.NewReplacer("HASH", hash, "PARENT", parent, "DATE", date, "MESSAGE", message, "AUTHOR", author,
		"SUMMARY", strings.ReplaceAll(message, `\n`, "")).Replace(`{
	"type": "commit", "hash": "HASH", "date": "DATE",
	"author": {"type": "author", "raw": "Priya Raman <priya.raman@acme.example>", "user": AUTHOR},
	"message": "MESSAGE",
	"summary": {"type": "rendered", "raw": "MESSAGE", "markup": "markdown", "html": "<p>SUMMARY</p>"},
	"links": {
		"self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/commit/HASH"},
		"html": {"href": "https://bitbucket.org/acme/checkout-service/commits/HASH"}
	},
	"parents": [{"hash": "PARENT", "links": {
		"self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/commit/PARENT"},
		"html": {"href": "https://bitbucket.org/acme/checkout-service/commits/PARENT"}}, "type": "commit"}],
	"rendered": {}, "properties": {}}`)
}

var cloudPush = `{
	"push": {
		"changes": [
			{
				"old": {
					"name": "feature/CHK-212-retry-3ds",
					"target": ` + cloudCommit("1e3a5c7f9b0d2e4a6c8f0b2d4e6a8c1f3b5d7e9a", "8b0d2f4a6c8e1a3c5e7b9d1f3a5c7e9b0d2f4a6c", "2026-11-20T09:12:05+00:00", `Add 3-D Secure challenge retry\n`, "{{PRAMAN}}") + `,
					"links": {
						"commits": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/commits/feature/CHK-212-retry-3ds"},
						"self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/refs/branches/feature/CHK-212-retry-3ds"},
						"html": {"href": "https://bitbucket.org/acme/checkout-service/branch/feature/CHK-212-retry-3ds"}
					},
					"type": "branch", "merge_strategies": ["merge_commit", "squash", "fast_forward"], "default_merge_strategy": "squash"
				},
				"new": {
					"name": "feature/CHK-212-retry-3ds",
					"target": ` + cloudCommit("b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1", "1e3a5c7f9b0d2e4a6c8f0b2d4e6a8c1f3b5d7e9a", "2026-11-20T09:58:31+00:00", `Give up after two 3-D Secure challenge timeouts\n`, "{{PRAMAN}}") + `,
					"links": {
						"commits": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/commits/feature/CHK-212-retry-3ds"},
						"self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/refs/branches/feature/CHK-212-retry-3ds"},
						"html": {"href": "https://bitbucket.org/acme/checkout-service/branch/feature/CHK-212-retry-3ds"}
					},
					"type": "branch", "merge_strategies": ["merge_commit", "squash", "fast_forward"], "default_merge_strategy": "squash"
				},
				"truncated": false, "created": false, "forced": false, "closed": false,
				"links": {
					"commits": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/commits?include=b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1&exclude=1e3a5c7f9b0d2e4a6c8f0b2d4e6a8c1f3b5d7e9a"},
					"diff": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/diff/b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1..1e3a5c7f9b0d2e4a6c8f0b2d4e6a8c1f3b5d7e9a"},
					"html": {"href": "https://bitbucket.org/acme/checkout-service/branches/compare/b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1..1e3a5c7f9b0d2e4a6c8f0b2d4e6a8c1f3b5d7e9a"}
				},
				"commits": [` + cloudCommit("b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1", "1e3a5c7f9b0d2e4a6c8f0b2d4e6a8c1f3b5d7e9a", "2026-11-20T09:58:31+00:00", `Give up after two 3-D Secure challenge timeouts\n`, "{{PRAMAN}}") + `]
			}
		]
	},
	"repository": {{CLOUD_REPO}},
	"actor": {{PRAMAN}}
}`

var cloudPullRequestCreated = `{
	"repository": {{CLOUD_REPO}},
	"actor": {{PRAMAN}},
	"pullrequest": {
		"comment_count": 0, "task_count": 0, "type": "pullrequest", "id": 87,
		"title": "CHK-212: retry 3-D Secure challenges once",
		"description": "Retries a timed-out 3-D Secure challenge once before failing the payment.\n\n* feature flag: checkout.threeDSRetry\n* metrics: checkout_3ds_retry_total",
		"rendered": {
			"title": {"type": "rendered", "raw": "CHK-212: retry 3-D Secure challenges once", "markup": "markdown", "html": "<p>CHK-212: retry 3-D Secure challenges once</p>"},
			"description": {"type": "rendered", "raw": "Retries a timed-out 3-D Secure challenge once before failing the payment.\n\n* feature flag: checkout.threeDSRetry\n* metrics: checkout_3ds_retry_total", "markup": "markdown", "html": "<p>Retries a timed-out 3-D Secure challenge once before failing the payment.</p>\n<ul>\n<li>feature flag: checkout.threeDSRetry</li>\n<li>metrics: checkout_3ds_retry_total</li>\n</ul>"}
		},
		"state": "OPEN", "draft": false, "merge_commit": null, "close_source_branch": true, "closed_by": null,
		"author": {{PRAMAN}},
		"reason": "",
		"created_on": "2026-11-20T10:15:42.118291+00:00", "updated_on": "2026-11-20T10:15:42.921734+00:00",
		"destination": {
			"branch": {"name": "main"},
			"commit": {"type": "commit", "hash": "6e8a0c2f4b6d", "links": {
				"self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/commit/6e8a0c2f4b6d"},
				"html": {"href": "https://bitbucket.org/acme/checkout-service/commits/6e8a0c2f4b6d"}}},
			"repository": {{CLOUD_REPO_SHORT}}
		},
		"source": {
			"branch": {"name": "feature/CHK-212-retry-3ds", "links": {}, "sync_strategies": ["merge_commit", "rebase"]},
			"commit": {"type": "commit", "hash": "b3d5f7a9c1e3", "links": {
				"self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/commit/b3d5f7a9c1e3"},
				"html": {"href": "https://bitbucket.org/acme/checkout-service/commits/b3d5f7a9c1e3"}}},
			"repository": {{CLOUD_REPO_SHORT}}
		},
		"reviewers": [{{JMARSH}}],
		"participants": [{"type": "participant", "user": {{JMARSH}}, "role": "REVIEWER", "approved": false, "state": null, "participated_on": null}],
		"links": {
			"self": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87"},
			"html": {"href": "https://bitbucket.org/acme/checkout-service/pull-requests/87"},
			"commits": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87/commits"},
			"approve": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87/approve"},
			"request-changes": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87/request-changes"},
			"diff": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/diff/acme/checkout-service:b3d5f7a9c1e3%0D6e8a0c2f4b6d?from_pullrequest_id=87&topic=true"},
			"diffstat": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/diffstat/acme/checkout-service:b3d5f7a9c1e3%0D6e8a0c2f4b6d?from_pullrequest_id=87&topic=true"},
			"comments": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87/comments"},
			"activity": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87/activity"},
			"merge": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87/merge"},
			"decline": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87/decline"},
			"statuses": {"href": "https://api.bitbucket.org/2.0/repositories/acme/checkout-service/pullrequests/87/statuses"}
		},
		"summary": {"type": "rendered", "raw": "Retries a timed-out 3-D Secure challenge once before failing the payment.\n\n* feature flag: checkout.threeDSRetry\n* metrics: checkout_3ds_retry_total", "markup": "markdown", "html": "<p>Retries a timed-out 3-D Secure challenge once before failing the payment.</p>\n<ul>\n<li>feature flag: checkout.threeDSRetry</li>\n<li>metrics: checkout_3ds_retry_total</li>\n</ul>"}
	}
}`

func dcUser(name, display, email string, id int) string {
	return strings.NewReplacer("NAME", name, "DISPLAY", display, "EMAIL", email, "ID", strconv.Itoa(id)).Replace(`{
	"name": "NAME", "emailAddress": "EMAIL", "active": true, "displayName": "DISPLAY", "id": ID, "slug": "NAME", "type": "NORMAL",
	"links": {"self": [{"href": "https://bitbucket.acme.example/users/NAME"}]}}`)
}

const dcRepo = `{
	"slug": "payments-ledger", "id": 318, "name": "payments-ledger", "hierarchyId": "c4e8a1f05b2d9e7f3a16",
	"scmId": "git", "state": "AVAILABLE", "statusMessage": "Available", "archived": false, "forkable": true,
	"project": {
		"key": "PAY", "id": 44, "name": "Payments", "description": "Payment processing services", "public": false, "type": "NORMAL",
		"links": {"self": [{"href": "https://bitbucket.acme.example/projects/PAY"}]}
	},
	"public": false,
	"links": {
		"clone": [
			{"href": "ssh://git@bitbucket.acme.example:7999/pay/payments-ledger.git", "name": "ssh"},
			{"href": "https://bitbucket.acme.example/scm/pay/payments-ledger.git", "name": "http"}
		],
		"self": [{"href": "https://bitbucket.acme.example/projects/PAY/repos/payments-ledger/browse"}]
	}}`

const dcRefsChanged = `{
	"eventKey": "repo:refs_changed",
	"date": "2026-11-20T14:02:11+0100",
	"actor": {{TKOWALSKI}},
	"repository": {{DC_REPO}},
	"changes": [
		{
			"ref": {"id": "refs/heads/release/9.4", "displayId": "release/9.4", "type": "BRANCH"},
			"refId": "refs/heads/release/9.4",
			"fromHash": "c1e3a5b7d9f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8",
			"toHash": "f2a4c6e8b0d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9",
			"type": "UPDATE"
		}
	]
}`

const dcPROpened = `{
	"eventKey": "pr:opened",
	"date": "2026-11-20T14:18:47+0100",
	"actor": {{AOKAFOR}},
	"pullRequest": {
		"id": 231, "version": 0,
		"title": "PAY-1432: retry ledger writes on deadlock",
		"description": "Wraps ledger inserts in a retry loop (3 attempts, jittered backoff) when Postgres reports a deadlock.",
		"state": "OPEN", "open": true, "closed": false, "draft": false,
		"createdDate": 1763644727412, "updatedDate": 1763644727412,
		"fromRef": {
			"id": "refs/heads/feature/PAY-1432-retry-ledger", "displayId": "feature/PAY-1432-retry-ledger",
			"latestCommit": "9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d", "type": "BRANCH",
			"repository": {{DC_REPO}}
		},
		"toRef": {
			"id": "refs/heads/master", "displayId": "master",
			"latestCommit": "f2a4c6e8b0d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9", "type": "BRANCH",
			"repository": {{DC_REPO}}
		},
		"locked": false,
		"author": {"user": {{AOKAFOR}}, "role": "AUTHOR", "approved": false, "status": "UNAPPROVED"},
		"reviewers": [{"user": {{TKOWALSKI}}, "role": "REVIEWER", "approved": false, "status": "UNAPPROVED"}],
		"participants": [],
		"links": {"self": [{"href": "https://bitbucket.acme.example/projects/PAY/repos/payments-ledger/pull-requests/231"}]}
	}
}`

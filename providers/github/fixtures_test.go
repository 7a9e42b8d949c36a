package github

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
	"github.com/hookrelay/hookrelay/providers/providertest"
)

// testSecret signs every file under testdata/; testdata/README names it.
const testSecret = "hookrelay-github-testdata"

// fixture is one delivery under testdata/, built from a payload template.
type fixture struct {
	file     string // testdata/<file>
	event    string // X-GitHub-Event
	delivery string // X-GitHub-Delivery
	form     bool   // application/x-www-form-urlencoded with payload=<json>
	payload  string // JSON with {{...}} fragments, compacted as GitHub sends it
}

var fixtures = []fixture{
	{"push.http", "push", "3c0d7e52-c6a1-11f1-8f4e-1a2b7c9d0e31", false, pushBranch},
	{"push_tag.http", "push", "5a91be04-c6b3-11f1-9a2c-7d41f0e2b6aa", false, pushTag},
	{"pull_request.http", "pull_request", "8e2f4c10-c6a4-11f1-83b5-0b6c1d2e3f47", false, pullRequestOpened},
	{"issues.http", "issues", "b14a9d70-c6a7-11f1-9e61-c3f0a8d25b19", false, issuesLabeled},
	{"ping.http", "ping", "0d6f3a82-c5e0-11f1-8d1e-5f2c4b7a9e03", false, ping},
	{"issue_comment.http", "issue_comment", "e7c35b26-c6a9-11f1-8a0f-94d2e6b1c7f8", false, issueComment},
	{"release.http", "release", "1f8b6d94-c6b3-11f1-95d7-2e4a6c8b0d13", false, releasePublished},
	{"push_form.http", "push", "6b2e0c58-c6ad-11f1-8c3a-e1f5a7b9d024", true, pushForm},
}

// File implements providertest.Fixture.
func (f fixture) File() string { return f.file }

// Render renders f as the raw request GitHub would send, signed with
// testSecret in both signature headers, as GitHub does.
func (f fixture) Render(t testing.TB) []byte {
	t.Helper()
	js := providertest.CompactJSON(t, f.file+" payload template", []byte(expand(f.payload)))
	body, ct := js, "application/json"
	if f.form {
		body, ct = []byte("payload="+url.QueryEscape(string(js))), "application/x-www-form-urlencoded"
	}
	h := http.Header{
		"Host":                                   {"hooks.example.com"},
		"Accept":                                 {"*/*"},
		"Content-Type":                           {ct},
		"User-Agent":                             {"GitHub-Hookshot/0a7c3e5"},
		"X-GitHub-Delivery":                      {f.delivery},
		"X-GitHub-Event":                         {f.event},
		"X-GitHub-Hook-ID":                       {"512345678"},
		"X-GitHub-Hook-Installation-Target-ID":   {"734215908"},
		"X-GitHub-Hook-Installation-Target-Type": {"repository"},
		SHA1SignatureHeader:                      {"sha1=" + hex.EncodeToString(providers.MAC(sha1.New, []byte(testSecret), body))},
		SHA256SignatureHeader:                    {"sha256=" + hex.EncodeToString(providers.MAC(sha256.New, []byte(testSecret), body))},
	}
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/acme/github", Header: h, Body: body})
}

// expand replaces the {{...}} fragments shared by several payloads.
func expand(s string) string {
	return strings.NewReplacer(
		"{{REPO}}", repository(false),
		"{{PUSH_REPO}}", repository(true),
		"{{ORG}}", organization,
		"{{JMARSH}}", user("jmarsh", 5823419, "MDQ6VXNlcjU4MjM0MTk=", "User"),
		"{{PRIYA}}", user("priya-r", 7712034, "MDQ6VXNlcjc3MTIwMzQ=", "User"),
		"{{ORGUSER}}", orgUser,
		"{{DEPBOT}}", user("release-please[bot]", 55107282, "MDM6Qm90NTUxMDcyODI=", "Bot"),
		"{{APPLE_PAY_COMMIT}}", commit("9f3a2c4e1b0d8f7a6e5c4b3a29180f7e6d5c4b3a", "1d9e0f3a7b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e", "2026-11-20T10:02:17+01:00",
			`Add Apple Pay to the checkout payment methods\n\nThe payment sheet offers Apple Pay when the browser supports\nPaymentRequest and the merchant domain is verified, and falls back\nto card entry otherwise.\n\nRefs #398`,
			jordan, jordan, `"added": ["src/checkout/payments/applePay.ts", "src/checkout/payments/applePay.test.ts"], "removed": [],
			"modified": ["src/checkout/PaymentSheet.tsx", "src/checkout/payments/index.ts"]`),
		"{{DECLINE_COMMIT}}", commit("e4d2c8a0b6f1e3d5c7a9b2f4e6d8c0a1b3f5e7d9", "7a0c2e4f6b8d1a3c5e7f9b0d2f4a6c8e1b3d5f7a", "2026-11-20T10:11:58+01:00",
			`Keep the cart when an Apple Pay token is declined\n\nA decline used to reset the session; show the issuer's message instead.`,
			jordan, jordan, `"added": [], "removed": ["src/checkout/session/resetOnDecline.ts"],
			"modified": ["src/checkout/payments/applePay.ts", "src/checkout/session/index.ts"]`),
		"{{BADGE_COMMIT}}", commit("f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d1f3a5", "2b4d6f8a0c1e3a5c7e9b1d3f5a7c9e0b2d4f6a8c", "2026-11-20T11:24:36+01:00",
			`Read the cart badge from the client store\n\nFixes #431`,
			priya, priya, `"added": [], "removed": [], "modified": ["src/header/CartBadge.tsx"]`),
		"{{RELEASE_COMMIT}}", commit("a07f5c3e9b1d2e4f6a8c0b2d4e6f8a1c3e5b7d90", "c3e5a7b9d1f2a4c6e8b0d2f4a6c8e0b1d3f5a7c9", "2026-11-20T16:40:03+01:00",
			`chore(main): release 2.4.0 (#421)`,
			`{"name": "release-please[bot]", "email": "55107282+release-please[bot]@users.noreply.github.com", "username": "release-please[bot]"}`,
			`{"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"}`,
			`"added": [], "removed": [], "modified": ["CHANGELOG.md", "package.json", ".release-please-manifest.json"]`),
	).Replace(s)
}

// The authors and committers of the testdata's commits.
const (
	jordan = `{"name": "Jordan Marsh", "email": "jordan.marsh@acme.example", "username": "jmarsh"}`
	priya  = `{"name": "Priya Raman", "email": "priya.raman@acme.example", "username": "priya-r"}`
)

// commit renders a commit as a push payload lists it in commits and as
// head_commit; files are its added, removed and modified lists.
func commit(id, tree, timestamp, message, author, committer, files string) string {
	return strings.NewReplacer("ID", id, "TREE", tree, "TIME", timestamp, "MESSAGE", message,
		"AUTHOR", author, "COMMITTER", committer, "FILES", files).Replace(`{
	"id": "ID", "tree_id": "TREE", "distinct": true,
	"message": "MESSAGE",
	"timestamp": "TIME",
	"url": "https://github.com/acme/storefront/commit/ID",
	"author": AUTHOR, "committer": COMMITTER,
	FILES}`)
}

func user(login string, id int, node, typ string) string {
	return strings.NewReplacer("LOGIN", login, "ID", strconv.Itoa(id), "NODE", node, "TYPE", typ).Replace(`{
	"login": "LOGIN", "id": ID, "node_id": "NODE",
	"avatar_url": "https://avatars.githubusercontent.com/u/ID?v=4", "gravatar_id": "",
	"url": "https://api.github.com/users/LOGIN", "html_url": "https://github.com/LOGIN",
	"followers_url": "https://api.github.com/users/LOGIN/followers",
	"following_url": "https://api.github.com/users/LOGIN/following{/other_user}",
	"gists_url": "https://api.github.com/users/LOGIN/gists{/gist_id}",
	"starred_url": "https://api.github.com/users/LOGIN/starred{/owner}{/repo}",
	"subscriptions_url": "https://api.github.com/users/LOGIN/subscriptions",
	"organizations_url": "https://api.github.com/users/LOGIN/orgs",
	"repos_url": "https://api.github.com/users/LOGIN/repos",
	"events_url": "https://api.github.com/users/LOGIN/events{/privacy}",
	"received_events_url": "https://api.github.com/users/LOGIN/received_events",
	"type": "TYPE", "user_view_type": "public", "site_admin": false}`)
}

// orgUser is the organisation as a user object (repository owner).
var orgUser = user("acme", 91837465, "O_kgDOBXlOGQ", "Organization")

const organization = `{
	"login": "acme", "id": 91837465, "node_id": "O_kgDOBXlOGQ",
	"url": "https://api.github.com/orgs/acme", "repos_url": "https://api.github.com/orgs/acme/repos",
	"events_url": "https://api.github.com/orgs/acme/events", "hooks_url": "https://api.github.com/orgs/acme/hooks",
	"issues_url": "https://api.github.com/orgs/acme/issues",
	"members_url": "https://api.github.com/orgs/acme/members{/member}",
	"public_members_url": "https://api.github.com/orgs/acme/public_members{/member}",
	"avatar_url": "https://avatars.githubusercontent.com/u/91837465?v=4",
	"description": "Acme online retail"}`

// repository is the repository object; push payloads carry Unix times and
// a few extra fields.
func repository(push bool) string {
	owner := `"owner": ` + orgUser
	times := `"created_at": "2023-12-04T08:19:52Z", "updated_at": "2026-11-19T17:03:11Z", "pushed_at": "2026-11-20T09:12:45Z",`
	tail := `"default_branch": "main", "custom_properties": {}`
	if push {
		owner = `"owner": {"name": "acme", "email": null, ` + strings.TrimPrefix(orgUser, "{")
		times = `"created_at": 1701677992, "updated_at": "2026-11-19T17:03:11Z", "pushed_at": 1763629965,`
		tail = `"default_branch": "main", "stargazers": 12, "master_branch": "main", "organization": "acme", "custom_properties": {}`
	}
	return strings.NewReplacer("OWNER", owner, "TIMES", times, "TAIL", tail).Replace(`{
	"id": 734215908, "node_id": "R_kgDOK8Jc5A", "name": "storefront", "full_name": "acme/storefront", "private": true,
	OWNER,
	"html_url": "https://github.com/acme/storefront", "description": "Acme web shop: catalogue, cart and checkout", "fork": false,
	"url": "https://api.github.com/repos/acme/storefront",
	"forks_url": "https://api.github.com/repos/acme/storefront/forks",
	"keys_url": "https://api.github.com/repos/acme/storefront/keys{/key_id}",
	"collaborators_url": "https://api.github.com/repos/acme/storefront/collaborators{/collaborator}",
	"teams_url": "https://api.github.com/repos/acme/storefront/teams",
	"hooks_url": "https://api.github.com/repos/acme/storefront/hooks",
	"issue_events_url": "https://api.github.com/repos/acme/storefront/issues/events{/number}",
	"events_url": "https://api.github.com/repos/acme/storefront/events",
	"assignees_url": "https://api.github.com/repos/acme/storefront/assignees{/user}",
	"branches_url": "https://api.github.com/repos/acme/storefront/branches{/branch}",
	"tags_url": "https://api.github.com/repos/acme/storefront/tags",
	"blobs_url": "https://api.github.com/repos/acme/storefront/git/blobs{/sha}",
	"git_tags_url": "https://api.github.com/repos/acme/storefront/git/tags{/sha}",
	"git_refs_url": "https://api.github.com/repos/acme/storefront/git/refs{/sha}",
	"trees_url": "https://api.github.com/repos/acme/storefront/git/trees{/sha}",
	"statuses_url": "https://api.github.com/repos/acme/storefront/statuses/{sha}",
	"languages_url": "https://api.github.com/repos/acme/storefront/languages",
	"stargazers_url": "https://api.github.com/repos/acme/storefront/stargazers",
	"contributors_url": "https://api.github.com/repos/acme/storefront/contributors",
	"subscribers_url": "https://api.github.com/repos/acme/storefront/subscribers",
	"subscription_url": "https://api.github.com/repos/acme/storefront/subscription",
	"commits_url": "https://api.github.com/repos/acme/storefront/commits{/sha}",
	"git_commits_url": "https://api.github.com/repos/acme/storefront/git/commits{/sha}",
	"comments_url": "https://api.github.com/repos/acme/storefront/comments{/number}",
	"issue_comment_url": "https://api.github.com/repos/acme/storefront/issues/comments{/number}",
	"contents_url": "https://api.github.com/repos/acme/storefront/contents/{+path}",
	"compare_url": "https://api.github.com/repos/acme/storefront/compare/{base}...{head}",
	"merges_url": "https://api.github.com/repos/acme/storefront/merges",
	"archive_url": "https://api.github.com/repos/acme/storefront/{archive_format}{/ref}",
	"downloads_url": "https://api.github.com/repos/acme/storefront/downloads",
	"issues_url": "https://api.github.com/repos/acme/storefront/issues{/number}",
	"pulls_url": "https://api.github.com/repos/acme/storefront/pulls{/number}",
	"milestones_url": "https://api.github.com/repos/acme/storefront/milestones{/number}",
	"notifications_url": "https://api.github.com/repos/acme/storefront/notifications{?since,all,participating}",
	"labels_url": "https://api.github.com/repos/acme/storefront/labels{/name}",
	"releases_url": "https://api.github.com/repos/acme/storefront/releases{/id}",
	"deployments_url": "https://api.github.com/repos/acme/storefront/deployments",
	TIMES
	"git_url": "git://github.com/acme/storefront.git", "ssh_url": "git@github.com:acme/storefront.git",
	"clone_url": "https://github.com/acme/storefront.git", "svn_url": "https://github.com/acme/storefront",
	"homepage": "https://shop.acme.example", "size": 18422, "stargazers_count": 12, "watchers_count": 12,
	"language": "TypeScript", "has_issues": true, "has_projects": true, "has_downloads": true, "has_wiki": false,
	"has_pages": false, "has_discussions": false, "forks_count": 1, "mirror_url": null, "archived": false,
	"disabled": false, "open_issues_count": 23, "license": null, "allow_forking": false, "is_template": false,
	"web_commit_signoff_required": false, "topics": ["checkout", "ecommerce", "nextjs"], "visibility": "private",
	"forks": 1, "open_issues": 23, "watchers": 12,
	TAIL}`)
}

const pushBranch = `{
	"ref": "refs/heads/main",
	"before": "4c1b2f09e8a7d6c5b4a3928170f6e5d4c3b2a190",
	"after": "e4d2c8a0b6f1e3d5c7a9b2f4e6d8c0a1b3f5e7d9",
	"repository": {{PUSH_REPO}},
	"pusher": {"name": "jmarsh", "email": "5823419+jmarsh@users.noreply.github.com"},
	"organization": {{ORG}},
	"sender": {{JMARSH}},
	"created": false, "deleted": false, "forced": false, "base_ref": null,
	"compare": "https://github.com/acme/storefront/compare/4c1b2f09e8a7...e4d2c8a0b6f1",
	"commits": [{{APPLE_PAY_COMMIT}}, {{DECLINE_COMMIT}}],
	"head_commit": {{DECLINE_COMMIT}}
}`

const pushTag = `{
	"ref": "refs/tags/v2.4.0",
	"before": "0000000000000000000000000000000000000000",
	"after": "a07f5c3e9b1d2e4f6a8c0b2d4e6f8a1c3e5b7d90",
	"repository": {{PUSH_REPO}},
	"pusher": {"name": "release-please[bot]", "email": "55107282+release-please[bot]@users.noreply.github.com"},
	"organization": {{ORG}},
	"sender": {{DEPBOT}},
	"created": true, "deleted": false, "forced": false, "base_ref": "refs/heads/main",
	"compare": "https://github.com/acme/storefront/compare/v2.4.0",
	"commits": [],
	"head_commit": {{RELEASE_COMMIT}}
}`

const pullRequestOpened = `{
	"action": "opened",
	"number": 412,
	"pull_request": {
		"url": "https://api.github.com/repos/acme/storefront/pulls/412",
		"id": 2184736519, "node_id": "PR_kwDOK8Jc5M6COJkH",
		"html_url": "https://github.com/acme/storefront/pull/412",
		"diff_url": "https://github.com/acme/storefront/pull/412.diff",
		"patch_url": "https://github.com/acme/storefront/pull/412.patch",
		"issue_url": "https://api.github.com/repos/acme/storefront/issues/412",
		"number": 412, "state": "open", "locked": false,
		"title": "Offer Apple Pay in checkout",
		"user": {{PRIYA}},
		"body": "Adds Apple Pay to the payment sheet behind the checkout.applePay flag.\n\n- [x] domain verification file served from /.well-known\n- [x] declined tokens keep the cart\n- [ ] copy review\n\nCloses #398",
		"created_at": "2026-11-20T09:31:07Z", "updated_at": "2026-11-20T09:31:07Z",
		"closed_at": null, "merged_at": null, "merge_commit_sha": null,
		"assignee": null, "assignees": [], "requested_reviewers": [{{JMARSH}}], "requested_teams": [],
		"labels": [], "milestone": null, "draft": false,
		"commits_url": "https://api.github.com/repos/acme/storefront/pulls/412/commits",
		"review_comments_url": "https://api.github.com/repos/acme/storefront/pulls/412/comments",
		"review_comment_url": "https://api.github.com/repos/acme/storefront/pulls/comments{/number}",
		"comments_url": "https://api.github.com/repos/acme/storefront/issues/412/comments",
		"statuses_url": "https://api.github.com/repos/acme/storefront/statuses/d81f3b6a2c9e0d4f7a1b5c8e2d6f9a0b3c7e1d5f",
		"head": {
			"label": "acme:feature/apple-pay", "ref": "feature/apple-pay",
			"sha": "d81f3b6a2c9e0d4f7a1b5c8e2d6f9a0b3c7e1d5f",
			"user": {{ORGUSER}}, "repo": {{REPO}}
		},
		"base": {
			"label": "acme:main", "ref": "main",
			"sha": "4c1b2f09e8a7d6c5b4a3928170f6e5d4c3b2a190",
			"user": {{ORGUSER}}, "repo": {{REPO}}
		},
		"_links": {
			"self": {"href": "https://api.github.com/repos/acme/storefront/pulls/412"},
			"html": {"href": "https://github.com/acme/storefront/pull/412"},
			"issue": {"href": "https://api.github.com/repos/acme/storefront/issues/412"},
			"comments": {"href": "https://api.github.com/repos/acme/storefront/issues/412/comments"},
			"review_comments": {"href": "https://api.github.com/repos/acme/storefront/pulls/412/comments"},
			"review_comment": {"href": "https://api.github.com/repos/acme/storefront/pulls/comments{/number}"},
			"commits": {"href": "https://api.github.com/repos/acme/storefront/pulls/412/commits"},
			"statuses": {"href": "https://api.github.com/repos/acme/storefront/statuses/d81f3b6a2c9e0d4f7a1b5c8e2d6f9a0b3c7e1d5f"}
		},
		"author_association": "MEMBER", "auto_merge": null, "active_lock_reason": null,
		"merged": false, "mergeable": null, "rebaseable": null, "mergeable_state": "unknown", "merged_by": null,
		"comments": 0, "review_comments": 0, "maintainer_can_modify": false,
		"commits": 4, "additions": 312, "deletions": 41, "changed_files": 9
	},
	"repository": {{REPO}},
	"organization": {{ORG}},
	"sender": {{PRIYA}}
}`

const issueObject = `{
	"url": "https://api.github.com/repos/acme/storefront/issues/431",
	"repository_url": "https://api.github.com/repos/acme/storefront",
	"labels_url": "https://api.github.com/repos/acme/storefront/issues/431/labels{/name}",
	"comments_url": "https://api.github.com/repos/acme/storefront/issues/431/comments",
	"events_url": "https://api.github.com/repos/acme/storefront/issues/431/events",
	"html_url": "https://github.com/acme/storefront/issues/431",
	"id": 2691044873, "node_id": "I_kwDOK8Jc5M6gZ0AJ", "number": 431,
	"title": "Cart badge shows stale count after removing the last item",
	"user": {{PRIYA}},
	"labels": [
		{"id": 6120394811, "node_id": "LA_kwDOK8Jc5M8AAAABbNt3Ow", "url": "https://api.github.com/repos/acme/storefront/labels/bug", "name": "bug", "color": "d73a4a", "default": true, "description": "Something isn't working"},
		{"id": 8834120557, "node_id": "LA_kwDOK8Jc5M8AAAACDpiRbQ", "url": "https://api.github.com/repos/acme/storefront/labels/coding%20agent", "name": "coding agent", "color": "5319e7", "default": false, "description": "Hand this issue to the coding agent"}
	],
	"state": "open", "locked": false, "assignee": null, "assignees": [], "milestone": null,
	"comments": COMMENTS,
	"created_at": "2026-11-19T15:22:40Z", "updated_at": "UPDATED", "closed_at": null,
	"author_association": "MEMBER", "type": null, "active_lock_reason": null,
	"sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
	"body": "Steps: add one item, open the mini cart, remove it. The header badge keeps showing 1 until a reload.\n\nSeen on Safari 18 and Chrome 131.",
	"reactions": {"url": "https://api.github.com/repos/acme/storefront/issues/431/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
	"timeline_url": "https://api.github.com/repos/acme/storefront/issues/431/timeline",
	"performed_via_github_app": null, "state_reason": null}`

var issuesLabeled = `{
	"action": "labeled",
	"issue": ` + strings.NewReplacer("COMMENTS", "0", "UPDATED", "2026-11-20T08:05:13Z").Replace(issueObject) + `,
	"label": {"id": 8834120557, "node_id": "LA_kwDOK8Jc5M8AAAACDpiRbQ", "url": "https://api.github.com/repos/acme/storefront/labels/coding%20agent", "name": "coding agent", "color": "5319e7", "default": false, "description": "Hand this issue to the coding agent"},
	"repository": {{REPO}},
	"organization": {{ORG}},
	"sender": {{JMARSH}}
}`

var issueComment = `{
	"action": "created",
	"issue": ` + strings.NewReplacer("COMMENTS", "1", "UPDATED", "2026-11-20T08:47:29Z").Replace(issueObject) + `,
	"comment": {
		"url": "https://api.github.com/repos/acme/storefront/issues/comments/2490331786",
		"html_url": "https://github.com/acme/storefront/issues/431#issuecomment-2490331786",
		"issue_url": "https://api.github.com/repos/acme/storefront/issues/431",
		"id": 2490331786, "node_id": "IC_kwDOK8Jc5M6Ui0yK",
		"user": {{JMARSH}},
		"created_at": "2026-11-20T08:47:29Z", "updated_at": "2026-11-20T08:47:29Z",
		"author_association": "MEMBER",
		"body": "Reproduced. The badge reads from the SSR snapshot; the mini cart updates the client store only.",
		"reactions": {"url": "https://api.github.com/repos/acme/storefront/issues/comments/2490331786/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
		"performed_via_github_app": null
	},
	"repository": {{REPO}},
	"organization": {{ORG}},
	"sender": {{JMARSH}}
}`

const ping = `{
	"zen": "Design for failure.",
	"hook_id": 512345678,
	"hook": {
		"type": "Repository", "id": 512345678, "name": "web", "active": true,
		"events": ["issue_comment", "issues", "ping", "pull_request", "push", "release"],
		"config": {"content_type": "json", "insecure_ssl": "0", "secret": "********", "url": "https://hooks.example.com/webhook/acme/github"},
		"updated_at": "2026-11-19T14:58:02Z", "created_at": "2026-11-19T14:58:02Z",
		"url": "https://api.github.com/repos/acme/storefront/hooks/512345678",
		"test_url": "https://api.github.com/repos/acme/storefront/hooks/512345678/test",
		"ping_url": "https://api.github.com/repos/acme/storefront/hooks/512345678/pings",
		"deliveries_url": "https://api.github.com/repos/acme/storefront/hooks/512345678/deliveries",
		"last_response": {"code": null, "status": "unused", "message": null}
	},
	"repository": {{REPO}},
	"organization": {{ORG}},
	"sender": {{JMARSH}}
}`

const releasePublished = `{
	"action": "published",
	"release": {
		"url": "https://api.github.com/repos/acme/storefront/releases/187264093",
		"assets_url": "https://api.github.com/repos/acme/storefront/releases/187264093/assets",
		"upload_url": "https://uploads.github.com/repos/acme/storefront/releases/187264093/assets{?name,label}",
		"html_url": "https://github.com/acme/storefront/releases/tag/v2.4.0",
		"id": 187264093,
		"author": {{DEPBOT}},
		"node_id": "RE_kwDOK8Jc5M4LKXJd",
		"tag_name": "v2.4.0", "target_commitish": "main", "name": "v2.4.0",
		"draft": false, "immutable": false, "prerelease": false,
		"created_at": "2026-11-20T15:40:03Z", "updated_at": "2026-11-20T15:40:41Z", "published_at": "2026-11-20T15:40:41Z",
		"assets": [],
		"tarball_url": "https://api.github.com/repos/acme/storefront/tarball/v2.4.0",
		"zipball_url": "https://api.github.com/repos/acme/storefront/zipball/v2.4.0",
		"body": "## [2.4.0](https://github.com/acme/storefront/compare/v2.3.2...v2.4.0) (2026-11-20)\n\n### Features\n\n* offer Apple Pay in checkout ([#412](https://github.com/acme/storefront/issues/412))\n\n### Bug Fixes\n\n* keep the cart when a wallet token is declined"
	},
	"repository": {{REPO}},
	"organization": {{ORG}},
	"sender": {{DEPBOT}}
}`

const pushForm = `{
	"ref": "refs/heads/fix/cart-badge",
	"before": "0b9d7f5e3c1a2b4d6f8e0a1c3e5b7d9f2a4c6e8b",
	"after": "f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d1f3a5",
	"repository": {{PUSH_REPO}},
	"pusher": {"name": "priya-r", "email": "7712034+priya-r@users.noreply.github.com"},
	"organization": {{ORG}},
	"sender": {{PRIYA}},
	"created": false, "deleted": false, "forced": false, "base_ref": null,
	"compare": "https://github.com/acme/storefront/compare/0b9d7f5e3c1a...f6a8c0e2b4d6",
	"commits": [{{BADGE_COMMIT}}],
	"head_commit": {{BADGE_COMMIT}}
}`

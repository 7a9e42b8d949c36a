package gitea

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
const testSecret = "hookrelay-gitea-testdata"

// fixture is one delivery under testdata/, built from a payload template.
type fixture struct {
	file      string
	event     string // X-Gitea-Event
	eventType string // X-Gitea-Event-Type
	delivery  string
	forgejo   bool // Forgejo: X-Forgejo-* headers as well
	form      bool // application/x-www-form-urlencoded with payload=<json>
	payload   string
}

var fixtures = []fixture{
	{"push.http", "push", "push", "5f0d8c3a-7b21-4e9f-a6d4-2c81e0b937f5", false, false, giteaPush},
	{"pull_request.http", "pull_request", "pull_request", "c9e47a12-3f58-4b6d-8e02-71a5d9c4b6e3", false, false, pullRequestOpened},
	{"issues.http", "issues", "issue_label", "0a6b2f94-d1c7-4e38-b5a9-e84f3c7d2016", false, false, issueLabelUpdated},
	{"push_forgejo.http", "push", "push", "e1b39d07-5c4a-4f82-9d3e-6a0f8b2c4d71", true, false, forgejoPush},
	{"push_form.http", "push", "push", "74c2e8b5-09d6-4a1f-b3c7-d5e9f1a28c40", false, true, giteaPushForm},
}

// File implements providertest.Fixture.
func (f fixture) File() string { return f.file }

// Render renders f as Gitea (or Forgejo) sends it: the payload indented by
// two spaces, every signature header computed over the JSON payload (also
// for a form body, as Gitea's deliver.go does).
func (f fixture) Render(t testing.TB) []byte {
	t.Helper()
	compact := providertest.CompactJSON(t, f.file+" payload template", []byte(expand(f.payload)))
	var js bytes.Buffer
	if err := json.Indent(&js, compact, "", "  "); err != nil {
		t.Fatal(err)
	}
	body, ct := js.Bytes(), "application/json"
	if f.form {
		body, ct = []byte(url.Values{"payload": {js.String()}}.Encode()), "application/x-www-form-urlencoded"
	}
	sig256 := hex.EncodeToString(providers.MAC(sha256.New, []byte(testSecret), js.Bytes()))
	sig1 := hex.EncodeToString(providers.MAC(sha1.New, []byte(testSecret), js.Bytes()))
	h := http.Header{
		"Host":                {"hooks.example.com"},
		"Accept-Encoding":     {"gzip"},
		"Content-Type":        {ct},
		"User-Agent":          {"Go-http-client/1.1"},
		"X-GitHub-Delivery":   {f.delivery},
		"X-GitHub-Event":      {f.event},
		"X-GitHub-Event-Type": {f.eventType},
		"X-Gitea-Delivery":    {f.delivery},
		"X-Gitea-Event":       {f.event},
		"X-Gitea-Event-Type":  {f.eventType},
		"X-Gitea-Signature":   {sig256},
		"X-Gogs-Delivery":     {f.delivery},
		"X-Gogs-Event":        {f.event},
		"X-Gogs-Event-Type":   {f.eventType},
		"X-Gogs-Signature":    {sig256},
		"X-Hub-Signature":     {"sha1=" + sig1},
		"X-Hub-Signature-256": {"sha256=" + sig256},
	}
	if f.forgejo {
		h["X-Forgejo-Delivery"] = []string{f.delivery}
		h["X-Forgejo-Event"] = []string{f.event}
		h["X-Forgejo-Event-Type"] = []string{f.eventType}
		h["X-Forgejo-Signature"] = []string{sig256}
	}
	return httpfile.Format(&httpfile.Request{Method: "POST", Target: "/webhook/acme/gitea", Header: h, Body: body})
}

const (
	giteaBase   = "https://git.acme.example"
	forgejoBase = "https://code.acme.example"
)

func expand(s string) string {
	return strings.NewReplacer(
		"{{REPO}}", repository(giteaBase, 42, "inventory", "Stock levels, reservations and the warehouse sync"),
		"{{DOCS_REPO}}", repository(forgejoBase, 9, "docs-site", "Public documentation site"),
		"{{JMARSH}}", user(giteaBase, 7, "jmarsh", "Jordan Marsh"),
		"{{PRIYA}}", user(giteaBase, 12, "priya", "Priya Raman"),
		"{{FJ_PRIYA}}", user(forgejoBase, 3, "priya", "Priya Raman"),
		"{{ROUND_COMMIT}}", commit(giteaBase+"/acme/inventory", "2c7e9a1f3b5d8e0a2c4f6b8d1e3a5c7f9b0d2e4a", "2026-11-20T10:40:52+01:00",
			`Round reserved stock down, not to nearest\n\nHalf units reserved by bundle orders were rounded up and oversold the last item.\n`,
			jordan, `"added": ["internal/reserve/round_test.go"], "removed": [], "modified": ["internal/reserve/round.go"]`),
		"{{SYNC_COMMIT}}", commit(giteaBase+"/acme/inventory", "9e1c3a5f7b9d2e4a6c8f0b2d4e6a8c1f3b5d7e9a", "2026-11-20T13:05:19+01:00",
			`Sync warehouse B every 5 minutes instead of hourly\n`,
			priya, `"added": [], "removed": [], "modified": ["deploy/cron.yaml"]`),
		"{{RELEASE_COMMIT}}", commit(forgejoBase+"/acme/docs-site", "5a7c9e1b3d5f7a9c1e3b5d7f9a2c4e6b8d0f2a4c", "2026-11-20T15:22:08+01:00",
			`Release 1.8.0: checkout and wallets guide\n`,
			priya, `"added": ["content/guides/wallets.md"], "removed": [], "modified": ["content/guides/checkout.md", "CHANGELOG.md"]`),
		"{{GITEA}}", giteaBase,
		"{{FORGEJO}}", forgejoBase,
	).Replace(s)
}

// The authors (and committers) of the testdata's commits.
const (
	jordan = `{"name": "Jordan Marsh", "email": "jordan.marsh@acme.example", "username": "jmarsh"}`
	priya  = `{"name": "Priya Raman", "email": "priya.raman@acme.example", "username": "priya"}`
)

// commit renders a commit of repo as a push payload lists it in commits
// and as head_commit; its author committed it, and files are its added,
// removed and modified lists.
func commit(repo, id, timestamp, message, author, files string) string {
	return strings.NewReplacer("REPO", repo, "ID", id, "TIME", timestamp, "MESSAGE", message, "AUTHOR", author, "FILES", files).Replace(`{
	"id": "ID",
	"message": "MESSAGE",
	"url": "REPO/commit/ID",
	"author": AUTHOR, "committer": AUTHOR,
	"verification": null,
	"timestamp": "TIME",
	FILES}`)
}

func user(base string, id int, login, fullName string) string {
	return strings.NewReplacer("BASE", base, "ID", strconv.Itoa(id), "LOGIN", login, "FULL", fullName).Replace(`{
	"id": ID, "login": "LOGIN", "login_name": "", "source_id": 0, "full_name": "FULL",
	"email": "LOGIN@noreply.acme.example", "avatar_url": "BASE/avatars/a3c9f1e07b6d2e84c5f90d1b7e6a4c28",
	"html_url": "BASE/LOGIN", "language": "", "is_admin": false, "last_login": "0001-01-01T00:00:00Z",
	"created": "2024-02-11T09:12:40+01:00", "restricted": false, "active": false, "prohibit_login": false,
	"location": "", "website": "", "description": "", "visibility": "public",
	"followers_count": 0, "following_count": 0, "starred_repos_count": 0, "username": "LOGIN"}`)
}

func repository(base string, id int, name, description string) string {
	return strings.NewReplacer("BASE", base, "SSHHOST", strings.TrimPrefix(base, "https://"),
		"ID", strconv.Itoa(id), "NAME", name, "DESC", description).Replace(`{
	"id": ID,
	"owner": {"id": 2, "login": "acme", "login_name": "", "source_id": 0, "full_name": "Acme", "email": "",
		"avatar_url": "BASE/avatars/5e1f0b9c7d3a2468e0c4b1f9a7d5e3c2", "html_url": "BASE/acme", "language": "",
		"is_admin": false, "last_login": "0001-01-01T00:00:00Z", "created": "2024-02-11T09:05:02+01:00",
		"restricted": false, "active": false, "prohibit_login": false, "location": "", "website": "",
		"description": "", "visibility": "private", "followers_count": 0, "following_count": 0,
		"starred_repos_count": 0, "username": "acme"},
	"name": "NAME", "full_name": "acme/NAME", "description": "DESC",
	"empty": false, "private": true, "fork": false, "template": false, "parent": null, "mirror": false,
	"size": 2148, "language": "Go", "languages_url": "BASE/api/v1/repos/acme/NAME/languages",
	"html_url": "BASE/acme/NAME", "url": "BASE/api/v1/repos/acme/NAME", "link": "",
	"ssh_url": "git@SSHHOST:acme/NAME.git", "clone_url": "BASE/acme/NAME.git", "original_url": "", "website": "",
	"stars_count": 3, "forks_count": 0, "watchers_count": 5, "open_issues_count": 14, "open_pr_counter": 2,
	"release_counter": 11, "default_branch": "main", "archived": false,
	"created_at": "2024-03-18T14:26:51+01:00", "updated_at": "2026-11-20T10:41:07+01:00",
	"archived_at": "1970-01-01T01:00:00+01:00",
	"permissions": {"admin": true, "push": true, "pull": true},
	"has_issues": true,
	"internal_tracker": {"enable_time_tracker": true, "allow_only_contributors_to_track_time": true, "enable_issue_dependencies": true},
	"has_wiki": false, "has_pull_requests": true, "has_projects": true, "projects_mode": "all",
	"has_releases": true, "has_packages": true, "has_actions": true, "ignore_whitespace_conflicts": false,
	"allow_merge_commits": true, "allow_rebase": true, "allow_rebase_explicit": true, "allow_squash_merge": true,
	"allow_fast_forward_only_merge": true, "allow_rebase_update": true, "default_delete_branch_after_merge": true,
	"default_merge_style": "squash", "default_allow_maintainer_edit": false, "avatar_url": "", "internal": false,
	"mirror_interval": "", "object_format_name": "sha1", "mirror_updated": "0001-01-01T00:00:00Z",
	"repo_transfer": null, "topics": null, "licenses": null}`)
}

const giteaPush = `{
	"ref": "refs/heads/main",
	"before": "8d3f1a6c0e2b4d7f9a1c3e5b7d0f2a4c6e8b1d3f",
	"after": "2c7e9a1f3b5d8e0a2c4f6b8d1e3a5c7f9b0d2e4a",
	"compare_url": "{{GITEA}}/acme/inventory/compare/8d3f1a6c0e2b4d7f9a1c3e5b7d0f2a4c6e8b1d3f...2c7e9a1f3b5d8e0a2c4f6b8d1e3a5c7f9b0d2e4a",
	"commits": [{{ROUND_COMMIT}}],
	"total_commits": 1,
	"head_commit": {{ROUND_COMMIT}},
	"repository": {{REPO}},
	"pusher": {{JMARSH}},
	"sender": {{JMARSH}}
}`

const giteaPushForm = `{
	"ref": "refs/heads/sync/warehouse-b",
	"before": "b4d6f8a0c2e4a6c8e0b2d4f6a8c1e3b5d7f9a1c3",
	"after": "9e1c3a5f7b9d2e4a6c8f0b2d4e6a8c1f3b5d7e9a",
	"compare_url": "{{GITEA}}/acme/inventory/compare/b4d6f8a0c2e4a6c8e0b2d4f6a8c1e3b5d7f9a1c3...9e1c3a5f7b9d2e4a6c8f0b2d4e6a8c1f3b5d7e9a",
	"commits": [{{SYNC_COMMIT}}],
	"total_commits": 1,
	"head_commit": {{SYNC_COMMIT}},
	"repository": {{REPO}},
	"pusher": {{PRIYA}},
	"sender": {{PRIYA}}
}`

const forgejoPush = `{
	"ref": "refs/tags/v1.8.0",
	"before": "0000000000000000000000000000000000000000",
	"after": "5a7c9e1b3d5f7a9c1e3b5d7f9a2c4e6b8d0f2a4c",
	"compare_url": "{{FORGEJO}}/acme/docs-site/compare/0000000000000000000000000000000000000000...5a7c9e1b3d5f7a9c1e3b5d7f9a2c4e6b8d0f2a4c",
	"commits": [],
	"total_commits": 0,
	"head_commit": {{RELEASE_COMMIT}},
	"repository": {{DOCS_REPO}},
	"pusher": {{FJ_PRIYA}},
	"sender": {{FJ_PRIYA}}
}`

const pullRequestOpened = `{
	"action": "opened",
	"number": 17,
	"pull_request": {
		"id": 311,
		"url": "{{GITEA}}/acme/inventory/pulls/17",
		"number": 17,
		"user": {{PRIYA}},
		"title": "Reserve stock per warehouse",
		"body": "Reservations now carry a warehouse id, so an order shipping from B no longer blocks stock in A.\n\nMigration: 0042_reservation_warehouse.sql (backfills A).",
		"labels": [],
		"milestone": null,
		"assignee": null,
		"assignees": null,
		"requested_reviewers": null,
		"requested_reviewers_teams": null,
		"state": "open",
		"draft": false,
		"is_locked": false,
		"comments": 0,
		"review_comments": 0,
		"additions": 214,
		"deletions": 37,
		"changed_files": 8,
		"html_url": "{{GITEA}}/acme/inventory/pulls/17",
		"diff_url": "{{GITEA}}/acme/inventory/pulls/17.diff",
		"patch_url": "{{GITEA}}/acme/inventory/pulls/17.patch",
		"mergeable": true,
		"merged": false,
		"merged_at": null,
		"merge_commit_sha": null,
		"merged_by": null,
		"allow_maintainer_edit": false,
		"base": {"label": "main", "ref": "main", "sha": "2c7e9a1f3b5d8e0a2c4f6b8d1e3a5c7f9b0d2e4a", "repo_id": 42, "repo": {{REPO}}},
		"head": {"label": "feature/warehouse-reservations", "ref": "feature/warehouse-reservations", "sha": "f1d3b5a7c9e0f2a4b6c8d0e2f4a6b8c0d2e4f6a8", "repo_id": 42, "repo": {{REPO}}},
		"merge_base": "2c7e9a1f3b5d8e0a2c4f6b8d1e3a5c7f9b0d2e4a",
		"due_date": null,
		"created_at": "2026-11-20T11:02:33+01:00",
		"updated_at": "2026-11-20T11:02:33+01:00",
		"closed_at": null,
		"pin_order": 0
	},
	"requested_reviewer": null,
	"repository": {{REPO}},
	"sender": {{PRIYA}},
	"commit_id": "",
	"review": null
}`

const issueLabelUpdated = `{
	"action": "label_updated",
	"number": 23,
	"issue": {
		"id": 518,
		"url": "{{GITEA}}/api/v1/repos/acme/inventory/issues/23",
		"html_url": "{{GITEA}}/acme/inventory/issues/23",
		"number": 23,
		"user": {{PRIYA}},
		"original_author": "",
		"original_author_id": 0,
		"title": "Negative stock after cancelling a split shipment",
		"body": "Cancel one half of a split shipment and the other warehouse's count goes to -1.",
		"ref": "",
		"assets": [],
		"labels": [
			{"id": 3, "name": "bug", "exclusive": false, "is_archived": false, "color": "ee0701", "description": "Something is not working", "url": "{{GITEA}}/api/v1/repos/acme/inventory/labels/3"},
			{"id": 9, "name": "coding agent", "exclusive": false, "is_archived": false, "color": "5319e7", "description": "Hand this issue to the coding agent", "url": "{{GITEA}}/api/v1/repos/acme/inventory/labels/9"}
		],
		"milestone": null,
		"assignee": null,
		"assignees": null,
		"state": "open",
		"is_locked": false,
		"comments": 2,
		"created_at": "2026-11-19T16:48:05+01:00",
		"updated_at": "2026-11-20T09:14:27+01:00",
		"closed_at": null,
		"due_date": null,
		"pull_request": null,
		"repository": {"id": 42, "name": "inventory", "owner": "acme", "full_name": "acme/inventory"},
		"pin_order": 0
	},
	"repository": {{REPO}},
	"sender": {{JMARSH}},
	"commit_id": ""
}`

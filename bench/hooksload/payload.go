package main

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// pushPayload returns the default body: a GitHub push delivery of about
// 7 KB, one commit to refs/heads/main of acme/storefront, with the
// repository, owner, pusher and sender objects GitHub sends (they are most
// of its size). It is the same bytes on every call: encoding/json sorts map
// keys, and every id and hash is derived from a fixed string.
func pushPayload() []byte {
	const repo = "acme/storefront"
	owner := user("acme", 91837465, "Organization")
	sender := user("alice", 5871234, "User")
	before := fakeSHA("before")
	commits := []any{
		commit(1, "checkout: retry card payments once on a gateway timeout",
			[]string{"internal/checkout/retry.go", "internal/checkout/retry_test.go"}, nil,
			[]string{"internal/checkout/payment.go", "CHANGELOG.md"}),
	}
	after := fakeSHA("commit 1")
	p := map[string]any{
		"ref":         "refs/heads/main",
		"before":      before,
		"after":       after,
		"repository":  repository(repo, owner),
		"pusher":      map[string]any{"name": "alice", "email": "alice@acme.example"},
		"sender":      sender,
		"created":     false,
		"deleted":     false,
		"forced":      false,
		"base_ref":    nil,
		"compare":     "https://github.com/" + repo + "/compare/" + before[:12] + "..." + after[:12],
		"commits":     commits,
		"head_commit": commits[len(commits)-1],
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic("encoding the built-in push payload: " + err.Error()) // maps of strings, bools and numbers always encode
	}
	return b
}

// fakeSHA returns a 40-hex-digit commit hash derived from seed.
func fakeSHA(seed string) string {
	sum := sha1.Sum([]byte(seed))
	return hex.EncodeToString(sum[:])
}

func user(login string, id int, kind string) map[string]any {
	api := "https://api.github.com/users/" + login
	return map[string]any{
		"login":               login,
		"id":                  id,
		"node_id":             fmt.Sprintf("U_kgDO%08d", id%100000000),
		"avatar_url":          fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            "https://github.com/" + login,
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                kind,
		"user_view_type":      "public",
		"site_admin":          false,
	}
}

func repository(fullName string, owner map[string]any) map[string]any {
	api := "https://api.github.com/repos/" + fullName
	r := map[string]any{
		"id":                          734215908,
		"node_id":                     "R_kgDOK8Jc5A",
		"name":                        "storefront",
		"full_name":                   fullName,
		"private":                     true,
		"owner":                       owner,
		"html_url":                    "https://github.com/" + fullName,
		"description":                 "Acme web shop: catalogue, cart and checkout",
		"fork":                        false,
		"url":                         api,
		"created_at":                  1697040000,
		"updated_at":                  "2026-11-20T09:14:02Z",
		"pushed_at":                   1763630042,
		"git_url":                     "git://github.com/" + fullName + ".git",
		"ssh_url":                     "git@github.com:" + fullName + ".git",
		"clone_url":                   "https://github.com/" + fullName + ".git",
		"svn_url":                     "https://github.com/" + fullName,
		"homepage":                    "https://shop.acme.example",
		"size":                        48213,
		"stargazers_count":            12,
		"watchers_count":              12,
		"language":                    "Go",
		"has_issues":                  true,
		"has_projects":                false,
		"has_downloads":               true,
		"has_wiki":                    false,
		"has_pages":                   false,
		"has_discussions":             false,
		"forks_count":                 3,
		"mirror_url":                  nil,
		"archived":                    false,
		"disabled":                    false,
		"open_issues_count":           27,
		"license":                     nil,
		"allow_forking":               false,
		"is_template":                 false,
		"web_commit_signoff_required": false,
		"topics":                      []string{"ecommerce", "go", "payments"},
		"visibility":                  "private",
		"forks":                       3,
		"open_issues":                 27,
		"watchers":                    12,
		"default_branch":              "main",
		"stargazers":                  12,
		"master_branch":               "main",
		"organization":                "acme",
	}
	for _, u := range []struct{ key, path string }{
		{"forks_url", "/forks"}, {"keys_url", "/keys{/key_id}"},
		{"collaborators_url", "/collaborators{/collaborator}"}, {"teams_url", "/teams"},
		{"hooks_url", "/hooks"}, {"issue_events_url", "/issues/events{/number}"},
		{"events_url", "/events"}, {"assignees_url", "/assignees{/user}"},
		{"branches_url", "/branches{/branch}"}, {"tags_url", "/tags"},
		{"blobs_url", "/git/blobs{/sha}"}, {"git_tags_url", "/git/tags{/sha}"},
		{"git_refs_url", "/git/refs{/sha}"}, {"trees_url", "/git/trees{/sha}"},
		{"statuses_url", "/statuses/{sha}"}, {"languages_url", "/languages"},
		{"stargazers_url", "/stargazers"}, {"contributors_url", "/contributors"},
		{"subscribers_url", "/subscribers"}, {"subscription_url", "/subscription"},
		{"commits_url", "/commits{/sha}"}, {"git_commits_url", "/git/commits{/sha}"},
		{"comments_url", "/comments{/number}"}, {"issue_comment_url", "/issues/comments{/number}"},
		{"contents_url", "/contents/{+path}"}, {"compare_url", "/compare/{base}...{head}"},
		{"merges_url", "/merges"}, {"archive_url", "/{archive_format}{/ref}"},
		{"downloads_url", "/downloads"}, {"issues_url", "/issues{/number}"},
		{"pulls_url", "/pulls{/number}"}, {"milestones_url", "/milestones{/number}"},
		{"notifications_url", "/notifications{?since,all,participating}"},
		{"labels_url", "/labels{/name}"}, {"releases_url", "/releases{/id}"},
		{"deployments_url", "/deployments"},
	} {
		r[u.key] = api + u.path
	}
	return r
}

func commit(n int, message string, added, removed, modified []string) map[string]any {
	id := fakeSHA(fmt.Sprintf("commit %d", n))
	person := map[string]any{"name": "Alice Martin", "email": "alice@acme.example", "username": "alice"}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return map[string]any{
		"id":        id,
		"tree_id":   fakeSHA(fmt.Sprintf("tree %d", n)),
		"distinct":  true,
		"message":   message,
		"timestamp": fmt.Sprintf("2026-11-20T09:1%d:00+01:00", n),
		"url":       "https://github.com/acme/storefront/commit/" + id,
		"author":    person,
		"committer": person,
		"added":     nonNil(added),
		"removed":   nonNil(removed),
		"modified":  nonNil(modified),
	}
}

package bitbucket

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// Normalize implements providers.Provider. Type is X-Event-Key (a Data
// Center body's eventKey when the header is missing) and Action what
// follows its first colon ("repo:push" gives "push", "pr:reviewer:approved"
// gives "reviewer:approved").
//
// Cloud and Data Center are told apart by the payload (see dataCenter) and
// then read differently:
//
//	             Cloud                              Data Center
//	DeliveryID   X-Request-UUID                     X-Request-Id
//	Repo         repository.full_name               repository.project.key "/" repository.slug
//	                                                (pullRequest.toRef.repository for pr:* events)
//	Sender       actor.nickname, else display_name  actor.name
//	push         push.changes[0].new (old when      changes[0].ref.id (refs/heads/..., refs/tags/...)
//	             deleted): type branch or tag, name
//	pull request pullrequest.source.branch.name     pullRequest.fromRef.id
//
// DedupKey is the delivery id.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	payload, err := providers.DecodeJSON(r.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding %s: %w", Name, delivery(r.Header), err)
	}
	e := &providers.Event{
		Provider: Name,
		Type:     r.Header.Get(EventKeyHeader),
		Headers:  providers.FlatHeaders(r.Header),
		Payload:  payload,
	}
	if e.Type == "" {
		e.Type = providers.Str(payload, "eventKey")
	}
	if _, action, ok := strings.Cut(e.Type, ":"); ok {
		e.Action = action
	}
	if dataCenter(r.Header, payload) {
		normalizeDataCenter(e, r.Header, payload)
	} else {
		normalizeCloud(e, r.Header, payload)
	}
	e.DedupKey = e.DeliveryID
	return e, nil
}

// dataCenter reports whether a delivery comes from Bitbucket Data Center
// (Server) rather than Cloud. Data Center bodies carry a top-level eventKey
// and name a repository by project.key and slug; Cloud bodies have neither
// and name it by full_name. A body showing neither (Data Center's
// "diagnostics:ping" test is {"test": true}) is told by its id header:
// Cloud sends X-Request-UUID, Data Center X-Request-Id.
func dataCenter(h http.Header, payload map[string]any) bool {
	if _, ok := payload["eventKey"].(string); ok {
		return true
	}
	if repo, ok := payload["repository"].(map[string]any); ok {
		if providers.Str(repo, "full_name") != "" {
			return false
		}
		if providers.Str(repo, "slug") != "" && providers.Str(repo, "project", "key") != "" {
			return true
		}
	}
	return h.Get(RequestUUIDHeader) == "" && h.Get(RequestIDHeader) != ""
}

func normalizeCloud(e *providers.Event, h http.Header, payload map[string]any) {
	e.DeliveryID = h.Get(RequestUUIDHeader)
	e.Repo = providers.Str(payload, "repository", "full_name")
	e.Sender = providers.Str(payload, "actor", "nickname")
	if e.Sender == "" {
		e.Sender = providers.Str(payload, "actor", "display_name")
	}
	if change := firstItem(payload, "push", "changes"); change != nil {
		ref, _ := change["new"].(map[string]any)
		if ref == nil { // the branch or tag was deleted
			ref, _ = change["old"].(map[string]any)
		}
		if name := providers.Str(ref, "name"); name != "" {
			switch providers.Str(ref, "type") {
			case "branch":
				e.SplitRef("refs/heads/" + name)
			case "tag":
				e.SplitRef("refs/tags/" + name)
			}
		}
	}
	if branch := providers.Str(payload, "pullrequest", "source", "branch", "name"); branch != "" {
		e.Ref, e.Branch = "refs/heads/"+branch, branch
	}
}

func normalizeDataCenter(e *providers.Event, h http.Header, payload map[string]any) {
	e.DeliveryID = h.Get(RequestIDHeader)
	repo, _ := payload["repository"].(map[string]any)
	if repo == nil {
		repo = object(payload, "pullRequest", "toRef", "repository")
	}
	if project, slug := providers.Str(repo, "project", "key"), providers.Str(repo, "slug"); project != "" && slug != "" {
		e.Repo = project + "/" + slug
	}
	e.Sender = providers.Str(payload, "actor", "name")
	if change := firstItem(payload, "changes"); change != nil {
		if id := providers.Str(change, "ref", "id"); id != "" {
			e.SplitRef(id)
		} else if id := providers.Str(change, "refId"); id != "" {
			e.SplitRef(id)
		}
	}
	if from := object(payload, "pullRequest", "fromRef"); from != nil {
		if id := providers.Str(from, "id"); id != "" {
			e.SplitRef(id)
		} else if name := providers.Str(from, "displayId"); name != "" {
			e.Ref, e.Branch = "refs/heads/"+name, name
		}
	}
}

// object walks nested maps by keys and returns the object found, or nil.
func object(v any, keys ...string) map[string]any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

// firstItem returns the first element of the list at keys when it is an
// object, or nil.
func firstItem(v map[string]any, keys ...string) map[string]any {
	var cur any = v
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	list, _ := cur.([]any)
	if len(list) == 0 {
		return nil
	}
	m, _ := list[0].(map[string]any)
	return m
}

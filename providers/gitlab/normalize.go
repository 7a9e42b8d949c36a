package gitlab

import (
	"fmt"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/standard"
)

// Normalize decodes a verified delivery.
//
// Type is object_kind, or event_name for the payloads that have none
// (system hooks such as project_create, a system push, group member
// events). Action is object_attributes.action (or a top-level action, as
// releases have); for the state-change events pipeline, build (job) and
// deployment it is the new status. DeliveryID is X-Gitlab-Event-UUID;
// DedupKey is Idempotency-Key, else the event UUID.
func (p *Provider) Normalize(r *providers.Request) (*providers.Event, error) {
	uuid := r.Header.Get(HeaderEventUUID)
	body, err := providers.DecodeJSON(r.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", Name, providers.Delivery(uuid, HeaderEventUUID), err)
	}
	if body == nil { // DecodeJSON accepts a JSON null
		return nil, fmt.Errorf("%s: %s: %w: body is null, not a JSON object", Name, providers.Delivery(uuid, HeaderEventUUID), providers.ErrMalformed)
	}
	e := &providers.Event{
		Provider:   Name,
		Type:       providers.Str(body, "object_kind"),
		DeliveryID: uuid,
		DedupKey:   firstOf(r.Header.Get(HeaderIdempotencyKey), standard.ID(r.Header), uuid),
		Repo:       firstOf(providers.Str(body, "project", "path_with_namespace"), providers.Str(body, "path_with_namespace"), providers.Str(body, "project_path_with_namespace")),
		// FlatHeaders redacts X-Gitlab-Token, the secret itself; the target
		// still receives the request as sent.
		Headers: providers.FlatHeaders(r.Header),
		Payload: body,
	}
	hasKind := e.Type != ""
	if !hasKind {
		e.Type = providers.Str(body, "event_name")
	}

	switch e.Type {
	case "pipeline":
		e.Action = providers.Str(body, "object_attributes", "status")
	case "build":
		e.Action = providers.Str(body, "build_status")
	case "deployment":
		e.Action = providers.Str(body, "status")
	default:
		e.Action = firstOf(providers.Str(body, "object_attributes", "action"), providers.Str(body, "action"))
	}

	switch e.Type {
	case "push", "tag_push":
		e.SplitRef(providers.Str(body, "ref"))
	case "merge_request":
		e.Branch = providers.Str(body, "object_attributes", "source_branch")
	case "note":
		// A comment on a merge request is about its source branch.
		e.Branch = providers.Str(body, "merge_request", "source_branch")
	case "pipeline":
		attrs, _ := body["object_attributes"].(map[string]any)
		pipelineRef(e, providers.Str(attrs, "ref"), isTrue(attrs, "tag"))
		if e.Branch == "" && e.Tag == "" {
			// A merge request pipeline runs on refs/merge-requests/N/head.
			e.Branch = providers.Str(body, "merge_request", "source_branch")
		}
	case "build":
		pipelineRef(e, providers.Str(body, "ref"), isTrue(body, "tag"))
	case "release":
		if tag := providers.Str(body, "tag"); tag != "" {
			e.SplitRef("refs/tags/" + tag)
		}
	}

	// In payloads keyed by event_name (user_create, user_add_to_group,
	// project_create, …) the user fields name the subject, not who acted;
	// only pushes carry the pusher there.
	if hasKind || e.Type == "push" || e.Type == "tag_push" || e.Type == "repository_update" {
		e.Sender = firstOf(providers.Str(body, "user_username"), providers.Str(body, "user", "username"))
	}
	return e, nil
}

// pipelineRef fills Ref, Branch and Tag from a pipeline's or job's short
// ref and tag flag; a ref that is already full is taken as is.
func pipelineRef(e *providers.Event, ref string, tag bool) {
	switch {
	case ref == "":
	case strings.HasPrefix(ref, "refs/"):
		e.SplitRef(ref)
	case tag:
		e.SplitRef("refs/tags/" + ref)
	default:
		e.SplitRef("refs/heads/" + ref)
	}
}

// isTrue reports whether m[key] is the JSON value true.
func isTrue(m map[string]any, key string) bool {
	b, _ := m[key].(bool)
	return b
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

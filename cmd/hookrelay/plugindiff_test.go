package main

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hookrelay/hookrelay/dispatch"
)

func TestDiffPlugins(t *testing.T) {
	decl := func(path string, edit ...func(*dispatch.Plugin)) *dispatch.Plugin {
		p := &dispatch.Plugin{Name: "p", Path: path, Args: []string{"serve"}, Config: json.RawMessage(`{"url":"http://a"}`),
			Env: map[string]string{"K": "v"}, Line: 3}
		for _, e := range edit {
			e(p)
		}
		return p
	}
	up := func(p *dispatch.Plugin) pluginHave { return pluginHave{decl: p} }
	tests := []struct {
		name string
		have map[string]pluginHave
		want map[string]*dispatch.Plugin
		plan pluginPlan
	}{
		{name: "nothing", plan: pluginPlan{}},
		{
			name: "unchanged is untouched",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a")},
		},
		{
			name: "moved in the file is untouched",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a", func(p *dispatch.Plugin) { p.Line = 40 })},
		},
		{
			name: "added",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a"), "c": decl("/c"), "b": decl("/b")},
			plan: pluginPlan{Added: []string{"b", "c"}},
		},
		{
			name: "removed",
			have: map[string]pluginHave{"a": up(decl("/a")), "b": up(decl("/b"))},
			want: map[string]*dispatch.Plugin{"b": decl("/b")},
			plan: pluginPlan{Removed: []string{"a"}},
		},
		{
			name: "all removed",
			have: map[string]pluginHave{"a": up(decl("/a")), "b": up(decl("/b"))},
			plan: pluginPlan{Removed: []string{"a", "b"}},
		},
		{
			name: "path changed",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a2")},
			plan: pluginPlan{Changed: []string{"a"}},
		},
		{
			name: "args changed",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a", func(p *dispatch.Plugin) { p.Args = nil })},
			plan: pluginPlan{Changed: []string{"a"}},
		},
		{
			name: "sha256 pinned",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a", func(p *dispatch.Plugin) { p.SHA256 = "00ff" })},
			plan: pluginPlan{Changed: []string{"a"}},
		},
		{
			name: "config changed",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a", func(p *dispatch.Plugin) { p.Config = json.RawMessage(`{"url":"http://b"}`) })},
			plan: pluginPlan{Changed: []string{"a"}},
		},
		{
			name: "env value changed",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a", func(p *dispatch.Plugin) { p.Env = map[string]string{"K": "w"} })},
			plan: pluginPlan{Changed: []string{"a"}},
		},
		{
			name: "down and unchanged is retried",
			have: map[string]pluginHave{"a": {decl: decl("/a"), down: true}},
			want: map[string]*dispatch.Plugin{"a": decl("/a")},
			plan: pluginPlan{Retried: []string{"a"}},
		},
		{
			name: "down and changed is changed",
			have: map[string]pluginHave{"a": {decl: decl("/a"), down: true}},
			want: map[string]*dispatch.Plugin{"a": decl("/b")},
			plan: pluginPlan{Changed: []string{"a"}},
		},
		{
			name: "down and removed is removed",
			have: map[string]pluginHave{"a": {decl: decl("/a"), down: true}},
			plan: pluginPlan{Removed: []string{"a"}},
		},
		{
			name: "everything at once",
			have: map[string]pluginHave{"keep": up(decl("/k")), "drop": up(decl("/d")), "edit": up(decl("/e")), "dead": {decl: decl("/x"), down: true}},
			want: map[string]*dispatch.Plugin{"keep": decl("/k"), "edit": decl("/e2"), "dead": decl("/x"), "new": decl("/n")},
			plan: pluginPlan{Added: []string{"new"}, Removed: []string{"drop"}, Changed: []string{"edit"}, Retried: []string{"dead"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffPlugins(tt.have, tt.want)
			if !reflect.DeepEqual(normalPlan(got), normalPlan(tt.plan)) {
				t.Fatalf("plan %+v, want %+v", got, tt.plan)
			}
		})
	}
}

// normalPlan makes empty lists nil, so plans compare by content.
func normalPlan(p pluginPlan) pluginPlan {
	for _, l := range []*[]string{&p.Added, &p.Removed, &p.Changed, &p.Retried} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return p
}

func TestPluginPlanStopsBeforeItStarts(t *testing.T) {
	p := pluginPlan{Added: []string{"n"}, Removed: []string{"d"}, Changed: []string{"e"}, Retried: []string{"x"}}
	if got, want := p.stop(), []string{"d", "e", "x"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stop %v, want %v", got, want)
	}
	if got, want := p.start(), []string{"n", "e", "x"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("start %v, want %v", got, want)
	}
}

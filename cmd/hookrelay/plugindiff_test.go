package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hookrelay/hookrelay/dispatch"
)

func TestDiffPlugins(t *testing.T) {
	decl := func(path string, edit ...func(*dispatch.Plugin)) *dispatch.Plugin {
		p := &dispatch.Plugin{Name: "p", Path: path, Args: []string{"serve"}, Config: json.RawMessage(`{"url":"http://a"}`),
			Env: map[string]string{"K": "v"}, Nice: dispatch.DefaultPluginNice, Line: 3}
		for _, e := range edit {
			e(p)
		}
		return p
	}
	up := func(p *dispatch.Plugin) pluginHave { return pluginHave{decl: p} }
	// An executable as it was at start, then written again in place, then
	// replaced by a new file renamed over it (as go build -o does).
	bin := filepath.Join(t.TempDir(), "plugin")
	stat := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(bin)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	writeFile(t, bin, "v1")
	started := stat()
	writeFile(t, bin, "v2, longer")
	inPlace := stat()
	writeFile(t, bin+".new", "v2, longer")
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	renamed := stat()
	from := func(p *dispatch.Plugin, fi os.FileInfo) pluginHave { return pluginHave{decl: p, bin: fi} }
	pinned := func(p *dispatch.Plugin) { p.SHA256 = "00ff" }
	tests := []struct {
		name string
		have map[string]pluginHave
		want map[string]*dispatch.Plugin
		bins map[string]os.FileInfo
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
			// A restart, as raising a running process's priority back takes
			// a privilege the server may not have.
			name: "nice changed",
			have: map[string]pluginHave{"a": up(decl("/a"))},
			want: map[string]*dispatch.Plugin{"a": decl("/a", func(p *dispatch.Plugin) { p.Nice = 0 })},
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
			name: "executable untouched",
			have: map[string]pluginHave{"a": from(decl("/a"), started)},
			want: map[string]*dispatch.Plugin{"a": decl("/a")},
			bins: map[string]os.FileInfo{"a": started},
		},
		{
			name: "executable written again in place",
			have: map[string]pluginHave{"a": from(decl("/a"), started)},
			want: map[string]*dispatch.Plugin{"a": decl("/a")},
			bins: map[string]os.FileInfo{"a": inPlace},
			plan: pluginPlan{Replaced: []string{"a"}},
		},
		{
			name: "executable renamed over",
			have: map[string]pluginHave{"a": from(decl("/a"), inPlace)},
			want: map[string]*dispatch.Plugin{"a": decl("/a")},
			bins: map[string]os.FileInfo{"a": renamed},
			plan: pluginPlan{Replaced: []string{"a"}},
		},
		{
			name: "executable gone: the running one is kept",
			have: map[string]pluginHave{"a": from(decl("/a"), started)},
			want: map[string]*dispatch.Plugin{"a": decl("/a")},
		},
		{
			name: "pinned with sha256: the running one is kept, its new file checked",
			have: map[string]pluginHave{"a": from(decl("/a", pinned), started)},
			want: map[string]*dispatch.Plugin{"a": decl("/a", pinned)},
			bins: map[string]os.FileInfo{"a": renamed},
			plan: pluginPlan{Repinned: []string{"a"}},
		},
		{
			name: "down and replaced is replaced",
			have: map[string]pluginHave{"a": {decl: decl("/a"), bin: started, down: true}},
			want: map[string]*dispatch.Plugin{"a": decl("/a")},
			bins: map[string]os.FileInfo{"a": renamed},
			plan: pluginPlan{Replaced: []string{"a"}},
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
			got := diffPlugins(tt.have, tt.want, tt.bins)
			if !reflect.DeepEqual(normalPlan(got), normalPlan(tt.plan)) {
				t.Fatalf("plan %+v, want %+v", got, tt.plan)
			}
		})
	}
}

// normalPlan makes empty lists nil, so plans compare by content.
func normalPlan(p pluginPlan) pluginPlan {
	for _, l := range []*[]string{&p.Added, &p.Removed, &p.Changed, &p.Replaced, &p.Retried, &p.Repinned} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return p
}

func TestPluginPlanStopsBeforeItStarts(t *testing.T) {
	p := pluginPlan{Added: []string{"n"}, Removed: []string{"d"}, Changed: []string{"e"}, Replaced: []string{"r"}, Retried: []string{"x"}}
	if got, want := p.stop(), []string{"d", "e", "r", "x"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stop %v, want %v", got, want)
	}
	if got, want := p.start(), []string{"n", "e", "r", "x"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("start %v, want %v", got, want)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o700); err != nil {
		t.Fatal(err)
	}
}

package dispatch

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/hookrelay/hookrelay/providers"
)

// Template is a string with {{ expr }} parts, compiled at load, rendered
// against one event: `["./deploy.sh", "{{ event.repo }}"]`. Each rendered
// template is one value (one argv entry), never split or passed to a shell.
type Template struct {
	// Src is the template as written, its ${VAR}s unexpanded.
	Src   string
	parts []templatePart
}

// templatePart is literal text or a compiled expression, and the
// expression as written.
type templatePart struct {
	text string
	prog *vm.Program
	src  expanded
}

// Static reports whether the template has no {{ }} part: Render then
// evaluates nothing, and ev may be nil.
func (t Template) Static() bool {
	return len(t.parts) == 0 || (len(t.parts) == 1 && t.parts[0].prog == nil)
}

// Text is a static template's value, its ${VAR}s expanded: what Render
// gives for any event. Empty for a template that is not static.
func (t Template) Text() string {
	if len(t.parts) == 1 && t.parts[0].prog == nil {
		return t.parts[0].text
	}
	return ""
}

// Render evaluates the template for ev. Strings are inserted as they are,
// nil as nothing, numbers in plain decimal (a JSON id 500000000 as that,
// not 5e+08), booleans as true or false, and anything else (maps, lists)
// as JSON.
func (t Template) Render(ev *providers.Event) (string, error) {
	if len(t.parts) == 1 && t.parts[0].prog == nil {
		return t.parts[0].text, nil
	}
	var b strings.Builder
	env := newEnv(ev)
	for _, p := range t.parts {
		if p.prog == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := expr.Run(p.prog, env)
		if err != nil {
			return "", fmt.Errorf("template %q: %w", t.Src, p.src.explain(err))
		}
		switch v := v.(type) {
		case nil:
		case string:
			b.WriteString(v)
		case float64:
			// JSON numbers are float64: ids and counts print whole, never
			// as 5e+08.
			b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		case bool, int, int64, uint64:
			fmt.Fprint(&b, v)
		default:
			j, err := json.Marshal(v)
			if err != nil {
				return "", fmt.Errorf("template %q: %w", t.Src, p.src.explain(err))
			}
			b.Write(j)
		}
	}
	return b.String(), nil
}

// template compiles the {{ }} parts of a string at node n, reporting
// errors at their place in the file. The parts are found in the string as
// written, then each has its ${VAR}s expanded: a variable's value is never
// taken for a {{ }}, and messages quote the template as written.
func (d *decoder) template(n *yaml.Node, ctx string) Template {
	if n.Kind != yaml.ScalarNode {
		d.addf(n, "%s: want a string, got %s", ctx, kindName(n))
		return Template{}
	}
	src := n.Value
	t := Template{Src: src}
	text := func(s string) { t.parts = append(t.parts, templatePart{text: d.expand(n, ctx, s).value}) }
	rest, offset := src, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" || len(t.parts) == 0 {
				text(rest)
			}
			return t
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			d.addAt(n, utf8.RuneCountInString(src[:offset+i]), "%s: {{ without a closing }}", ctx)
			return t
		}
		if i > 0 {
			text(rest[:i])
		}
		code := d.expand(n, ctx, rest[i+2:i+j])
		if strings.TrimSpace(code.value) == "" {
			d.addAt(n, utf8.RuneCountInString(src[:offset+i]), "%s: empty {{ }}", ctx)
		} else if prog, err := expr.Compile(code.value, baseOptions()...); err != nil {
			err = code.explain(err)
			msg := err.Error()
			// Columns count characters, as YAML's and expr's do, not bytes.
			col := utf8.RuneCountInString(src[:offset+i+2])
			var fe *file.Error
			if errors.As(err, &fe) {
				msg, col = exprMessage(fe.Message), col+fe.Column
			}
			d.addAt(n, col, "%s: %s", ctx, msg)
		} else {
			t.parts = append(t.parts, templatePart{prog: prog, src: code})
		}
		rest, offset = rest[i+j+2:], offset+i+j+2
	}
}

// addAt reports a problem col characters into a scalar's value (a plain or
// quoted scalar on one line; other styles get the node's start).
func (d *decoder) addAt(n *yaml.Node, col int, format string, args ...any) {
	c := n.Column
	switch n.Style {
	case 0:
		c += col
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		c += col + 1
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: n.Line, Column: c, Msg: fmt.Sprintf(format, args...)})
}

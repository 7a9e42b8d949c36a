package dispatch

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/hookrelay/hookrelay/providers"
)

// Env is what a rule sees: `event`, and helper functions.
type Env struct {
	// Event is the normalised event.
	Event *providers.Event `expr:"event"`
	// Header returns a request header, case-insensitively: header("x-github-event").
	Header func(name string) string `expr:"header"`
}

// newEnv builds the environment of one event.
func newEnv(ev *providers.Event) Env {
	return Env{Event: ev, Header: func(name string) string {
		return ev.Headers[http.CanonicalHeaderKey(name)]
	}}
}

// maxNodes bounds the size of one rule, so a hooks file cannot make the
// matcher arbitrarily slow.
const maxNodes = 1000

// exprOptions are the options every rule compiles with.
func exprOptions() []expr.Option {
	return append(baseOptions(), expr.AsBool())
}

// baseOptions are what rules and templates share: the environment, the
// size bound and the helper functions.
func baseOptions() []expr.Option {
	return []expr.Option{
		expr.Env(Env{}),
		expr.MaxNodes(maxNodes),
		expr.Function("glob", func(params ...any) (any, error) {
			ok, err := path.Match(params[1].(string), params[0].(string))
			if err != nil {
				return false, fmt.Errorf("glob pattern %q: %w", params[1], err)
			}
			return ok, nil
		}, new(func(s, pattern string) bool)),
		expr.Function("lower", func(params ...any) (any, error) {
			return strings.ToLower(params[0].(string)), nil
		}, new(func(string) string)),
	}
}

// compileWhen compiles a rule's `when`, reporting an error at its place in
// the YAML with expr's caret snippet, both in the rule as written.
func (d *decoder) compileWhen(n *yaml.Node, src expanded, ctx string) *vm.Program {
	if strings.TrimSpace(src.value) == "" {
		d.addf(n, "%s: when is empty", ctx)
		return nil
	}
	prog, err := expr.Compile(src.value, exprOptions()...)
	if err == nil {
		return prog
	}
	err = src.explain(err)
	line, col := n.Line, n.Column
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = exprMessage(fe.Message) + fe.Snippet
		switch n.Style {
		case yaml.LiteralStyle, yaml.FoldedStyle:
			line, col = n.Line+fe.Line, fe.Column+1
		case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
			line, col = n.Line+fe.Line-1, n.Column+fe.Column+1
		default:
			line, col = n.Line+fe.Line-1, n.Column+fe.Column
		}
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Column: col, Msg: ctx + ": " + msg})
	return nil
}

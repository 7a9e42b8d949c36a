package dispatch

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/file"
	"gopkg.in/yaml.v3"
)

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expanded is a string of the hooks file with its ${VAR}s expanded: value
// is what runs, written what the file says. Messages about it quote what
// was written, never a variable's value, which may be a secret (a token
// compared in a rule, a key in a script's environment).
type expanded struct {
	written, value string
	// vars are the expansions, in order, as rune offsets and lengths in
	// written and in value.
	vars []expansion
	// values are the non-empty values the expansions put in.
	values map[string]string // value -> ${NAME}
}

type expansion struct {
	written, writtenLen int
	value, valueLen     int
}

// expand expands the ${VAR}s of written from the environment, reporting
// an unset variable at n.
func (d *decoder) expand(n *yaml.Node, ctx, written string) expanded {
	lookup := d.lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	e := expanded{written: written}
	var b strings.Builder
	last, wRunes, vRunes := 0, 0, 0
	for _, m := range envRef.FindAllStringSubmatchIndex(written, -1) {
		lit := written[last:m[0]]
		b.WriteString(lit)
		n0 := utf8.RuneCountInString(lit)
		wRunes += n0
		vRunes += n0
		ref, name := written[m[0]:m[1]], written[m[2]:m[3]]
		v, ok := lookup(name)
		if !ok {
			d.addf(n, "%s: environment variable %s is not set", ctx, name)
		}
		b.WriteString(v)
		x := expansion{written: wRunes, writtenLen: utf8.RuneCountInString(ref), value: vRunes, valueLen: utf8.RuneCountInString(v)}
		e.vars = append(e.vars, x)
		if v != "" {
			if e.values == nil {
				e.values = map[string]string{}
			}
			e.values[v] = ref
		}
		wRunes += x.writtenLen
		vRunes += x.valueLen
		last = m[1]
	}
	b.WriteString(written[last:])
	e.value = b.String()
	return e
}

// writtenRune maps a rune offset in value to one in written; an offset
// inside an expanded value maps to the start of its ${VAR}.
func (e expanded) writtenRune(off int) int {
	shift := 0
	for _, x := range e.vars {
		if off < x.value {
			break
		}
		if off < x.value+x.valueLen {
			return x.written
		}
		shift += x.writtenLen - x.valueLen
	}
	return off + shift
}

// minQuoted is the shortest value redact looks for: shorter ones are no
// secret, and writing them back everywhere would garble messages.
const minQuoted = 4

// minPiece is the shortest piece of a value whose presence in a message
// has it withheld: long enough that a message's own words ("token",
// "name") are not taken for one.
const minPiece = 6

// withheld replaces a message that would quote part of a variable's value.
const withheld = "expr's message is withheld: it would quote part of a ${VAR}'s value"

// redact writes each expanded value back as its ${VAR} in msg, the
// longest first (a value may hold another). A message that still holds a
// piece of one (a forgotten quote splits a value into names; upper() changes
// its case) is withheld whole.
func (e expanded) redact(msg string) string {
	vals := make([]string, 0, len(e.values))
	for v := range e.values {
		if len(v) >= minQuoted {
			vals = append(vals, v)
		}
	}
	slices.SortFunc(vals, func(a, b string) int { return len(b) - len(a) })
	for _, v := range vals {
		msg = strings.ReplaceAll(msg, v, e.values[v])
	}
	low := strings.ToLower(msg)
	for _, v := range vals {
		lv := strings.ToLower(v)
		for i := 0; i+minPiece <= len(lv); i++ {
			if strings.Contains(low, lv[i:i+minPiece]) {
				return withheld
			}
		}
	}
	return msg
}

// explain returns err, an error of expr about value, as an error about
// written: its place and caret snippet in what the file says, and no
// variable's value in its message.
func (e expanded) explain(err error) error {
	if e.written == "" && e.value == "" {
		return err // not from a hooks file
	}
	var fe *file.Error
	if !errors.As(err, &fe) {
		if len(e.vars) == 0 {
			return err
		}
		return errors.New(e.redact(err.Error()))
	}
	out := &file.Error{
		Location: file.Location{From: e.writtenRune(fe.From), To: e.writtenRune(fe.To)},
		Message:  e.redact(fe.Message),
	}
	return out.Bind(file.NewSource(e.written))
}

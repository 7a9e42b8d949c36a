package dispatch

import (
	"bytes"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlLine is the place yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^line \d+: `)

// maxSyntaxScan bounds the lines of a file syntaxProblem parses the
// starts of, each a parse: a hooks file has tens or hundreds.
const maxSyntaxScan = 2000

// syntaxProblem is the problem of a hooks file that is not valid YAML,
// placed at the line where the file first goes wrong. yaml.v3 names the
// line its parser's construct began on, counted from 0 for some errors and
// from 1 for others: one or more lines before the mistake. The line is
// found again here as the first whose file up to it fails the same way.
func syntaxProblem(path string, data []byte, err error) Problem {
	if bytes.Count(data, []byte("\n")) > maxSyntaxScan {
		// Parsing every start of it would take too long: yaml.v3's word.
		return Problem{File: path, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	msg := yamlLine.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
	p := Problem{File: path, Msg: "not valid YAML: " + msg}
	end, first := 0, 0
	for i, l := range bytes.SplitAfter(data, []byte("\n")) {
		end += len(l)
		var n yaml.Node
		perr := yaml.Unmarshal(data[:end], &n)
		if perr == nil {
			continue
		}
		if first == 0 {
			first = i + 1
		}
		// A file cut inside a list or a quoted string written over
		// several lines fails too, differently.
		if yamlLine.ReplaceAllString(strings.TrimPrefix(perr.Error(), "yaml: "), "") == msg {
			p.Line = i + 1
			return p
		}
	}
	p.Line = first
	return p
}

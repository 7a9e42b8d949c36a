package dispatch

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlLine is the place yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// maxSyntaxScan bounds the lines of a file syntaxProblem parses the
// starts of, each a parse: a hooks file has tens or hundreds.
const maxSyntaxScan = 2000

// syntaxProblem is the problem of a hooks file that is not valid YAML,
// placed at the line where the file goes wrong. yaml.v3 names the line its
// parser's construct began on, counted from 0 for some errors and from 1
// for others: the mistake is on that line or after it. The line is found
// again here as the first from there whose file up to it fails the same
// way (a file cut inside a quoted string written over several lines fails
// too, and may well say the same, so the scan never starts earlier).
func syntaxProblem(path string, data []byte, err error) Problem {
	text := strings.TrimPrefix(err.Error(), "yaml: ")
	m := yamlLine.FindStringSubmatch(text)
	if m == nil || bytes.Count(data, []byte("\n")) > maxSyntaxScan {
		return Problem{File: path, Msg: "not valid YAML: " + text}
	}
	msg := text[len(m[0]):]
	from, _ := strconv.Atoi(m[1])
	p := Problem{File: path, Line: max(from, 1), Msg: "not valid YAML: " + msg}
	end := 0
	for i, l := range bytes.SplitAfter(data, []byte("\n")) {
		end += len(l)
		if i+1 < from {
			continue
		}
		var n yaml.Node
		perr := yaml.Unmarshal(data[:end], &n)
		if perr != nil && yamlLine.ReplaceAllString(strings.TrimPrefix(perr.Error(), "yaml: "), "") == msg {
			p.Line = i + 1
			break
		}
	}
	return p
}

package dispatch

import (
	"fmt"
	"strings"
)

// Problem is one error in a hooks file, with its place.
type Problem struct {
	File   string
	Line   int
	Column int
	// Msg says what is wrong, prefixed with the route or source it is in.
	Msg string
}

// Error formats the problem as file:line:col: msg.
func (p Problem) Error() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	if p.Column == 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Msg)
}

// Problems is every error found while loading a hooks file; loading
// reports them all together rather than stopping at the first.
type Problems []Problem

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

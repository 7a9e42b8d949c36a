package dispatch

import (
	"strings"
	"testing"
)

// A hooks file that is not YAML is refused at the line of the mistake,
// where yaml.v3 alone names a line before it.
func TestSyntaxProblemLine(t *testing.T) {
	const head = "sources:\n  github: { provider: github, secret: x }\nroutes:\n"
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"an unclosed flow list", head + "  - name: [r1\n    when: true\n    to: tunnel:a\n", "hooks.yaml:4: not valid YAML: did not find expected ',' or ']'"},
		{"a tab in the indentation", head + "  - name: r1\n\twhen: true\n", "hooks.yaml:5: not valid YAML: found a tab character that violates indentation"},
		{"a key at the wrong depth", head + "  - name: r1\n    when: true\n    to: tunnel:a\n   bad: 1\n", "hooks.yaml:7: not valid YAML: "},
		{"an unclosed quote at the end", head + "  - name: r1\n    when: \"true\n", "hooks.yaml:5: not valid YAML: found unexpected end of stream"},
		{"a quoted string over lines before the mistake", head + "  - name: r1\n    when: \"event.type ==\n      'push'\"\n    to: tunnel:a\n  - name: r2\n    when: \"true\n", "hooks.yaml:9: not valid YAML: found unexpected end of stream"},
		{"a flow list over lines before the mistake", head + "  - { name: r1, when: true,\n      to: tunnel:a }\n  - name: [r2\n", "hooks.yaml:6: not valid YAML: did not find expected ',' or ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("hooks.yaml", []byte(tt.yaml), testOpts(nil))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to start %q", err, tt.want)
			}
		})
	}
}

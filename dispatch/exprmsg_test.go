package dispatch

import "testing"

func TestExprMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"type providers.Event has no field brnch", "event has no field brnch (its fields: id, source, provider, type, action, delivery_id, dedup_key, repo, ref, branch, tag, sender, received_at, headers, payload)"},
		{"type providers.Event has no field x\n | event.x\n | ......^", "event has no field x (its fields: id, source, provider, type, action, delivery_id, dedup_key, repo, ref, branch, tag, sender, received_at, headers, payload)\n | event.x\n | ......^"},
		{"unexpected token Operator(\"=\")", "unexpected token Operator(\"=\")"},
	}
	for _, tt := range tests {
		if got := exprMessage(tt.in); got != tt.want {
			t.Errorf("exprMessage(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
		}
	}
}

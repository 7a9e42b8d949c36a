package targets

import (
	"testing"

	"github.com/hookrelay/hookrelay/dispatch"
	"github.com/hookrelay/hookrelay/store"
)

// staticRules is a hooks file in force that never changes.
type staticRules struct{ cfg *dispatch.Config }

func (r staticRules) Current() *dispatch.Config { return r.cfg }

// A task of an exec route that a reload removed fails for good at its next
// attempt, without running anything: retrying would only use up attempts.
func TestExecRouteGoneIsFinal(t *testing.T) {
	tests := []struct {
		name string
		cfg  *dispatch.Config
	}{
		{"no hooks file", nil},
		{"route removed", &dispatch.Config{}},
		{"route now a tunnel route", &dispatch.Config{Routes: []*dispatch.Route{{Name: "deploy"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &Exec{Rules: staticRules{tt.cfg}}
			a, err := x.Send(t.Context(), "deploy", &store.Event{ID: "e1"}, &store.Delivery{ID: "d1", Route: "deploy"})
			if err != nil || a == nil || !a.Final || a.Failed == "" {
				t.Fatalf("Send = %+v, %v; want a final failure", a, err)
			}
		})
	}
}

package dispatch

import (
	"reflect"
	"strings"

	"github.com/hookrelay/hookrelay/providers"
)

// eventNoField is how expr says a rule named a field Event does not have;
// it names the Go type, which a hooks file's author never sees.
const eventNoField = "type providers.Event has no field "

// exprMessage rewrites expr's error messages in the hooks file's terms:
// a field `event` does not have is named with the fields it does.
func exprMessage(msg string) string {
	rest, ok := strings.CutPrefix(msg, eventNoField)
	if !ok {
		return msg
	}
	field, tail, _ := strings.Cut(rest, "\n")
	out := "event has no field " + field + " (its fields: " + strings.Join(eventFields(), ", ") + ")"
	if tail != "" {
		out += "\n" + tail
	}
	return out
}

// eventFields are the names rules use for Event's fields, in its order.
func eventFields() []string {
	t := reflect.TypeFor[providers.Event]()
	var out []string
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("expr"); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

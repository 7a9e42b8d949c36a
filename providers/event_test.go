package providers

import (
	"net/http"
	"reflect"
	"testing"
)

func TestRedactHeader(t *testing.T) {
	in := http.Header{
		"Authorization": {"Bearer a", "Bearer b"},
		"X-Deploy-Key":  {"k"},
		"X-Other":       {"o"},
	}
	tests := []struct {
		name   string
		redact []string
		want   http.Header
	}{
		{"credentials only", nil, http.Header{"Authorization": {"[redacted]", "[redacted]"}, "X-Deploy-Key": {"k"}, "X-Other": {"o"}}},
		{"a named header, any case", []string{"x-deploy-key"}, http.Header{"Authorization": {"[redacted]", "[redacted]"}, "X-Deploy-Key": {"[redacted]"}, "X-Other": {"o"}}},
		{"a name not sent", []string{"X-Missing"}, http.Header{"Authorization": {"[redacted]", "[redacted]"}, "X-Deploy-Key": {"k"}, "X-Other": {"o"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactHeader(in, tt.redact...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RedactHeader = %v, want %v", got, tt.want)
			}
			if in.Get("Authorization") != "Bearer a" {
				t.Errorf("the header given was changed: %v", in)
			}
		})
	}
}

func TestRedactedNames(t *testing.T) {
	got := RedactedNames(FlatHeaders(http.Header{"X-Token": {"t"}, "Cookie": {"c"}, "X-Other": {"o"}}, "X-Token"))
	if want := []string{"Cookie", "X-Token"}; !reflect.DeepEqual(got, want) {
		t.Errorf("RedactedNames = %v, want %v", got, want)
	}
}

func TestStoredRedacted(t *testing.T) {
	tests := []struct {
		name, normalized string
		want             []string
	}{
		{"none stored", `{"type":"push"}`, nil},
		{"names", `{"type":"push","redacted_headers":["X-Deploy-Key","X-Token"]}`, []string{"X-Deploy-Key", "X-Token"}},
		{"empty", ``, nil},
		{"not JSON", `{"type":`, nil},
	}
	for _, tt := range tests {
		if got := StoredRedacted([]byte(tt.normalized)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

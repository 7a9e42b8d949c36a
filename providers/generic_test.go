package providers

import (
	"net/http"
	"reflect"
	"testing"
)

func TestGenericPayload(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    any
	}{
		{"JSON as text/plain", "text/plain", `{"a":1}`, map[string]any{"a": 1.0}},
		{"JSON without a content type", "", `{"a":1}`, map[string]any{"a": 1.0}},
		{"JSON array", "application/json", `[1,2]`, nil},
		{"JSON null", "application/json", `null`, nil},
		{"broken JSON", "application/json", `{"a":`, nil},
		{"empty", "application/json", ``, nil},
		{"binary", "application/octet-stream", "\x00\x01\x02", nil},
		{"form", "application/x-www-form-urlencoded; charset=utf-8", "event=deploy.finished&tags=a&tags=b",
			map[string]any{"event": "deploy.finished", "tags": []any{"a", "b"}}},
		{"broken form", "application/x-www-form-urlencoded", "a=%zz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			if got := GenericPayload(h, []byte(tt.body)); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("GenericPayload = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestGenericDeliveryID(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"none", http.Header{}, ""},
		{"X-Delivery-Id first", http.Header{"X-Delivery-Id": {"d"}, "X-Request-Id": {"r"}, "Idempotency-Key": {"i"}}, "d"},
		{"then X-Request-Id", http.Header{"X-Request-Id": {"r"}, "Idempotency-Key": {"i"}}, "r"},
		{"then Idempotency-Key", http.Header{"Idempotency-Key": {"i"}}, "i"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GenericDeliveryID(tt.header); got != tt.want {
				t.Fatalf("GenericDeliveryID = %q, want %q", got, tt.want)
			}
		})
	}
}

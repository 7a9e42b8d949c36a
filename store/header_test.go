package store

import (
	"net/http"
	"reflect"
	"testing"
)

func TestHeaderEncoding(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
	}{
		{"empty", http.Header{}},
		{"one", http.Header{"Content-Type": {"application/json"}}},
		{"several values", http.Header{"X-A": {"1", "", "3"}, "Cookie": {"a=b"}}},
		{"bytes that are not UTF-8", http.Header{"X-Latin1": {"caf\xe9"}, "X-Bin": {"\x00\xff\xfe"}}},
		{"non-canonical name", http.Header{"x-lower": {"kept"}}},
		{"no values", http.Header{"X-Empty": {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeHeader(EncodeHeader(tt.h))
			if err != nil || !reflect.DeepEqual(got, tt.h) {
				t.Fatalf("round trip = %q, %v; want %q", got, err, tt.h)
			}
		})
	}
}

func TestDecodeHeaderRefusesDamage(t *testing.T) {
	good := EncodeHeader(http.Header{"X-A": {"value"}})
	for _, b := range [][]byte{nil, good[:len(good)-1], append(good, 0), {0xff}, {5, 1, 'a'}} {
		if _, err := DecodeHeader(b); err == nil {
			t.Errorf("DecodeHeader(%q) did not fail", b)
		}
	}
}

func FuzzDecodeHeader(f *testing.F) {
	f.Add(EncodeHeader(http.Header{"X-A": {"1", "2"}, "B": {"caf\xe9"}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHeader(b)
		if err != nil {
			return
		}
		again, err := DecodeHeader(EncodeHeader(h))
		if err != nil || !reflect.DeepEqual(again, h) {
			t.Fatalf("re-encoding %q does not round-trip: %q, %v", h, again, err)
		}
	})
}

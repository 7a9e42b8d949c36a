package providers

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUnusedOptions(t *testing.T) {
	all := Options{AllowSHA1: true, Tolerance: time.Minute, Header: "X-Sig", Algorithm: "sha1", Encoding: "hex", Prefix: "sha1="}
	tests := []struct {
		name    string
		o       Options
		allowed []string
		want    []string
	}{
		{"nothing set", Options{Secrets: []Secret{"s"}}, nil, nil},
		{"everything set, nothing allowed", all, nil, []string{"allow_sha1", "header", "algorithm", "encoding", "prefix", "tolerance"}},
		{"everything set and allowed", all, []string{"allow_sha1", "tolerance", "header", "algorithm", "encoding", "prefix"}, nil},
		{"some allowed", all, []string{"header", "tolerance"}, []string{"allow_sha1", "algorithm", "encoding", "prefix"}},
		{"allowed but not set", Options{Prefix: "v0="}, []string{"tolerance"}, []string{"prefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnusedOptions(tt.o, tt.allowed...); !slices.Equal(got, tt.want) {
				t.Fatalf("UnusedOptions = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnusedOptionsUnknownName(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"tolerence"`) {
			t.Fatalf("recovered %v, want a panic naming the option", r)
		}
	}()
	UnusedOptions(Options{}, "tolerence")
}

func TestDelivery(t *testing.T) {
	tests := []struct{ id, want string }{
		{"", "delivery (no X-Id)"},
		{"d1", `delivery "d1"`},
		{"a\nforged: line", `delivery "a\nforged: line"`},
		{strings.Repeat("x", 70), `delivery "` + strings.Repeat("x", 64) + `…"`},
	}
	for _, tt := range tests {
		if got := Delivery(tt.id, "X-Id"); got != tt.want {
			t.Errorf("Delivery(%q) = %s, want %s", tt.id, got, tt.want)
		}
	}
}

func TestFormPayload(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    string // Str of the decoded "a", or "error"
	}{
		{"JSON", "application/json", `{"a":"json"}`, "json"},
		{"form", "application/x-www-form-urlencoded", "payload=%7B%22a%22%3A%22form%22%7D", "form"},
		{"form without payload", "application/x-www-form-urlencoded", "a=b", "error"},
		{"form with two payloads", "application/x-www-form-urlencoded", "payload=%7B%7D&payload=%7B%7D", "error"},
		{"form payload not JSON", "application/x-www-form-urlencoded", "payload=x", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := DecodeJSONOrFormPayload(tt.contentType, []byte(tt.body))
			got := Str(v, "a")
			if err != nil {
				got = "error"
			}
			if got != tt.want {
				t.Fatalf("DecodeJSONOrFormPayload = %v, %v; want %s", v, err, tt.want)
			}
		})
	}
}

func TestSplitHeadRef(t *testing.T) {
	tests := []struct{ head, ref, branch, tag string }{
		{"feature/x", "refs/heads/feature/x", "feature/x", ""},
		{"refs/heads/main", "refs/heads/main", "main", ""},
		{"refs/for/main/topic", "refs/for/main/topic", "", ""},
	}
	for _, tt := range tests {
		var e Event
		e.SplitHeadRef(tt.head)
		if e.Ref != tt.ref || e.Branch != tt.branch || e.Tag != tt.tag {
			t.Errorf("SplitHeadRef(%q) = %q, %q, %q", tt.head, e.Ref, e.Branch, e.Tag)
		}
	}
}

func TestCheckOptions(t *testing.T) {
	s := []Secret{"s"}
	tests := []struct {
		name    string
		o       Options
		allowed []string
		wantErr string // "" means no error
	}{
		{"fine", Options{Secrets: s, Tolerance: time.Minute}, []string{"tolerance"}, ""},
		{"no secret", Options{}, nil, "p: the source needs a secret (secret, secrets, secret_file or token)"},
		{"unused, all named", Options{Secrets: s, Header: "X", Prefix: "x"}, nil, "p: option header, prefix does not apply: why"},
		{"negative tolerance", Options{Secrets: s, Tolerance: -time.Second}, []string{"tolerance"}, "p: option tolerance -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOptions("p", tt.o, "why", tt.allowed...)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("CheckOptions = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

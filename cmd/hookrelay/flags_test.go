package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1048576", 1 << 20, false},
		{"25MiB", 25 << 20, false},
		{"64KiB", 64 << 10, false},
		{"10MB", 10_000_000, false},
		{"1 GiB", 1 << 30, false},
		{"-1", 0, true},
		{"lots", 0, true},
		{"99999999999GiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err != nil) != tt.bad || got != tt.want {
				t.Fatalf("parseSize(%q) = %d, %v", tt.in, got, err)
			}
		})
	}
}

func TestCheckLiveness(t *testing.T) {
	tests := []struct {
		ping, read time.Duration
		ok         bool
	}{
		{10 * time.Second, 25 * time.Second, true},
		{0, 25 * time.Second, false},
		{10 * time.Second, 0, false},
		{10 * time.Second, 10 * time.Second, false},
	}
	for _, tt := range tests {
		if err := checkLiveness(tt.ping, tt.read); (err == nil) != tt.ok {
			t.Errorf("checkLiveness(%s, %s) = %v", tt.ping, tt.read, err)
		}
	}
}

// Usage errors exit 2 with a message, before anything starts.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		says string
	}{
		{nil, "Usage"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"server", "--ping-interval", "0"}, "must be positive"},
		{[]string{"server", "--max-body", "huge"}, "invalid size"},
		{[]string{"client"}, "--server is required"},
		{[]string{"client", "--server", "http://127.0.0.1:1", "--read-timeout", "1s", "--ping-interval", "2s"}, "must be longer"},
		{[]string{"validate"}, "usage"},
		{[]string{"match", "x.http"}, "usage"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), tt.args, &out, &errb); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String()+out.String(), tt.says) {
				t.Fatalf("output %q does not say %q", errb.String(), tt.says)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.0.0.0/8, 127.0.0.1 ,::1,")
	if err != nil || len(got) != 3 || got[1].String() != "127.0.0.1/32" || got[2].String() != "::1/128" {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := parsePrefixes("10.0.0.0/33"); err == nil {
		t.Fatal("a bad prefix was accepted")
	}
}

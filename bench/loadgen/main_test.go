package main

import (
	"testing"
	"time"
)

func TestByteSizeSet(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{name: "bytes", in: "1024", want: 1024},
		{name: "zero", in: "0", want: 0},
		{name: "bytes suffix", in: "10B", want: 10},
		{name: "KiB", in: "64KiB", want: 64 << 10},
		{name: "MiB", in: "1MiB", want: 1 << 20},
		{name: "MiB lower case", in: "25mib", want: 25 << 20},
		{name: "GiB", in: "2GiB", want: 2 << 30},
		{name: "decimal unit", in: "1MB", wantErr: true},
		{name: "fraction", in: "1.5MiB", wantErr: true},
		{name: "negative", in: "-1", wantErr: true},
		{name: "suffix only", in: "KiB", wantErr: true},
		{name: "overflow", in: "9999999999999GiB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b byteSize
			err := b.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && int64(b) != tt.want {
				t.Errorf("Set(%q) = %d, want %d", tt.in, b, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "one value", sorted: ms(7), p: 50, want: 7 * time.Millisecond},
		{name: "median of three", sorted: ms(1, 2, 30), p: 50, want: 2 * time.Millisecond},
		{name: "p50 of four is the lower middle", sorted: ms(1, 2, 3, 4), p: 50, want: 2 * time.Millisecond},
		{name: "p99 of 100", sorted: ms(seq(100)...), p: 99, want: 99 * time.Millisecond},
		{name: "p99 of 101 is the 100th", sorted: ms(seq(101)...), p: 99, want: 100 * time.Millisecond},
		{name: "p99 of 10 is the max", sorted: ms(seq(10)...), p: 99, want: 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(p%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

// seq returns 1..n.
func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestCompareWriter(t *testing.T) {
	want := []byte("hello, world")
	tests := []struct {
		name    string
		chunks  []string
		differs bool
	}{
		{name: "same in one write", chunks: []string{"hello, world"}},
		{name: "same in pieces", chunks: []string{"hel", "lo, ", "world"}},
		{name: "prefix only", chunks: []string{"hello"}},
		{name: "one byte changed", chunks: []string{"hello", ", w0rld"}, differs: true},
		{name: "longer", chunks: []string{"hello, world", "!"}, differs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &compareWriter{want: want}
			for _, s := range tt.chunks {
				c.Write([]byte(s))
			}
			if c.differs != tt.differs {
				t.Errorf("differs = %v, want %v", c.differs, tt.differs)
			}
		})
	}
}

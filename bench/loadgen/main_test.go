package main

import (
	"testing"
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

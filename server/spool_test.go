package server

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestSpool(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		length   int64 // as the request declares; -1 unknown (chunked)
		wantFile bool
	}{
		{"empty", 0, 0, false},
		{"small", 100, 100, false},
		{"small, length unknown", 100, -1, false},
		{"just under memory", spoolMem - 1, spoolMem - 1, false},
		{"exactly memory", spoolMem, spoolMem, true},
		{"just over memory", spoolMem + 1, spoolMem + 1, true},
		{"large, length unknown", 3<<20 + 5, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := make([]byte, tt.size)
			for i := range body {
				body[i] = byte(rand.N(256))
			}
			var b spooled
			defer b.Close()
			if err := b.fill(iotest.HalfReader(bytes.NewReader(body)), tt.length); err != nil {
				t.Fatal(err)
			}
			if (b.file != nil) != tt.wantFile || len(b.mem) > spoolMem || b.size != int64(tt.size) {
				t.Fatalf("file %v, %d bytes in memory, size %d", b.file != nil, len(b.mem), b.size)
			}
			for range 2 { // every Reader starts afresh
				got, err := io.ReadAll(b.Reader())
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("Reader gave %d bytes (err %v), want the %d sent", len(got), err, len(body))
				}
			}
			if got, err := b.Bytes(); err != nil || !bytes.Equal(got, body) {
				t.Fatalf("Bytes gave %d bytes (err %v)", len(got), err)
			}
		})
	}
}

// A read error from the sender is returned, not taken for the end.
func TestSpoolReadError(t *testing.T) {
	for _, size := range []int{10, spoolMem + 10} {
		var b spooled
		r := io.MultiReader(bytes.NewReader(make([]byte, size)), iotest.ErrReader(io.ErrClosedPipe))
		if err := b.fill(r, -1); err == nil {
			t.Fatalf("size %d: no error", size)
		}
		b.Close()
	}
}

package script

import (
	"bytes"
	"strings"
	"testing"
)

func TestTailWriter(t *testing.T) {
	tests := []struct {
		name        string
		limit       int
		writes      []string
		want        string
		wantDropped int64
	}{
		{name: "nothing written", limit: 4, want: ""},
		{name: "under limit", limit: 8, writes: []string{"ab", "cd"}, want: "abcd"},
		{name: "exactly limit", limit: 4, writes: []string{"ab", "cd"}, want: "abcd"},
		{name: "one write over limit", limit: 4, writes: []string{"abcdefg"}, want: "defg", wantDropped: 3},
		{name: "small writes wrap", limit: 4, writes: []string{"ab", "cd", "e", "fgh"}, want: "efgh", wantDropped: 4},
		{name: "wrap mid write", limit: 5, writes: []string{"abc", "defg", "hi"}, want: "efghi", wantDropped: 4},
		{name: "big write after wrap", limit: 3, writes: []string{"ab", "cd", "wxyz"}, want: "xyz", wantDropped: 5},
		{name: "empty writes", limit: 3, writes: []string{"", "a", "", "b"}, want: "ab"},
		{name: "zero limit counts only", limit: 0, writes: []string{"abc", "de"}, want: "", wantDropped: 5},
		{name: "negative limit counts only", limit: -1, writes: []string{"abc"}, want: "", wantDropped: 3},
		{name: "cut inside a rune is dropped", limit: 4, writes: []string{"héllo"}, want: "llo", wantDropped: 3},
		{name: "cut on a rune boundary kept", limit: 5, writes: []string{"héllo"}, want: "éllo", wantDropped: 1},
		{name: "untruncated invalid utf8 kept", limit: 4, writes: []string{"\xa9ab"}, want: "\xa9ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewTailWriter(tt.limit)
			var total int64
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				if n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
				}
				total += int64(n)
			}
			got, dropped := w.Tail()
			if got != tt.want || dropped != tt.wantDropped {
				t.Errorf("Tail() = %q, %d; want %q, %d", got, dropped, tt.want, tt.wantDropped)
			}
			if w.Total() != total {
				t.Errorf("Total() = %d, want %d", w.Total(), total)
			}
		})
	}
}

// TestTailWriterMemory checks the buffer never grows past the limit, however
// the writes are cut.
func TestTailWriterMemory(t *testing.T) {
	for _, chunk := range []int{1, 7, 100, 4096, 1 << 20} {
		w := NewTailWriter(1000)
		p := bytes.Repeat([]byte("x"), chunk)
		for range 50 {
			w.Write(p)
		}
		if c := cap(w.buf); c > 1000 {
			t.Errorf("chunk %d: buffer capacity %d exceeds limit", chunk, c)
		}
	}
}

// FuzzTailWriter compares the ring buffer with the obvious model: keep all,
// return the last limit bytes.
func FuzzTailWriter(f *testing.F) {
	f.Add(uint8(4), []byte("abcdefghij"), uint8(3))
	f.Add(uint8(1), []byte("xy"), uint8(1))
	f.Add(uint8(16), []byte(strings.Repeat("0123456789", 10)), uint8(7))
	f.Fuzz(func(t *testing.T, limit uint8, data []byte, chunk uint8) {
		w := NewTailWriter(int(limit))
		step := max(int(chunk), 1)
		for i := 0; i < len(data); i += step {
			w.Write(data[i:min(i+step, len(data))])
		}
		want := data[max(len(data)-int(limit), 0):]
		if got := w.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("Bytes() = %q, want %q", got, want)
		}
		if w.Total() != int64(len(data)) {
			t.Fatalf("Total() = %d, want %d", w.Total(), len(data))
		}
	})
}

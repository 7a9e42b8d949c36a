package tail

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriter(t *testing.T) {
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
			w := New(tt.limit)
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

// TestWriterMemory checks the buffer never grows past the limit, however
// the writes are cut.
func TestWriterMemory(t *testing.T) {
	for _, chunk := range []int{1, 7, 100, 4096, 1 << 20} {
		w := New(1000)
		p := bytes.Repeat([]byte("x"), chunk)
		for range 50 {
			w.Write(p)
		}
		if c := cap(w.buf); c > 1000 {
			t.Errorf("chunk %d: buffer capacity %d exceeds limit", chunk, c)
		}
	}
}

// FuzzWriter compares the ring buffer with the obvious model: keep all,
// return the last limit bytes.
func FuzzWriter(f *testing.F) {
	f.Add(uint8(4), []byte("abcdefghij"), uint8(3))
	f.Add(uint8(1), []byte("xy"), uint8(1))
	f.Add(uint8(16), []byte(strings.Repeat("0123456789", 10)), uint8(7))
	f.Fuzz(func(t *testing.T, limit uint8, data []byte, chunk uint8) {
		w := New(int(limit))
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
		first := max(len(data)-int(limit), 0)
		for _, from := range []int{0, len(data) / 2, len(data)} {
			b, start, next := w.Since(int64(from))
			if s := max(from, first); !bytes.Equal(b, data[s:]) || start != int64(s) || next != int64(len(data)) {
				t.Fatalf("Since(%d) = %q, %d, %d; want %q, %d, %d", from, b, start, next, data[s:], s, len(data))
			}
		}
	})
}

func TestWriterSince(t *testing.T) {
	w := New(8)
	tests := []struct {
		write     string
		from      int64
		want      string
		wantStart int64
		wantNext  int64
	}{
		{"", 0, "", 0, 0},
		{"abc", 0, "abc", 0, 3},
		{"", 1, "bc", 1, 3},
		{"", 3, "", 3, 3},
		{"", 7, "", 3, 3}, // beyond what was written
		{"", -1, "abc", 0, 3},
		{"defgh", 3, "defgh", 3, 8},
		{"ijk", 3, "defghijk", 3, 11},
		{"", 0, "defghijk", 3, 11}, // abc are gone
		{"lmnopqrstu", 11, "nopqrstu", 13, 21},
		{"", 20, "u", 20, 21},
	}
	for i, tt := range tests {
		w.Write([]byte(tt.write))
		b, start, next := w.Since(tt.from)
		if string(b) != tt.want || start != tt.wantStart || next != tt.wantNext {
			t.Errorf("%d: after %q, Since(%d) = %q, %d, %d; want %q, %d, %d",
				i, tt.write, tt.from, b, start, next, tt.want, tt.wantStart, tt.wantNext)
		}
	}
}

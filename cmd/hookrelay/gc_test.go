package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneServerGC(t *testing.T) {
	tests := []struct {
		name string
		gogc string // "" : unset
		want int
	}{
		{name: "GOGC unset: the server's own", want: serverGCPercent},
		{name: "GOGC set: the user's, as the runtime applied it", gogc: "50", want: 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOGC", tt.gogc) // restores it afterwards
			if tt.gogc == "" {
				os.Unsetenv("GOGC")
			}
			// 77 stands for what the runtime made of the environment.
			prev := debug.SetGCPercent(77)
			defer debug.SetGCPercent(prev)
			tuneServerGC()
			if got := debug.SetGCPercent(77); got != tt.want {
				t.Errorf("GC percent = %d, want %d", got, tt.want)
			}
		})
	}
}

package script

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestClearEventDir(t *testing.T) {
	tests := []struct {
		name  string
		files []string // in the directory before
		want  []string // after
	}{
		{"missing directory", nil, nil},
		{"event files left", []string{"hookrelay-event-1.json", "hookrelay-event-22.json"}, nil},
		{"other files kept", []string{"hookrelay-event-1.json", "notes.txt", "hookrelay-event-1.json.bak"}, []string{"hookrelay-event-1.json.bak", "notes.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "events")
			if tt.files != nil {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := ClearEventDir(dir); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(dir)
			if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
				t.Fatalf("directory %v %v", fi, err)
			}
			entries, _ := os.ReadDir(dir)
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("left %v, want %v", got, tt.want)
			}
		})
	}
}

// A run writes its event file in Spec.EventDir and removes it at its end.
func TestRunEventFileInEventDir(t *testing.T) {
	dir := t.TempDir()
	res, err := Run(t.Context(), Spec{Command: []string{"/bin/sh", "-c", `dirname "$HOOKRELAY_EVENT_FILE"; cat "$HOOKRELAY_EVENT_FILE"`},
		EventFile: []byte(`{"a":1}`), EventDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if want := dir + "\n" + `{"a":1}`; res.Stdout != want {
		t.Errorf("stdout %q, want %q", res.Stdout, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left after the run: %v", entries)
	}
}

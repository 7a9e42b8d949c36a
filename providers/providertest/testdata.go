package providertest

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/providers"
	"github.com/hookrelay/hookrelay/providers/httpfile"
)

// dir is where a provider package keeps its raw deliveries, relative to the
// package directory a test runs in.
const dir = "testdata"

// update is the -update flag: Fixtures rewrites the testdata.
var update = flag.Bool("update", false, "rewrite testdata/*.http from the fixtures")

// A Fixture renders one testdata file.
type Fixture interface {
	// File is the name of the file under testdata/.
	File() string
	// Render returns the file's bytes: a raw request, signed.
	Render(t testing.TB) []byte
}

// Render maps fixtures by file name, for Case.Fixtures.
func Render[F Fixture](fixtures []F) map[string]func(t testing.TB) []byte {
	m := make(map[string]func(testing.TB) []byte, len(fixtures))
	for _, f := range fixtures {
		m[f.File()] = f.Render
	}
	return m
}

// ByFile maps fixtures by file name, for the hooks of a Case that look up
// what a file's fixture says.
func ByFile[F Fixture](fixtures []F) map[string]F {
	m := make(map[string]F, len(fixtures))
	for _, f := range fixtures {
		m[f.File()] = f
	}
	return m
}

// Golden maps fixtures that know what they normalise to by file name, for
// Case.Golden.
func Golden[F interface {
	Fixture
	Want() Fields
}](fixtures []F) map[string]Fields {
	m := make(map[string]Fields, len(fixtures))
	for _, f := range fixtures {
		m[f.File()] = f.Want()
	}
	return m
}

// Payload reads testdata/payloads/<name>, the body of a fixture. A .json
// payload is compacted, as senders put JSON on the wire; any other is sent
// as it is.
func Payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".json") {
		b = CompactJSON(t, name, b)
	}
	return b
}

// CompactJSON returns the JSON document src compacted, failing t, with the
// name of where src comes from, when it is not JSON.
func CompactJSON(t testing.TB, name string, src []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, src); err != nil {
		t.Fatalf("%s is not JSON: %v", name, err)
	}
	return b.Bytes()
}

// Testdata loads every testdata/*.http file (see Files and Load), e.g. to
// seed a fuzz target.
func Testdata(t testing.TB, now func(h http.Header) time.Time) []*providers.Request {
	t.Helper()
	var rs []*providers.Request
	for _, f := range Files(t) {
		rs = append(rs, Load(t, f, now))
	}
	return rs
}

// Files returns the names of the testdata/*.http files, sorted. A provider
// without any fails t.
func Files(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.http"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no %s/*.http: %v", dir, err)
	}
	for i, p := range paths {
		paths[i] = filepath.Base(p)
	}
	return paths
}

// Load parses testdata/<file> with httpfile.Parse into a Request received
// at now(its headers), or at the zero time when now is nil. Every call
// returns a request of its own, which the caller may change.
func Load(t testing.TB, file string, now func(h http.Header) time.Time) *providers.Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	hr, err := httpfile.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	r := &providers.Request{Header: hr.Header, Body: hr.Body}
	if now != nil {
		r.Now = now(hr.Header)
	}
	return r
}

// Fixtures keeps the testdata equal to what c.Fixtures render: with -update
// it rewrites the files, and otherwise fails for a file that differs or is
// missing. Either way every testdata/*.http must have a fixture.
func Fixtures(t *testing.T, c Case) {
	t.Helper()
	wd, _ := os.Getwd()
	run := "go test ./" + filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(wd)), filepath.Base(wd))) + " -run TestTestdata -update"
	for _, file := range slices.Sorted(maps.Keys(c.Fixtures)) {
		t.Run(file, func(t *testing.T) {
			want := c.Fixtures[file](t)
			path := filepath.Join(dir, file)
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run %s)", err, run)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from its fixture: run %s", path, run)
			}
		})
	}
	for _, f := range Files(t) {
		if c.Fixtures[f] == nil {
			t.Errorf("%s/%s has no fixture", dir, f)
		}
	}
}

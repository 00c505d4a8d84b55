package sharedpcaps

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recorder stands in for a test to see how missing ends it.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }

func TestMissingFailsInCIAndSkipsElsewhere(t *testing.T) {
	err := fmt.Errorf("reference captures not found at /x/shared/pcaps")
	var ci, local recorder
	missing(&ci, err, true)
	missing(&local, err, false)
	if ci.skipped != "" || !strings.Contains(ci.failed, "/x/shared/pcaps") {
		t.Errorf("in CI: failed %q, skipped %q; want a failure naming the place", ci.failed, ci.skipped)
	}
	if local.failed != "" || !strings.Contains(local.skipped, "/x/shared/pcaps") {
		t.Errorf("outside CI: failed %q, skipped %q; want a skip naming the place", local.failed, local.skipped)
	}
}

func TestFindFrom(t *testing.T) {
	// work/repo/pkg/sub inside a module at work/repo; the corpus at
	// work/shared/pcaps.
	work := t.TempDir()
	sub := filepath.Join(work, "repo", "pkg", "sub")
	corpus := filepath.Join(work, "shared", "pcaps")
	for _, dir := range []string{sub, corpus} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string) {
		t.Helper()
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(work, "repo", "go.mod"))

	if _, err := findFrom(sub); err == nil || !strings.Contains(err.Error(), "no captures in "+corpus) {
		t.Errorf("empty corpus: err = %v, want one naming %s", err, corpus)
	}
	for _, name := range []string{"b.pcapng", "a.pcap", "a.pcap.expect", "README.md"} {
		write(filepath.Join(corpus, name))
	}
	got, err := findFrom(sub)
	if want := []string{filepath.Join(corpus, "a.pcap"), filepath.Join(corpus, "b.pcapng")}; err != nil || !slices.Equal(got, want) {
		t.Errorf("findFrom = %q, %v; want %q", got, err, want)
	}

	if err := os.RemoveAll(filepath.Join(work, "shared")); err != nil {
		t.Fatal(err)
	}
	if _, err := findFrom(sub); err == nil || !strings.Contains(err.Error(), "not found at "+corpus) {
		t.Errorf("no corpus: err = %v, want one naming %s", err, corpus)
	}
}

// TestThisRepository finds the corpus the other packages' tests read
// (or ends as they do without it).
func TestThisRepository(t *testing.T) {
	if paths := Captures(t); len(paths) == 0 {
		t.Error("Captures returned no paths and did not end the test")
	}
}

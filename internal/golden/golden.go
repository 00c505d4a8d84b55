// Package golden compares a test's output with a golden file, for tests
// only: Check fails the test when the bytes differ, and rewrites the file
// instead when the caller's -update flag is set.
package golden

import (
	"bytes"
	"os"
	"testing"
)

// Check compares got with the file at path. With update it first writes
// got there (the test then passes and the diff is reviewed in git).
func Check(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update in the package creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n got %q\nwant %q", path, got, want)
	}
}

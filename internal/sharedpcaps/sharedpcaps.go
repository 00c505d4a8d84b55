// Package sharedpcaps finds the shared reference captures for tests: the
// pcap and pcapng files in ../shared/pcaps beside the repository's root,
// each with its per-frame reference decode FILE.expect.
//
// CI always has the corpus, so there (CI set to true) a test that needs it
// fails when it is missing; elsewhere the test skips, saying where it looked.
package sharedpcaps

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Captures returns the paths of the capture files (not the .expect files),
// sorted. Without them the test fails under CI and skips elsewhere.
func Captures(tb testing.TB) []string {
	tb.Helper()
	paths, err := Find()
	if err != nil {
		missing(tb, err, inCI())
	}
	return paths
}

// Find returns the paths Captures does, or an error saying where it looked,
// without ending the test: for callers that go on without the corpus, such
// as a fuzz target adding captured frames to its seeds.
func Find() ([]string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return findFrom(wd)
}

// findFrom looks for the corpus beside the root of the module that holds
// dir (the nearest directory up from dir with a go.mod).
func findFrom(dir string) ([]string, error) {
	root := dir
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(root)
		if up == root {
			return nil, fmt.Errorf("no go.mod in %s or above it: cannot place ../shared/pcaps", dir)
		}
		root = up
	}
	corpus := filepath.Join(filepath.Dir(root), "shared", "pcaps")
	paths, err := captures(corpus)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no captures in %s", corpus)
	}
	return paths, nil
}

// captures lists the capture files in dir.
func captures(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reference captures not found at %s", dir)
		}
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if name := e.Name(); !e.IsDir() && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng")) {
			paths = append(paths, filepath.Join(dir, name))
		}
	}
	slices.Sort(paths)
	return paths, nil
}

// inCI reports whether the CI environment variable says the tests run in CI.
func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// missing ends tb for a missing corpus: a failure in CI, a skip elsewhere.
func missing(tb testing.TB, err error, ci bool) {
	tb.Helper()
	if ci {
		tb.Fatalf("%v: CI always has the shared reference captures, so this test fails", err)
		return
	}
	tb.Skipf("%v: skipping (the test needs the shared reference captures at ../shared/pcaps beside the repository)", err)
}

package main

import (
	"flag"
	"path/filepath"
	"testing"

	"hogs/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got, *update)
}

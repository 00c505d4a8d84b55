package golden

import (
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	r := &recorder{TB: t}
	Check(r, path, []byte("a"), false)
	if !r.failed {
		t.Error("a missing golden file passed")
	}
	r = &recorder{TB: t}
	Check(r, path, []byte("a"), true)
	if r.failed {
		t.Error("-update failed")
	}
	r = &recorder{TB: t}
	Check(r, path, []byte("a"), false)
	if r.failed {
		t.Error("equal output failed")
	}
	r = &recorder{TB: t}
	Check(r, path, []byte("b"), false)
	if !r.failed {
		t.Error("different output passed")
	}
}

//go:build linux

package rawcap

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// skipUnlessNetnsAdmin skips t, saying why, unless the test can create
// network namespaces: it must run as root, with iproute2's ip on PATH.
func skipUnlessNetnsAdmin(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces: run as root (e.g. sudo go test ./rawcap)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command to create network namespaces: ", err)
	}
}

// newNetns creates a fresh named network namespace (ip netns add
// hogs-test-<random>), removes it with t.Cleanup, and returns its name. It
// skips the test when it cannot create namespaces (see
// skipUnlessNetnsAdmin). Cleanups registered after it run before the
// namespace is removed, so sockets opened in it can be closed first.
func newNetns(t *testing.T) string {
	t.Helper()
	skipUnlessNetnsAdmin(t)
	name := fmt.Sprintf("hogs-test-%08x", rand.Uint32())
	ipCmd(t, "", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	return name
}

// inNetns runs f on a locked OS thread that has joined the namespace
// (unix.Setns on /run/netns/NAME), and restores the thread's original
// namespace afterwards; if restoring fails the thread stays locked, so the
// runtime discards it. f runs on its own goroutine, which inNetns waits for:
// the test's goroutine never changes namespace. f may call t.Fatal, t.Skip
// and friends; inNetns then stops the test's goroutine the same way. A
// panic in f is re-raised on the caller's goroutine.
func inNetns(t *testing.T, name string, f func()) {
	t.Helper()
	target, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening network namespace %s: %v", name, err)
	}
	defer unix.Close(target)

	var (
		done       = make(chan struct{})
		setupErr   error
		restoreErr error
		returned   bool // f returned normally
		panicValue any
	)
	go func() {
		defer close(done)
		runtime.LockOSThread()
		original, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			setupErr = fmt.Errorf("opening this thread's network namespace: %w", err)
			return
		}
		defer unix.Close(original)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			setupErr = fmt.Errorf("joining network namespace %s: %w", name, err)
			return
		}
		defer func() {
			if err := unix.Setns(original, unix.CLONE_NEWNET); err != nil {
				// Still locked: the thread dies with this goroutine.
				restoreErr = err
				return
			}
			runtime.UnlockOSThread()
		}()
		defer func() {
			if !returned {
				panicValue = recover() // nil when f called runtime.Goexit (t.FailNow, t.SkipNow)
			}
		}()
		f()
		returned = true
	}()
	<-done

	switch {
	case setupErr != nil:
		t.Fatal(setupErr)
	case restoreErr != nil:
		t.Errorf("restoring the original network namespace after running in %s: %v (thread discarded)", name, restoreErr)
	}
	if panicValue != nil {
		panic(panicValue)
	}
	if !returned {
		if t.Skipped() {
			t.SkipNow()
		}
		t.FailNow()
	}
}

// ipCmd runs `ip -n NAME args...` (or plain `ip args...` when ns is "") and
// returns its output; it fails the test with the output on error.
func ipCmd(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := runIP(ns, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// runIP is ipCmd returning its failure, for steps a kernel may not support.
func runIP(ns string, args ...string) (string, error) {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

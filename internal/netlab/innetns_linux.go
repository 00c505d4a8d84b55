package netlab

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// ErrGoexit reports that the function InNetns ran called runtime.Goexit
// (as t.FailNow and t.SkipNow do) instead of returning.
var ErrGoexit = errors.New("the function run in the namespace called runtime.Goexit")

// InNetns runs f on a locked OS thread that has joined namespace ns
// (setns on /run/netns/NS), and restores the thread's namespace
// afterwards; if restoring fails the thread stays locked, so the runtime
// discards it with its goroutine. f runs on a goroutine of its own, which
// InNetns waits for: the caller's goroutine never changes namespace. A
// panic in f is re-raised on the caller's goroutine.
func InNetns(ns string, f func()) error {
	target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", ns, err)
	}
	defer unix.Close(target)

	var (
		done       = make(chan struct{})
		errs       []error
		returned   bool // f returned normally
		panicValue any
	)
	go func() {
		defer close(done)
		runtime.LockOSThread()
		original, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errs = append(errs, fmt.Errorf("opening this thread's network namespace: %w", err))
			return
		}
		defer unix.Close(original)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errs = append(errs, fmt.Errorf("joining network namespace %s: %w", ns, err))
			return
		}
		defer func() {
			if err := unix.Setns(original, unix.CLONE_NEWNET); err != nil {
				// Still locked: the thread dies with this goroutine.
				errs = append(errs, fmt.Errorf("restoring the original network namespace after running in %s: %w (thread discarded)", ns, err))
				return
			}
			runtime.UnlockOSThread()
		}()
		defer func() {
			if !returned {
				panicValue = recover() // nil after runtime.Goexit
			}
		}()
		f()
		returned = true
	}()
	<-done
	if panicValue != nil {
		panic(panicValue)
	}
	if len(errs) == 0 && !returned {
		errs = append(errs, ErrGoexit)
	}
	return errors.Join(errs...)
}

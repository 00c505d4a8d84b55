package netns

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs f on a locked OS thread that has joined the network namespace
// nsFD refers to, and returns the thread to its namespace afterwards. If
// that fails the thread stays locked and the runtime discards it with the
// goroutine. f runs on a goroutine of its own (the caller's never changes
// namespace) and must not panic.
func Do(nsFD int, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: opening this thread's network namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(nsFD, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			if errors.Is(err, unix.EPERM) {
				err = fmt.Errorf("%w (joining a network namespace needs CAP_SYS_ADMIN)", err)
			}
			errc <- fmt.Errorf("netns: joining a network namespace: %w", err)
			return
		}
		ferr := f()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Still locked: the thread ends with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("netns: returning to the original network namespace: %w (thread discarded)", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// SocketIn creates a socket (socket(2) arguments; SOCK_CLOEXEC is added)
// inside the namespace nsFD refers to. The socket belongs to that
// namespace for its life, whichever thread uses it later.
func SocketIn(nsFD, domain, typ, proto int) (int, error) {
	fd := -1
	err := Do(nsFD, func() error {
		var err error
		fd, err = unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		return err
	})
	if err != nil {
		return -1, fmt.Errorf("netns: socket in namespace: %w", err)
	}
	return fd, nil
}

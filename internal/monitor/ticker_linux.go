package monitor

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// refreshTicker wakes the refresh loop every interval. On Linux it is a
// timerfd that the Go runtime's network poller watches, as it watches the
// capture socket. A Go timer firing in an otherwise idle program also
// wakes the runtime's monitor thread (sysmon), which then polls while the
// refresh runs: an idle hogs costs about half the CPU with the timerfd
// (figures in the commit that introduced it).
type refreshTicker struct {
	f   *os.File
	buf [8]byte // the timerfd's expiry count
}

func newRefreshTicker(every time.Duration) (*refreshTicker, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("refresh timer: %w", err)
	}
	period := unix.NsecToTimespec(int64(every))
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: period, Value: period}, nil); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("refresh timer: %w", err)
	}
	return &refreshTicker{f: os.NewFile(uintptr(fd), "refresh timer")}, nil
}

// Wait blocks until the next tick (ticks missed meanwhile are one tick). It
// returns false once Stop was called, also when Stop interrupts it.
func (t *refreshTicker) Wait() bool {
	_, err := t.f.Read(t.buf[:])
	return err == nil
}

// Stop ends the ticks.
func (t *refreshTicker) Stop() { t.f.Close() }

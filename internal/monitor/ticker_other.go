//go:build !linux

package monitor

import (
	"sync"
	"time"
)

// refreshTicker wakes the refresh loop every interval (a time.Ticker where
// there is no timerfd).
type refreshTicker struct {
	t    *time.Ticker
	stop chan struct{}
	once sync.Once
}

func newRefreshTicker(every time.Duration) (*refreshTicker, error) {
	return &refreshTicker{t: time.NewTicker(every), stop: make(chan struct{})}, nil
}

// Wait blocks until the next tick; false once Stop was called.
func (t *refreshTicker) Wait() bool {
	select {
	case <-t.t.C:
		return true
	case <-t.stop:
		return false
	}
}

// Stop ends the ticks.
func (t *refreshTicker) Stop() {
	t.once.Do(func() {
		t.t.Stop()
		close(t.stop)
	})
}

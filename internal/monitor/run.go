package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"hogs/rawcap"
)

// runLive captures until the context is done, Count refreshes were shown,
// or the source or a sink fails; refreshes follow the ticker.
func (m *Monitor) runLive(ctx context.Context) error {
	ticks, err := m.cfg.NewTicker(m.cfg.Interval)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	sourceErr := make(chan error, 2)
	wg.Go(func() {
		if err := m.capture(m.src, &frameClock{mono: m.cfg.Now}); err != nil {
			sourceErr <- fmt.Errorf("capture: %w", err)
		}
	})
	if hs, ok := m.src.(HandshakeSource); ok {
		wg.Go(func() {
			if err := m.watchHandshakes(hs); err != nil {
				sourceErr <- fmt.Errorf("capture: %w", err)
			}
		})
	}
	if m.attr != nil {
		wg.Go(func() { m.resolve(stop) })
	}
	// Whatever ends the run stops the ticks, which ends the refresh loop.
	var (
		endErr error
		endMu  sync.Mutex
	)
	loopDone, watcherDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watcherDone)
		defer ticks.Stop()
		select {
		case <-loopDone:
		case <-ctx.Done():
		case err := <-sourceErr:
			endMu.Lock()
			endErr = err
			endMu.Unlock()
		}
	}()
	defer func() {
		close(loopDone)
		<-watcherDone
		close(stop)
		m.src.Close()
		wg.Wait()
	}()
	for {
		if err := m.refresh(m.cfg.Now()); err != nil {
			return err
		}
		if m.cfg.Count > 0 && m.refreshes >= m.cfg.Count {
			return nil
		}
		if !ticks.Wait() {
			<-watcherDone
			endMu.Lock()
			defer endMu.Unlock()
			return endErr
		}
	}
}

// MaxQuietRefreshes is how many refreshes a replay shows for a stretch of
// capture time without packets (enough for rates to fall to zero) before
// it skips to the next packet.
const MaxQuietRefreshes = 6

// replayClock times a capture file's frames by their timestamps, relative
// to the first frame's (a timestamp 0 is a time like any other), never
// backwards. When a frame's time reaches the next refresh, it hands the
// refresh times crossed to the refresh loop and waits until each is done,
// so each refresh shows exactly the frames before it; after
// MaxQuietRefreshes of an empty stretch it skips to the refresh before the
// frame. It runs in the capture goroutine.
type replayClock struct {
	m        *Monitor
	ctx      context.Context
	started  bool
	first    int64 // the first frame's timestamp, ns
	last     int64 // the latest frame time handed out
	next     int64 // the next refresh time, relative to first
	ticks    chan int64
	done     chan error
	err      error // set once the refresh loop stopped or failed
	finished bool  // Count refreshes shown
}

// at returns f's time and runs the refreshes it crosses.
func (c *replayClock) at(f *rawcap.Frame) int64 {
	ts := f.Timestamp.UnixNano()
	if !c.started {
		c.started, c.first, c.next = true, ts, 0
	}
	t := max(ts-c.first, c.last)
	c.last = t
	quiet := 0
	for t >= c.next && c.err == nil && !c.finished {
		if quiet == MaxQuietRefreshes {
			// Skip the rest of the empty stretch: the next refresh is the
			// first boundary after t.
			iv := int64(c.m.cfg.Interval)
			c.next += (t - c.next) / iv * iv
		}
		c.tick(c.next)
		c.next += int64(c.m.cfg.Interval)
		quiet++
	}
	return t
}

// tick has the refresh loop refresh at time at and waits for it.
func (c *replayClock) tick(at int64) {
	c.m.adder.Flush()
	select {
	case c.ticks <- at:
	case <-c.ctx.Done():
		c.err = c.ctx.Err()
		return
	}
	if err := <-c.done; err != nil {
		c.err = err
	}
	if c.m.cfg.Count > 0 && c.m.refreshes >= c.m.cfg.Count {
		c.finished = true
	}
}

// replaySource stops the capture loop once the replay clock has stopped.
type replaySource struct {
	Source
	clock *replayClock
}

func (s replaySource) Next(f *rawcap.Frame) error {
	if s.clock.err != nil {
		return s.clock.err
	}
	if s.clock.finished {
		return errReplayDone
	}
	return s.Source.Next(f)
}

var errReplayDone = errors.New("replay: refresh count reached")

// runReplay feeds a capture file through the pipeline on the file's own
// clock: a refresh every Interval of capture time and one at the end (or
// Count refreshes). A file damaged mid-way shows everything before the
// damage in its last refresh, then its error is returned.
func (m *Monitor) runReplay(ctx context.Context) error {
	clock := &replayClock{m: m, ctx: ctx, ticks: make(chan int64), done: make(chan error)}
	captured := make(chan error, 1)
	go func() {
		err := m.capture(replaySource{m.src, clock}, &frameClock{replay: clock})
		close(clock.ticks)
		captured <- err
	}()
	var refreshErr error
	for at := range clock.ticks {
		refreshErr = m.refresh(at)
		clock.done <- refreshErr
		if refreshErr != nil {
			break
		}
	}
	if refreshErr != nil {
		// The capture loop stops at its next frame; let it.
		for range clock.ticks {
			clock.done <- refreshErr
		}
		<-captured
		return refreshErr
	}
	captureErr := <-captured
	if errors.Is(captureErr, errReplayDone) {
		return nil
	}
	if errors.Is(captureErr, context.Canceled) || errors.Is(captureErr, context.DeadlineExceeded) {
		return nil
	}
	// The last refresh: at the end of the file, or at the damage.
	if m.cfg.Count == 0 || m.refreshes < m.cfg.Count {
		at := clock.next
		if !clock.started {
			at = 0
		}
		if err := m.refresh(at); err != nil {
			return err
		}
	}
	return captureErr
}

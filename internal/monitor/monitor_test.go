package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hogs/internal/flow"
	"hogs/rawcap"
	"hogs/ui"
)

// liveRig runs a Monitor on a chanSource with a manual ticker and a fake
// clock the test advances.
type liveRig struct {
	src    *chanSource
	ticks  *manualTicker
	views  *viewLog
	attr   *fakeAttributor
	owners *flow.Owners
	m      *Monitor
	now    atomic.Int64
	done   chan error
	cancel context.CancelFunc
}

func startLive(t *testing.T, cfg Config) *liveRig {
	t.Helper()
	return startLiveWith(t, cfg, nil)
}

// startLiveWith is startLive with the attributor attr makes (nil: a
// fakeAttributor, which r.attr then is).
func startLiveWith(t *testing.T, cfg Config, attr func(*flow.Owners) Attributor) *liveRig {
	t.Helper()
	r := &liveRig{src: newChanSource(), ticks: newManualTicker(), views: newViewLog(), owners: flow.NewOwners(), done: make(chan error, 1)}
	var a Attributor
	if attr == nil {
		r.attr = newFakeAttributor(r.owners)
		a = r.attr
	} else {
		a = attr(r.owners)
	}
	cfg.NewTicker = func(time.Duration) (Ticker, error) { return r.ticks, nil }
	cfg.Now = r.now.Load
	r.m = New(cfg, r.src, a, r.owners, r.views)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	<-r.views.shown // the first refresh comes at once
	return r
}

// waitLookups waits until the attributor has made n lookups and their
// owners are recorded, as a new connection's lookup is done long before
// the next refresh.
func (r *liveRig) waitLookups(t *testing.T, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for r.attr.lookups.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d lookups, want %d", r.attr.lookups.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	// The resolver records owners under this lock.
	r.m.resolving.Lock()
	r.m.resolving.Unlock()
}

// refresh advances the clock by d, ticks, and returns the view shown.
func (r *liveRig) refresh(t *testing.T, d time.Duration) *ui.View {
	t.Helper()
	r.now.Add(int64(d))
	if !r.ticks.tick() {
		t.Fatal("the refresh loop stopped")
	}
	select {
	case v := <-r.views.shown:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no refresh after a tick")
		return nil
	}
}

// TestLiveRefreshesInOrder: a refresh follows each tick and shows every
// packet counted before it; views are published (Latest), stamped, and
// never change after; totals never decrease; Count ends the run.
func TestLiveRefreshesInOrder(t *testing.T) {
	r := startLive(t, Config{Interval: time.Second, Count: 6})
	ts := time.Unix(1_700_000_000, 0)
	var wantSent, wantRecv uint64
	var prev *ui.View
	for i := range 5 {
		var frames []rawcap.Frame
		for j := range 10 {
			frames = append(frames, tcpFrame(uint16(40000+j%3), j%2 == 0, 100+i, ts))
			if j%2 == 0 {
				wantSent += uint64(100 + i)
			} else {
				wantRecv += uint64(100 + i)
			}
		}
		r.src.send(frames...)
		v := r.refresh(t, time.Second)
		if r.m.Latest() != v {
			t.Fatalf("refresh %d: Latest is not the view just shown", i)
		}
		sent, recv := rowTotals(v)
		if sent != wantSent || recv != wantRecv {
			t.Fatalf("refresh %d: rows sum to %d sent, %d received; want %d, %d", i, sent, recv, wantSent, wantRecv)
		}
		if got := v.Capture[0].Received; got != uint64(10*(i+1)) {
			t.Errorf("refresh %d: capture stats %d frames, want %d", i, got, 10*(i+1))
		}
		if prev != nil {
			ps, pr := rowTotals(prev)
			if ps != wantSent-uint64(5*(100+i)) || pr != wantRecv-uint64(5*(100+i)) {
				t.Errorf("refresh %d: the previous view changed after it was shown: %d, %d", i, ps, pr)
			}
		}
		prev = v
	}
	select {
	case err := <-r.done:
		r.done <- nil // for the cleanup
		if err != nil {
			t.Fatalf("Run after Count refreshes: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end after Count refreshes")
	}
	if n := len(r.views.all()); n != 6 {
		t.Errorf("%d refreshes shown, want Count = 6", n)
	}
	if !r.src.closedNow() {
		t.Error("the source was not closed when Run returned")
	}
}

func (s *chanSource) closedNow() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// TestLiveEnds: cancelling the context ends a run with no error; a source
// error ends it with that error; a sink's error ends it with that error.
func TestLiveEnds(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		r := startLive(t, Config{})
		r.cancel()
		if err := <-r.done; err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
		r.done <- nil // for the cleanup
	})
	t.Run("source error", func(t *testing.T) {
		r := startLive(t, Config{})
		r.src.fail <- errDamaged
		err := <-r.done
		if !errors.Is(err, errDamaged) {
			t.Fatalf("Run after a source error: %v, want it", err)
		}
		r.done <- nil
	})
	t.Run("sink error", func(t *testing.T) {
		r := startLive(t, Config{})
		sinkErr := errors.New("disk full")
		r.views.mu.Lock()
		r.views.err = sinkErr
		r.views.mu.Unlock()
		r.now.Add(int64(time.Second))
		r.ticks.tick()
		if err := <-r.done; !errors.Is(err, sinkErr) {
			t.Fatalf("Run after a sink error: %v, want it", err)
		}
		r.done <- nil
	})
}

// TestOwnersFold: a thousand short-lived processes, each with one
// connection; once they have exited and their traffic is older than the
// idle time, they fold into one row per program: the owner registry and
// every view stay bounded, and no byte is lost or counted twice.
func TestOwnersFold(t *testing.T) {
	idle := 5 * time.Second
	r := startLive(t, Config{Idle: idle})
	ts := time.Unix(1_700_000_000, 0)
	const procs = 1000
	var wantSent, wantRecv uint64
	var maxOwners, maxRows, maxJSON int
	var jsonLine bytes.Buffer
	for i := range procs {
		port := uint16(20000 + i)
		r.src.send(tcpFrame(port, true, 200, ts), tcpFrame(port, false, 1000, ts))
		wantSent += 200
		wantRecv += 1000
		if i%10 == 9 {
			// Their sockets are found while the processes run, by the
			// resolver goroutine, which looks each new flow up once; then
			// they exit. The test waits for those lookups: had a refresh's
			// retry pass found the owners first, the resolver's queued
			// lookups of the same flows would run whenever its goroutine
			// is scheduled, on a fake clock that may have moved on by
			// seconds, after the exits and the folds, and register exited
			// processes again as owners of no flow.
			r.waitLookups(t, uint64(i+1))
			v := r.refresh(t, time.Second/2)
			for p := 20000 + i - 9; p <= 20000+i; p++ {
				r.attr.exit(p)
			}
			maxOwners = max(maxOwners, r.owners.Len())
			maxRows = max(maxRows, len(v.Rows))
			jsonLine.Reset()
			if err := ui.WriteJSON(&jsonLine, v, ui.JSONOptions{Connections: true}); err != nil {
				t.Fatal(err)
			}
			maxJSON = max(maxJSON, jsonLine.Len())
			sent, recv := rowTotals(v)
			if sent != wantSent || recv != wantRecv {
				t.Fatalf("after %d processes: rows sum to %d/%d bytes, want %d/%d", i+1, sent, recv, wantSent, wantRecv)
			}
		}
	}
	// Quiet for twice the idle time: every flow expires, every process
	// folds.
	var v *ui.View
	for range 2 * int(idle/time.Second) {
		v = r.refresh(t, time.Second)
	}
	v = r.refresh(t, foldEvery)
	sent, recv := rowTotals(v)
	if sent != wantSent || recv != wantRecv {
		t.Fatalf("after folding: rows sum to %d/%d bytes, want %d/%d", sent, recv, wantSent, wantRecv)
	}
	for _, name := range []string{"curl", "wget", "ssh"} {
		row := rowNamed(v, name)
		if row == nil || !row.Exited || row.PID != 0 {
			t.Fatalf("no folded row for %s: %+v", name, row)
		}
	}
	if n := r.owners.Len(); n != 3 {
		t.Errorf("%d owners registered after all exited, want the 3 folded rows", n)
	}
	if n := len(v.Rows); n != 4 {
		t.Errorf("%d rows after folding, want 3 folded + unknown TCP", n)
	}
	// While processes came and went (20 a second of the fake clock), what
	// was kept followed what was live or exited lately (the idle time plus
	// one fold interval's worth), not all thousand.
	if bound := 20*int((idle+foldInterval(idle))/time.Second) + 50; maxOwners > bound || maxRows > bound+1 {
		t.Errorf("up to %d owners and %d rows; want at most %d", maxOwners, maxRows, bound)
	}
	if maxJSON > 200_000 {
		t.Errorf("a JSON line grew to %d bytes", maxJSON)
	}
	t.Logf("peak %d owners, %d rows, %d-byte JSON line for %d processes", maxOwners, maxRows, maxJSON, procs)
}

// TestFoldKeepsIntervals: the bytes a folded row takes over are not new
// traffic in its next interval.
func TestFoldKeepsIntervals(t *testing.T) {
	r := startLive(t, Config{Idle: time.Second})
	ts := time.Unix(1_700_000_000, 0)
	r.src.send(tcpFrame(30001, true, 5000, ts))
	r.waitLookups(t, 1)
	r.refresh(t, time.Second/2)
	r.attr.exit(30001)
	var v *ui.View
	for range 3 {
		v = r.refresh(t, time.Second)
	}
	v = r.refresh(t, foldEvery)
	row := rowNamed(v, progName(30001))
	if row == nil || !row.Exited || row.Sent.Bytes != 5000 {
		t.Fatalf("folded row %+v", row)
	}
	if row.SentInterval.Bytes != 0 {
		t.Errorf("the folded row's interval shows %d bytes moved as new traffic", row.SentInterval.Bytes)
	}
}

// TestStatsWhileResolving: the -x line reads the attributor's and
// capture's counters while the resolver goroutine resolves (run under
// -race).
func TestStatsWhileResolving(t *testing.T) {
	var log lockedBuffer
	r := startLive(t, Config{Log: &log})
	ts := time.Unix(1_700_000_000, 0)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 2000 {
			r.src.in <- tcpFrame(uint16(1000+i), true, 60, ts)
		}
	})
	for range 20 {
		r.refresh(t, time.Second)
	}
	wg.Wait()
	r.src.sent += 2000
	r.src.send()
	r.refresh(t, time.Second)
	if !strings.Contains(log.String(), "attributor fake") {
		t.Errorf("-x lines name no attributor:\n%s", log.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// replay runs a replay of frames ending with end and returns the refresh
// times and views.
func replay(t *testing.T, cfg Config, frames []rawcap.Frame, end error) ([]*ui.View, error) {
	t.Helper()
	cfg.Replay = true
	views := newViewLog()
	src := &listSource{frames: frames, err: end}
	err := New(cfg, src, nil, nil, views).Run(context.Background())
	if !src.closed.Load() {
		t.Error("the file was not closed")
	}
	return views.all(), err
}

// TestReplayClock: refreshes follow the file's clock, each showing exactly
// the packets before its time; timestamp 0 is a time like any other; a gap
// of a year is a few refreshes; Count stops the replay; a file damaged
// mid-way shows what came before in its last refresh, then the error.
func TestReplayClock(t *testing.T) {
	sec := func(s float64) time.Time { return time.Unix(0, 0).Add(time.Duration(s * float64(time.Second))) }
	f := func(s float64, wire int) rawcap.Frame { return tcpFrame(40000, true, wire, sec(s)) }
	cases := []struct {
		name      string
		cfg       Config
		frames    []rawcap.Frame
		end       error
		wantBytes []uint64 // the sent bytes of each refresh
	}{
		{"each refresh shows what came before it", Config{Interval: time.Second},
			[]rawcap.Frame{f(0, 1), f(0.5, 2), f(1.0, 4), f(1.9, 8), f(3.2, 16)}, io.EOF,
			// refreshes at 0 (before the first packet), 1, 2, 3, and the end (4)
			[]uint64{0, 3, 15, 15, 31}},
		{"timestamp 0 and a year's gap", Config{Interval: time.Second},
			[]rawcap.Frame{f(0, 1), f(365*24*3600, 2)}, io.EOF,
			append(append([]uint64{0}, repeat(1, MaxQuietRefreshes)...), 1, 3)},
		{"count", Config{Interval: time.Second, Count: 2},
			[]rawcap.Frame{f(0, 1), f(1, 2), f(2, 4), f(3, 8)}, io.EOF,
			[]uint64{0, 1}},
		{"damaged mid-way", Config{Interval: time.Second},
			[]rawcap.Frame{f(10, 1), f(10.5, 2), f(11.2, 4)}, errDamaged,
			[]uint64{0, 3, 7}},
		{"empty", Config{Interval: time.Second}, nil, io.EOF, []uint64{0}},
		{"time going backwards", Config{Interval: time.Second},
			[]rawcap.Frame{f(5, 1), f(4, 2), f(6.5, 4)}, io.EOF,
			[]uint64{0, 3, 7}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			views, err := replay(t, c.cfg, c.frames, c.end)
			if c.end == io.EOF && err != nil || c.end != io.EOF && !errors.Is(err, c.end) {
				t.Fatalf("Run: %v, want %v", err, c.end)
			}
			var got []uint64
			for _, v := range views {
				s, _ := rowTotals(v)
				got = append(got, s)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.wantBytes) {
				t.Errorf("refreshes show %v bytes, want %v", got, c.wantBytes)
			}
		})
	}
}

func repeat(v uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestReplaySinkError: a sink's error ends the replay with that error, and
// the capture loop stops with it.
func TestReplaySinkError(t *testing.T) {
	views := newViewLog()
	views.err = errors.New("broken pipe")
	var frames []rawcap.Frame
	for i := range 100 {
		frames = append(frames, tcpFrame(40000, true, 1, time.Unix(int64(i), 0)))
	}
	src := &listSource{frames: frames, err: io.EOF}
	err := New(Config{Replay: true}, src, nil, nil, views).Run(context.Background())
	if err == nil || err.Error() != "broken pipe" {
		t.Fatalf("Run: %v", err)
	}
	if n := len(views.all()); n != 1 {
		t.Errorf("%d refreshes after the sink failed on the first", n)
	}
}

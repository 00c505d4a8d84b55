package monitor

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"hogs/decode"
	"hogs/internal/flow"
	"hogs/rawcap"
	"hogs/ui"
)

// chanSource is a live Source fed by a test: frames sent on in are
// delivered in order; before it waits for more it flushes the capture
// loop's held run (IdleNotifier) and reports on idle, so a test knows
// everything sent so far is in the table.
type chanSource struct {
	in     chan rawcap.Frame
	idle   chan uint64 // frames delivered, sent when Next waits
	closed chan struct{}
	once   sync.Once
	onIdle func()
	frames atomic.Uint64
	sent   uint64     // frames send delivered (the test's goroutine)
	fail   chan error // an error Next returns
}

func newChanSource() *chanSource {
	return &chanSource{in: make(chan rawcap.Frame), idle: make(chan uint64, 1), closed: make(chan struct{}), fail: make(chan error, 1)}
}

var (
	_ Source       = (*chanSource)(nil)
	_ IdleNotifier = (*chanSource)(nil)
)

func (s *chanSource) OnIdle(fn func()) { s.onIdle = fn }

func (s *chanSource) Next(f *rawcap.Frame) error {
	for {
		select {
		case fr := <-s.in:
			*f = fr
			s.frames.Add(1)
			return nil
		default:
		}
		if s.onIdle != nil {
			s.onIdle()
		}
		n := s.frames.Load()
		select {
		case <-s.idle: // a stale count
		default:
		}
		s.idle <- n
		select {
		case fr := <-s.in:
			*f = fr
			s.frames.Add(1)
			return nil
		case err := <-s.fail:
			return err
		case <-s.closed:
			return net.ErrClosed
		}
	}
}

// send delivers frames and waits until the capture loop has counted them
// (it waits for more after the last).
func (s *chanSource) send(frames ...rawcap.Frame) {
	for _, f := range frames {
		s.in <- f
	}
	s.sent += uint64(len(frames))
	want := s.sent
	for n := range s.idle {
		if n >= want {
			return
		}
	}
}

func (s *chanSource) Capture() ui.CaptureStats {
	return ui.CaptureStats{Source: "fake", Received: s.frames.Load()}
}

func (s *chanSource) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// manualTicker ticks when the test says so.
type manualTicker struct {
	c    chan struct{}
	stop chan struct{}
	once sync.Once
}

func newManualTicker() *manualTicker {
	return &manualTicker{c: make(chan struct{}), stop: make(chan struct{})}
}

func (t *manualTicker) Wait() bool {
	select {
	case <-t.c:
		return true
	case <-t.stop:
		return false
	}
}

func (t *manualTicker) Stop() { t.once.Do(func() { close(t.stop) }) }

// tick wakes the refresh loop; false if it has stopped.
func (t *manualTicker) tick() bool {
	select {
	case t.c <- struct{}{}:
		return true
	case <-t.stop:
		return false
	}
}

// viewLog is a Sink that keeps every view and signals each.
type viewLog struct {
	mu    sync.Mutex
	views []*ui.View
	shown chan *ui.View
	err   error // returned by Show once set
}

func newViewLog() *viewLog { return &viewLog{shown: make(chan *ui.View, 1024)} }

func (l *viewLog) Show(v *ui.View) error {
	l.mu.Lock()
	l.views = append(l.views, v)
	err := l.err
	l.mu.Unlock()
	l.shown <- v
	return err
}

func (l *viewLog) all() []*ui.View {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*ui.View(nil), l.views...)
}

// fakeAttributor owns every flow whose local port it knows: the port
// numbers a process (PID = port, start time 1) that it registers in
// owners. Processes in exited do not run any more.
type fakeAttributor struct {
	owners  *flow.Owners
	mu      sync.Mutex
	exited  map[int]bool
	lookups atomic.Uint64
}

func newFakeAttributor(owners *flow.Owners) *fakeAttributor {
	return &fakeAttributor{owners: owners, exited: map[int]bool{}}
}

func (a *fakeAttributor) Resolve(keys []flow.Key, owners []flow.Owner) error {
	for i, k := range keys {
		a.lookups.Add(1)
		pid := int(k.Local.Port())
		owners[i] = a.owners.Intern(flow.Process{PID: pid, StartTime: 1, Name: progName(pid), UID: 1000, User: "u"})
	}
	return nil
}

func (a *fakeAttributor) Recheck(func(flow.Key, flow.Owner) bool) error { return nil }

func (a *fakeAttributor) Alive(p flow.Process) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.exited[p.PID]
}

func (a *fakeAttributor) exit(pid int) {
	a.mu.Lock()
	a.exited[pid] = true
	a.mu.Unlock()
}

func (a *fakeAttributor) Stats() AttributionStats {
	return AttributionStats{Attributor: "fake", Lookups: a.lookups.Load()}
}

// progName gives the processes of a test three program names.
func progName(pid int) string { return []string{"curl", "wget", "ssh"}[pid%3] }

// tcpFrame is a raw IPv4 TCP packet of local port lport, sent (out) or
// received, of wire bytes, stamped ts.
func tcpFrame(lport uint16, out bool, wire int, ts time.Time) rawcap.Frame {
	local, remote := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	src, dst, sp, dp := remote, local, uint16(443), lport
	dir := decode.DirIn
	if out {
		src, dst, sp, dp, dir = local, remote, lport, 443, decode.DirOut
	}
	b := make([]byte, 40)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:4], 40)
	b[8], b[9] = 64, decode.ProtoTCP
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[20:], sp)
	binary.BigEndian.PutUint16(b[22:], dp)
	return rawcap.Frame{Data: b, WireLen: wire, LinkType: decode.LinkRaw, Direction: dir, Timestamp: ts, InterfaceName: "eth0"}
}

// listSource is a replay Source: a fixed list of frames, then err (io.EOF
// for a whole file).
type listSource struct {
	frames []rawcap.Frame
	next   int
	err    error
	closed atomic.Bool
}

func (s *listSource) Next(f *rawcap.Frame) error {
	if s.next == len(s.frames) {
		return s.err
	}
	*f = s.frames[s.next]
	s.next++
	return nil
}

func (s *listSource) Capture() ui.CaptureStats {
	return ui.CaptureStats{Source: "list"}
}

func (s *listSource) Close() error { s.closed.Store(true); return nil }

var errDamaged = errors.New("damaged at byte 1234")

// rowTotals sums a view's rows: all bytes sent and received.
func rowTotals(v *ui.View) (sent, recv uint64) {
	for _, r := range v.Rows {
		sent += r.Sent.Bytes
		recv += r.Recv.Bytes
	}
	return sent, recv
}

// rowNamed finds a row by name.
func rowNamed(v *ui.View, name string) *ui.Row {
	for i := range v.Rows {
		if v.Rows[i].Name == name {
			return &v.Rows[i]
		}
	}
	return nil
}

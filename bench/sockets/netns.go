package main

// Child processes and their line-timestamped output, so that the harness
// sees each refresh as it arrives; namespaces, counters and /proc readings
// come from bench/internal/vethlab, shared with bench/live.

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"

	"hogs/bench/internal/vethlab"
)

const (
	addrA = "10.91.0.1" // vA, in nsA: the monitor and the clients
	addrB = "10.91.0.2" // vB, in nsB: the servers
	macA  = "02:91:00:00:00:01"
	macB  = "02:91:00:00:00:02"
)

// tline is one output line and when the harness read it.
type tline struct {
	t time.Time
	s string
}

// lineLog collects a child's output line by line with arrival times, safe
// for concurrent use. Lines that isRefresh accepts are refreshes: their
// arrival times are kept apart (all of them) and wake a waiter. Past
// maxLines the older half of the lines is dropped; line numbers stay
// absolute (base counts the dropped ones).
type lineLog struct {
	mu        sync.Mutex
	partial   []byte
	lines     []tline
	base      int
	maxLines  int
	isRefresh func(string) bool
	refLine   []int       // absolute line number of each refresh
	refTime   []time.Time // arrival of each refresh
	notify    chan struct{}
}

func newLineLog(maxLines int, isRefresh func(string) bool) *lineLog {
	return &lineLog{maxLines: maxLines, isRefresh: isRefresh, notify: make(chan struct{}, 1)}
}

const maxPartial = 64 << 20 // longest line kept whole

func (l *lineLog) Write(p []byte) (int, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.add(now, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > maxPartial {
		l.add(now, string(l.partial))
		l.partial = nil
	}
	return len(p), nil
}

func (l *lineLog) add(t time.Time, s string) {
	if l.isRefresh != nil && l.isRefresh(s) {
		l.refLine = append(l.refLine, l.base+len(l.lines))
		l.refTime = append(l.refTime, t)
		select {
		case l.notify <- struct{}{}:
		default:
		}
	}
	l.lines = append(l.lines, tline{t, s})
	if len(l.lines) > l.maxLines {
		drop := len(l.lines) - l.maxLines/2
		l.base += drop
		l.lines = append([]tline(nil), l.lines[drop:]...)
	}
}

// snapshot returns copies of the kept lines (from absolute line base), and
// of the refresh positions and times.
func (l *lineLog) snapshot() (lines []tline, base int, refLine []int, refTime []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]tline(nil), l.lines...), l.base,
		append([]int(nil), l.refLine...), append([]time.Time(nil), l.refTime...)
}

// refreshes is the number of refreshes so far.
func (l *lineLog) refreshes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.refLine)
}

// refreshAfter returns the index and time of the first refresh that
// arrived at or after t, if any.
func (l *lineLog) refreshAfter(t time.Time) (int, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(l.refTime)
	for i > 0 && !l.refTime[i-1].Before(t) {
		i--
	}
	if i == len(l.refTime) {
		return 0, time.Time{}, false
	}
	return i, l.refTime[i], true
}

// text is the kept output as one string.
func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, ln := range l.lines {
		b.WriteString(ln.s)
		b.WriteByte('\n')
	}
	b.Write(l.partial)
	return b.String()
}

// find returns the first kept line starting with prefix.
func (l *lineLog) find(prefix string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range l.lines {
		if strings.HasPrefix(ln.s, prefix) {
			return ln.s, true
		}
	}
	return "", false
}

// child is a program running inside a namespace (a vethlab.Proc) with its
// output kept line by line.
type child struct {
	*vethlab.Proc
	out, err *lineLog
}

// startChild starts argv in namespace ns; isRefresh marks refresh lines on
// its stdout (nil: none).
func startChild(name, ns string, isRefresh func(string) bool, argv ...string) (*child, error) {
	c := &child{out: newLineLog(200_000, isRefresh), err: newLineLog(50_000, nil)}
	p, err := reg.StartIn(name, ns, c.out, c.err, argv...)
	if err != nil {
		return nil, err
	}
	c.Proc = p
	return c, nil
}

// waitLine waits up to d for a stdout line starting with prefix and
// returns it.
func (c *child) waitLine(prefix string, d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if l, ok := c.out.find(prefix); ok {
			return l, nil
		}
		if c.Exited() {
			if l, ok := c.out.find(prefix); ok {
				return l, nil
			}
			return "", fmt.Errorf("%s exited (%v) before printing %q: %s", c.Name, c.WaitErr, prefix, strings.TrimSpace(c.err.text()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", fmt.Errorf("%s did not print %q within %v", c.Name, prefix, d)
}

// waitRefresh waits up to d for a refresh that arrives at or after t and
// returns its index and arrival time.
func (c *child) waitRefresh(t time.Time, d time.Duration) (int, time.Time, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		if i, at, ok := c.out.refreshAfter(t); ok {
			return i, at, nil
		}
		select {
		case <-c.out.notify:
		case <-c.Done():
			if i, at, ok := c.out.refreshAfter(t); ok {
				return i, at, nil
			}
			return 0, time.Time{}, fmt.Errorf("%s exited (%v): %s", c.Name, c.WaitErr, strings.TrimSpace(c.err.text()))
		case <-timer.C:
			return 0, time.Time{}, fmt.Errorf("%s printed no refresh within %v", c.Name, d)
		}
	}
}

//go:build linux

package harness

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"

	"hogs/bench/internal/trace"
)

// Line is one output line and when the harness read it.
type Line struct {
	T time.Time
	S string
}

// Output collects a child's output line by line with arrival times, safe
// for concurrent use. Lines that isRefresh accepts start refreshes: their
// positions and arrival times are kept apart (all of them) and wake a
// waiter. Past maxLines the older half of the lines is dropped, so memory
// stays bounded and the latest refreshes survive; line numbers stay
// absolute (base counts the dropped ones).
type Output struct {
	mu        sync.Mutex
	partial   []byte
	lines     []Line
	base      int
	maxLines  int
	isRefresh func(string) bool
	refLine   []int       // absolute line number of each refresh
	refTime   []time.Time // arrival of each refresh
	notify    chan struct{}
}

// NewOutput keeps up to maxLines lines; isRefresh may be nil (no refreshes).
func NewOutput(maxLines int, isRefresh func(string) bool) *Output {
	return &Output{maxLines: maxLines, isRefresh: isRefresh, notify: make(chan struct{}, 1)}
}

const maxPartial = 64 << 20 // longest line kept whole

func (o *Output) Write(p []byte) (int, error) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.partial = append(o.partial, p...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		o.add(now, string(o.partial[:i]))
		o.partial = o.partial[i+1:]
	}
	if len(o.partial) > maxPartial {
		o.add(now, string(o.partial))
		o.partial = nil
	}
	return len(p), nil
}

func (o *Output) add(t time.Time, s string) {
	if o.isRefresh != nil && o.isRefresh(s) {
		o.refLine = append(o.refLine, o.base+len(o.lines))
		o.refTime = append(o.refTime, t)
		select {
		case o.notify <- struct{}{}:
		default:
		}
	}
	o.lines = append(o.lines, Line{t, s})
	if len(o.lines) > o.maxLines {
		drop := len(o.lines) - o.maxLines/2
		o.base += drop
		o.lines = append([]Line(nil), o.lines[drop:]...)
	}
}

// Lines returns a copy of the kept lines.
func (o *Output) Lines() []Line {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Line(nil), o.lines...)
}

// Refreshes is the number of refreshes so far.
func (o *Output) Refreshes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.refLine)
}

// RefreshTimes returns a copy of every refresh's arrival time.
func (o *Output) RefreshTimes() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Time(nil), o.refTime...)
}

// RefreshAfter returns the index and time of the first refresh that
// arrived at or after t, if any.
func (o *Output) RefreshAfter(t time.Time) (int, time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := len(o.refTime)
	for i > 0 && !o.refTime[i-1].Before(t) {
		i--
	}
	if i == len(o.refTime) {
		return 0, time.Time{}, false
	}
	return i, o.refTime[i], true
}

// Text is the kept output as one string.
func (o *Output) Text() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	for _, ln := range o.lines {
		b.WriteString(ln.S)
		b.WriteByte('\n')
	}
	b.Write(o.partial)
	return b.String()
}

// Find returns the first kept line starting with prefix.
func (o *Output) Find(prefix string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ln := range o.lines {
		if strings.HasPrefix(ln.S, prefix) {
			return ln.S, true
		}
	}
	return "", false
}

// Block parses refresh i: a JSON line, or the trace rows up to the next
// refresh. isJSON says which. A refresh whose lines were dropped is an
// error.
func (o *Output) Block(i int, isJSON bool) (trace.Block, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if i < 0 || i >= len(o.refLine) {
		return trace.Block{}, fmt.Errorf("no refresh %d (%d printed)", i, len(o.refLine))
	}
	start := o.refLine[i] - o.base
	if start < 0 {
		return trace.Block{}, fmt.Errorf("refresh %d was dropped from the kept output", i)
	}
	if isJSON {
		return trace.ParseJSON(o.lines[start].S)
	}
	end := len(o.lines)
	if i+1 < len(o.refLine) {
		end = o.refLine[i+1] - o.base
	}
	var ls []string
	for _, l := range o.lines[start+1 : end] {
		ls = append(ls, l.S)
	}
	return trace.ParseRows(ls)
}

// AllX is every hogs -x line kept, in order, with its arrival time.
func (o *Output) AllX() ([]trace.XStats, []time.Time) {
	var xs []trace.XStats
	var ts []time.Time
	for _, ln := range o.Lines() {
		if x, ok := trace.ParseX(ln.S); ok {
			xs = append(xs, x)
			ts = append(ts, ln.T)
		}
	}
	return xs, ts
}

// XAt is the last -x line that arrived at or before t (ok false if none).
func (o *Output) XAt(t time.Time) (last trace.XStats, ok bool) {
	xs, ts := o.AllX()
	for i := range xs {
		if ts[i].After(t) {
			break
		}
		last, ok = xs[i], true
	}
	return last, ok
}

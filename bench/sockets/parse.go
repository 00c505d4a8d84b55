package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// row is one process row of a refresh: trace NAME/PID/UID<TAB>SENT<TAB>RECEIVED
// (PID 0 for "unknown TCP/0/0"), or a JSON process or unknown entry.
type row struct {
	Name       string
	PID        int
	Sent, Recv float64
}

// conn is one connection of a JSON refresh (--connections); PID 0: unknown.
type conn struct {
	Local, Remote string
	PID           int
	Bytes         float64
}

// block is one refresh.
type block struct {
	rows  []row
	conns []conn // JSON with --connections only
}

func (b block) total() float64 {
	var t float64
	for _, r := range b.rows {
		t += r.Sent + r.Recv
	}
	return t
}

// bytesOf sums the rows of process pid.
func (b block) bytesOf(pid int) float64 {
	var t float64
	for _, r := range b.rows {
		if r.PID == pid {
			t += r.Sent + r.Recv
		}
	}
	return t
}

// unknownBytes sums the rows that no process owns.
func (b block) unknownBytes() float64 {
	var t float64
	for _, r := range b.rows {
		if r.PID == 0 {
			t += r.Sent + r.Recv
		}
	}
	return t
}

func isTraceRefresh(s string) bool { return s == "Refreshing:" }
func isJSONRefresh(s string) bool  { return strings.HasPrefix(s, "{") }

// pidOfName is the PID in a trace row's NAME/PID/UID (0 if none).
func pidOfName(name string) int {
	f := strings.Split(name, "/")
	if len(f) < 3 {
		return 0
	}
	pid, err := strconv.Atoi(f[len(f)-2])
	if err != nil {
		return 0
	}
	return pid
}

// parseTraceRows parses the lines after a "Refreshing:" line up to the
// next one. Other lines (nethogs's "Adding local address", blank lines)
// are skipped.
func parseTraceRows(lines []string) (block, error) {
	var b block
	for _, line := range lines {
		if isTraceRefresh(line) {
			break
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			continue
		}
		sent, err1 := strconv.ParseFloat(f[len(f)-2], 64)
		recv, err2 := strconv.ParseFloat(f[len(f)-1], 64)
		if err1 != nil || err2 != nil {
			return b, fmt.Errorf("bad trace line %q", line)
		}
		name := strings.Join(f[:len(f)-2], "\t")
		b.rows = append(b.rows, row{name, pidOfName(name), sent, recv})
	}
	return b, nil
}

// jsonRefresh is the part of hogs's --json schema read here.
type jsonRefresh struct {
	Processes []struct {
		PID         int        `json:"pid"`
		Name        string     `json:"name"`
		UID         int        `json:"uid"`
		Sent        jsonDir    `json:"sent"`
		Received    jsonDir    `json:"received"`
		Connections []jsonConn `json:"connections"`
	} `json:"processes"`
	Unknown []struct {
		Protocol    string     `json:"protocol"`
		Sent        jsonDir    `json:"sent"`
		Received    jsonDir    `json:"received"`
		Connections []jsonConn `json:"connections"`
	} `json:"unknown"`
}

type jsonDir struct {
	Total struct {
		Bytes float64 `json:"bytes"`
	} `json:"total"`
}

type jsonConn struct {
	Local    string                  `json:"local"`
	Remote   string                  `json:"remote"`
	Sent     struct{ Bytes float64 } `json:"sent"`
	Received struct{ Bytes float64 } `json:"received"`
}

func parseJSONRefresh(line string) (block, error) {
	var j jsonRefresh
	if err := json.Unmarshal([]byte(line), &j); err != nil {
		return block{}, fmt.Errorf("bad JSON refresh: %v", err)
	}
	var b block
	for _, p := range j.Processes {
		b.rows = append(b.rows, row{fmt.Sprintf("%s/%d/%d", p.Name, p.PID, p.UID), p.PID, p.Sent.Total.Bytes, p.Received.Total.Bytes})
		for _, c := range p.Connections {
			b.conns = append(b.conns, conn{c.Local, c.Remote, p.PID, c.Sent.Bytes + c.Received.Bytes})
		}
	}
	for _, u := range j.Unknown {
		b.rows = append(b.rows, row{"unknown " + strings.ToUpper(u.Protocol) + "/0/0", 0, u.Sent.Total.Bytes, u.Received.Total.Bytes})
		for _, c := range u.Connections {
			b.conns = append(b.conns, conn{c.Local, c.Remote, 0, c.Sent.Bytes + c.Received.Bytes})
		}
	}
	return b, nil
}

// output is a monitor's stdout after it stopped: its lines and where each
// refresh starts.
type output struct {
	lines   []tline
	base    int
	refLine []int
	refTime []time.Time
	json    bool
}

func newOutput(l *lineLog, isJSON bool) output {
	lines, base, refLine, refTime := l.snapshot()
	return output{lines, base, refLine, refTime, isJSON}
}

// block parses refresh i.
func (o output) block(i int) (block, error) {
	if i < 0 || i >= len(o.refLine) {
		return block{}, fmt.Errorf("no refresh %d (%d printed)", i, len(o.refLine))
	}
	start := o.refLine[i] - o.base
	if start < 0 {
		return block{}, fmt.Errorf("refresh %d was dropped from the kept output", i)
	}
	if o.json {
		return parseJSONRefresh(o.lines[start].s)
	}
	end := len(o.lines)
	if i+1 < len(o.refLine) {
		end = o.refLine[i+1] - o.base
	}
	var ls []string
	for _, l := range o.lines[start+1 : end] {
		ls = append(ls, l.s)
	}
	return parseTraceRows(ls)
}

// xStats is one of hogs's -x lines: running totals since it started.
type xStats struct {
	t                                time.Time
	Mode                             string
	Packets, Dropped, Flows, Evicted uint64
	SockDiag, TableReads, FDScans    uint64
	ok                               bool
}

func (x xStats) Sub(y xStats) xStats {
	return xStats{x.t, x.Mode, x.Packets - y.Packets, x.Dropped - y.Dropped, x.Flows, x.Evicted - y.Evicted,
		x.SockDiag - y.SockDiag, x.TableReads - y.TableReads, x.FDScans - y.FDScans, x.ok && y.ok}
}

var xLine = regexp.MustCompile(`^hogs: (.*): (\d+) packets, (\d+) dropped; (\d+) flows \((\d+) evicted\); (\d+) sock_diag lookups, (\d+) /proc/net reads, (\d+) fd scans`)

func parseXLine(s string) (xStats, bool) {
	m := xLine.FindStringSubmatch(s)
	if m == nil {
		return xStats{}, false
	}
	var n [7]uint64
	for i := range n {
		v, err := strconv.ParseUint(m[i+2], 10, 64)
		if err != nil {
			return xStats{}, false
		}
		n[i] = v
	}
	return xStats{Mode: m[1], Packets: n[0], Dropped: n[1], Flows: n[2], Evicted: n[3],
		SockDiag: n[4], TableReads: n[5], FDScans: n[6], ok: true}, true
}

// allX is every -x line, in order: one per refresh.
func allX(l *lineLog) []xStats {
	lines, _, _, _ := l.snapshot()
	var xs []xStats
	for _, ln := range lines {
		if x, ok := parseXLine(ln.s); ok {
			x.t = ln.t
			xs = append(xs, x)
		}
	}
	return xs
}

// xAt is the last -x line that arrived at or before t (ok false if none).
func xAt(l *lineLog, t time.Time) xStats {
	lines, _, _, _ := l.snapshot()
	var last xStats
	for _, ln := range lines {
		if ln.t.After(t) {
			break
		}
		if x, ok := parseXLine(ln.s); ok {
			x.t = ln.t
			last = x
		}
	}
	return last
}

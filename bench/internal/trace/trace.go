// Package trace parses what a monitor under benchmark prints: the refresh
// blocks of trace mode (`hogs -t`, `nethogs -t`: a "Refreshing:" line,
// then one NAME/PID/UID<TAB>SENT<TAB>RECEIVED line per row), the one-line
// refreshes of `hogs --json`, and the statistics line `hogs -x` prints on
// stderr at each refresh.
//
// It is the only parser of monitor output in the benchmarks. It reads
// another program's output, so it never panics and never trusts it: a
// line that should be a row but whose numbers do not parse is an error
// naming the line; lines that are not rows (nethogs's "Adding local
// address", "Unknown connection: ...", blank lines) are skipped.
package trace

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// RefreshLine starts every refresh block in trace mode.
const RefreshLine = "Refreshing:"

// Row is one process row of a refresh: trace NAME/PID/UID (PID 0 for
// "unknown TCP/0/0") or a JSON process or unknown entry. Sent and Recv
// are the monitor's figures (with -v 2: bytes since it started).
type Row struct {
	Name       string
	PID        int
	Sent, Recv float64
}

// Conn is one connection of a JSON refresh (--connections); PID 0:
// unknown, or a cgroup's row (hogs's fallback), told by Row.
type Conn struct {
	Local, Remote string
	PID           int
	Bytes         float64
	Row           string // the name of the row it is under (Row.Name)
}

// Block is one refresh.
type Block struct {
	Rows  []Row
	Conns []Conn // JSON with --connections only
}

// Total sums sent and received over all rows.
func (b Block) Total() float64 {
	var t float64
	for _, r := range b.Rows {
		t += r.Sent + r.Recv
	}
	return t
}

// Of sums the rows of process pid (0: the rows no process owns) and
// reports whether there was one.
func (b Block) Of(pid int) (sent, recv float64, found bool) {
	for _, r := range b.Rows {
		if r.PID == pid {
			sent, recv, found = sent+r.Sent, recv+r.Recv, true
		}
	}
	return sent, recv, found
}

// BytesOf is the bytes both ways of process pid's rows.
func (b Block) BytesOf(pid int) float64 {
	s, r, _ := b.Of(pid)
	return s + r
}

// UnknownBytes is the bytes both ways of the unknown rows ("unknown
// TCP", "unknown UDP"); a cgroup's row (hogs's fallback: PID 0 too, named
// after its service or container) is not one.
func (b Block) UnknownBytes() float64 {
	return b.NamedBytes("unknown TCP/0/0") + b.NamedBytes("unknown UDP/0/0")
}

// NamedBytes is the bytes both ways of the rows named name (trace
// NAME/PID/UID; a JSON row's NAME/PID/UID likewise).
func (b Block) NamedBytes(name string) float64 {
	var t float64
	for _, r := range b.Rows {
		if r.Name == name {
			t += r.Sent + r.Recv
		}
	}
	return t
}

// IsTraceRefresh reports whether a stdout line starts a trace refresh.
func IsTraceRefresh(s string) bool { return s == RefreshLine }

// IsJSONRefresh reports whether a stdout line is a JSON refresh.
func IsJSONRefresh(s string) bool { return strings.HasPrefix(s, "{") }

// pidOfName is the PID in a trace row's NAME/PID/UID (0 if none).
func pidOfName(name string) int {
	f := strings.Split(name, "/")
	if len(f) < 3 {
		return 0
	}
	pid, err := strconv.Atoi(f[len(f)-2])
	if err != nil || pid < 0 {
		return 0
	}
	return pid
}

// parseRow reads NAME<TAB>SENT<TAB>RECV; ok is false for a line that is
// not a row at all (fewer than three tab-separated fields).
func parseRow(line string) (r Row, ok bool, err error) {
	f := strings.Split(line, "\t")
	if len(f) < 3 {
		return Row{}, false, nil
	}
	sent, err1 := strconv.ParseFloat(f[len(f)-2], 64)
	recv, err2 := strconv.ParseFloat(f[len(f)-1], 64)
	if err1 != nil || err2 != nil {
		return Row{}, true, fmt.Errorf("bad trace line %q", line)
	}
	name := strings.Join(f[:len(f)-2], "\t")
	return Row{name, pidOfName(name), sent, recv}, true, nil
}

// ParseRows parses the lines after a "Refreshing:" line, up to the next
// one.
func ParseRows(lines []string) (Block, error) {
	var b Block
	for _, line := range lines {
		if IsTraceRefresh(line) {
			break
		}
		r, ok, err := parseRow(line)
		if err != nil {
			return b, err
		}
		if ok {
			b.Rows = append(b.Rows, r)
		}
	}
	return b, nil
}

// Parse splits a monitor's whole trace output into its refresh blocks;
// rows before the first refresh line are skipped. On a bad row it returns
// the blocks so far and the error.
func Parse(out string) ([]Block, error) {
	var blocks []Block
	for _, line := range strings.Split(out, "\n") {
		if IsTraceRefresh(line) {
			blocks = append(blocks, Block{})
			continue
		}
		if len(blocks) == 0 {
			continue
		}
		r, ok, err := parseRow(line)
		if err != nil {
			return blocks, err
		}
		if ok {
			blocks[len(blocks)-1].Rows = append(blocks[len(blocks)-1].Rows, r)
		}
	}
	return blocks, nil
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

// ParseJSON parses one `hogs --json` refresh line.
func ParseJSON(line string) (Block, error) {
	var j jsonRefresh
	if err := json.Unmarshal([]byte(line), &j); err != nil {
		return Block{}, fmt.Errorf("bad JSON refresh: %v", err)
	}
	var b Block
	for _, p := range j.Processes {
		row := fmt.Sprintf("%s/%d/%d", p.Name, p.PID, p.UID)
		b.Rows = append(b.Rows, Row{row, p.PID, p.Sent.Total.Bytes, p.Received.Total.Bytes})
		for _, c := range p.Connections {
			b.Conns = append(b.Conns, Conn{c.Local, c.Remote, p.PID, c.Sent.Bytes + c.Received.Bytes, row})
		}
	}
	for _, u := range j.Unknown {
		row := "unknown " + strings.ToUpper(u.Protocol) + "/0/0"
		b.Rows = append(b.Rows, Row{row, 0, u.Sent.Total.Bytes, u.Received.Total.Bytes})
		for _, c := range u.Connections {
			b.Conns = append(b.Conns, Conn{c.Local, c.Remote, 0, c.Sent.Bytes + c.Received.Bytes, row})
		}
	}
	return b, nil
}

// XStats is one of hogs's -x lines: running totals since it started.
type XStats struct {
	Line                             string
	Mode                             string
	Packets, Dropped, Flows, Evicted uint64
	SockDiag, TableReads, FDScans    uint64
	// ScansInVain and Links: the fd scans that ended without their socket
	// because it had closed, and the descriptor links read (0 from a hogs
	// that does not print them).
	ScansInVain, Links uint64
}

// Sub returns x - y for the running totals; Line, Mode and Flows (a
// level, not a total) are x's.
func (x XStats) Sub(y XStats) XStats {
	return XStats{x.Line, x.Mode, x.Packets - y.Packets, x.Dropped - y.Dropped, x.Flows, x.Evicted - y.Evicted,
		x.SockDiag - y.SockDiag, x.TableReads - y.TableReads, x.FDScans - y.FDScans,
		x.ScansInVain - y.ScansInVain, x.Links - y.Links}
}

var xLine = regexp.MustCompile(`^hogs: (.*): (\d+) packets, (\d+) dropped; (\d+) flows \((\d+) evicted\); (\d+) sock_diag lookups, (\d+) /proc/net reads, (\d+) fd scans(?: \((\d+) in vain, (\d+) links read\))?`)

// ParseX reads a -x line; ok is false for any other stderr line.
func ParseX(s string) (x XStats, ok bool) {
	m := xLine.FindStringSubmatch(s)
	if m == nil {
		return XStats{}, false
	}
	var n [7]uint64
	for i := range n {
		v, err := strconv.ParseUint(m[i+2], 10, 64)
		if err != nil {
			return XStats{}, false
		}
		n[i] = v
	}
	x = XStats{Line: s, Mode: m[1], Packets: n[0], Dropped: n[1], Flows: n[2], Evicted: n[3],
		SockDiag: n[4], TableReads: n[5], FDScans: n[6]}
	if m[9] != "" {
		vain, err1 := strconv.ParseUint(m[9], 10, 64)
		links, err2 := strconv.ParseUint(m[10], 10, 64)
		if err1 != nil || err2 != nil {
			return XStats{}, false
		}
		x.ScansInVain, x.Links = vain, links
	}
	return x, true
}

// AllX is every -x line of a stderr text, in order: one per refresh.
func AllX(stderr string) []XStats {
	var xs []XStats
	for _, line := range strings.Split(stderr, "\n") {
		if x, ok := ParseX(line); ok {
			xs = append(xs, x)
		}
	}
	return xs
}

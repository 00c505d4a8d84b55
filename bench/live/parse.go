package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// row is one trace line, NAME/PID/UID<TAB>SENT<TAB>RECEIVED.
type row struct {
	Name       string
	Sent, Recv float64
}

// block is one refresh: the rows after a "Refreshing:" line.
type block []row

func (b block) total() float64 {
	var t float64
	for _, r := range b {
		t += r.Sent + r.Recv
	}
	return t
}

// parseTrace splits trace output into refresh blocks. Other lines (nethogs's
// "Adding local address", "Unknown connection: ...") are skipped.
func parseTrace(out string) ([]block, error) {
	var blocks []block
	for _, line := range strings.Split(out, "\n") {
		if line == "Refreshing:" {
			blocks = append(blocks, block{})
			continue
		}
		f := strings.Split(line, "\t")
		if len(blocks) == 0 || len(f) < 3 {
			continue
		}
		sent, err1 := strconv.ParseFloat(f[len(f)-2], 64)
		recv, err2 := strconv.ParseFloat(f[len(f)-1], 64)
		if err1 != nil || err2 != nil {
			return blocks, fmt.Errorf("bad trace line %q", line)
		}
		name := strings.Join(f[:len(f)-2], "\t")
		blocks[len(blocks)-1] = append(blocks[len(blocks)-1], row{name, sent, recv})
	}
	return blocks, nil
}

// ringStats is hogs's -x line: running totals of its capture socket.
type ringStats struct {
	Line             string
	Packets, Dropped uint64
	Lines            int // -x lines seen: one per refresh
}

var ringLine = regexp.MustCompile(`^hogs: .*: (\d+) packets, (\d+) dropped;`)

// lastRingStats finds the last -x line on hogs's stderr.
func lastRingStats(stderr string) (ringStats, bool) {
	var rs ringStats
	for _, line := range strings.Split(stderr, "\n") {
		m := ringLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		p, err1 := strconv.ParseUint(m[1], 10, 64)
		d, err2 := strconv.ParseUint(m[2], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		rs.Line, rs.Packets, rs.Dropped = line, p, d
		rs.Lines++
	}
	return rs, rs.Lines > 0
}

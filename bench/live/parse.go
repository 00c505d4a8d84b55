package main

import (
	"fmt"
	"os"
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

// schedStats sums /proc/PID/task/*/sched (a CONFIG_SCHED_DEBUG file) over
// pid's current threads: on-CPU time (se.sum_exec_runtime, ms with
// nanosecond resolution), and voluntary and involuntary context switches.
// Threads that exited are not in it. A cross-check of the tick-grained
// cpuTicks, and a hint at how often the monitor wakes up.
type schedStats struct {
	Ms                     float64
	Voluntary, Involuntary uint64
}

func (s schedStats) Sub(t schedStats) schedStats {
	return schedStats{s.Ms - t.Ms, s.Voluntary - t.Voluntary, s.Involuntary - t.Involuntary}
}

func readSched(pid int) (schedStats, error) {
	var sum schedStats
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return sum, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/sched", pid, t.Name()))
		if err != nil {
			return sum, err
		}
		s, err := parseSched(b)
		if err != nil {
			return sum, err
		}
		sum.Ms += s.Ms
		sum.Voluntary += s.Voluntary
		sum.Involuntary += s.Involuntary
	}
	return sum, nil
}

func parseSched(b []byte) (schedStats, error) {
	var s schedStats
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch strings.TrimSpace(key) {
		case "se.sum_exec_runtime":
			s.Ms, err = strconv.ParseFloat(val, 64)
		case "nr_voluntary_switches":
			s.Voluntary, err = strconv.ParseUint(val, 10, 64)
		case "nr_involuntary_switches":
			s.Involuntary, err = strconv.ParseUint(val, 10, 64)
		default:
			continue
		}
		if err != nil {
			return s, fmt.Errorf("sched: bad line %q", line)
		}
		seen++
	}
	if seen != 3 {
		return s, fmt.Errorf("sched: no se.sum_exec_runtime, nr_voluntary_switches, nr_involuntary_switches")
	}
	return s, nil
}

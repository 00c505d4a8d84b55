package netlab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// SchedStats sums /proc/PID/task/*/sched (CONFIG_SCHED_DEBUG) over a
// process's current threads: on-CPU time (se.sum_exec_runtime, ms with
// nanosecond resolution) and context switches. Threads that exited are not
// in it.
type SchedStats struct {
	Ms                     float64
	Voluntary, Involuntary uint64
	Threads                int
}

// Sub returns s - t; Threads is s's.
func (s SchedStats) Sub(t SchedStats) SchedStats {
	return SchedStats{s.Ms - t.Ms, s.Voluntary - t.Voluntary, s.Involuntary - t.Involuntary, s.Threads}
}

// ReadSched sums the sched files of process pid's threads.
func ReadSched(pid int) (SchedStats, error) {
	var sum SchedStats
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return sum, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/sched", pid, t.Name()))
		if err != nil {
			return sum, err
		}
		s, err := ParseSched(b)
		if err != nil {
			return sum, err
		}
		sum.Ms += s.Ms
		sum.Voluntary += s.Voluntary
		sum.Involuntary += s.Involuntary
		sum.Threads++
	}
	return sum, nil
}

// ParseSched reads one thread's /proc/PID/task/TID/sched text.
func ParseSched(b []byte) (SchedStats, error) {
	var s SchedStats
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

// CPUTicks is utime+stime of process pid (fields 14 and 15 of
// /proc/PID/stat, all its threads, in clock ticks), and its comm.
func CPUTicks(pid int) (ticks uint64, comm string, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", err
	}
	return ParseStat(b)
}

// ParseStat reads utime+stime and comm from a /proc/PID/stat line. The
// comm may hold spaces and parentheses: it runs to the last ')'.
func ParseStat(b []byte) (ticks uint64, comm string, err error) {
	user, sys, comm, err := ParseStatTimes(b)
	return user + sys, comm, err
}

// CPUSplit is utime and stime of process pid apart (fields 14 and 15 of
// /proc/PID/stat, all its threads, in clock ticks): time in the program
// and time in the kernel on its behalf.
func CPUSplit(pid int) (user, sys uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	user, sys, _, err = ParseStatTimes(b)
	return user, sys, err
}

// ParseStatTimes reads utime, stime and comm from a /proc/PID/stat line.
func ParseStatTimes(b []byte) (user, sys uint64, comm string, err error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return 0, 0, "", fmt.Errorf("stat: no (comm) in %q", b)
	}
	comm = string(b[open+1 : end])
	f := strings.Fields(string(b[end+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, "", fmt.Errorf("stat: %d fields after comm", len(f))
	}
	utime, err1 := strconv.ParseUint(f[14-3], 10, 64)
	stime, err2 := strconv.ParseUint(f[15-3], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, "", fmt.Errorf("stat: bad utime/stime %q %q", f[11], f[12])
	}
	return utime, stime, comm, nil
}

// Memory is VmRSS and VmHWM (peak RSS) of a process, in kB.
type Memory struct{ RSS, HWM uint64 }

// ReadMemory reads process pid's memory from /proc/PID/status.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	return ParseStatus(b)
}

// ParseStatus reads VmRSS and VmHWM from /proc/PID/status text; a zombie
// has neither, which is an error.
func ParseStatus(b []byte) (Memory, error) {
	var m Memory
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("status: bad %s line %q", key, sc.Text())
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("status: bad %s line %q", key, sc.Text())
		}
		if key == "VmRSS" {
			m.RSS = n
		} else {
			m.HWM = n
		}
		seen++
	}
	if seen != 2 {
		return m, fmt.Errorf("status: no VmRSS/VmHWM (a zombie?)")
	}
	return m, nil
}

package netlab

import (
	"os"
	"strconv"
	"testing"
)

func TestParseStat(t *testing.T) {
	// comm with a space and a parenthesis; utime 1234, stime 56.
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 3 0 12345 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	ticks, comm, err := ParseStat([]byte(stat))
	if err != nil || ticks != 1290 || comm != "a (b) c" {
		t.Fatalf("ParseStat = %d, %q, %v; want 1290, \"a (b) c\", nil", ticks, comm, err)
	}
	if u, s, _, err := ParseStatTimes([]byte(stat)); err != nil || u != 1234 || s != 56 {
		t.Fatalf("ParseStatTimes = %d, %d, %v; want 1234, 56, nil", u, s, err)
	}
	for _, bad := range []string{"4242 (x) S 1 2", "no comm at all", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 u s 0 0"} {
		if _, _, err := ParseStat([]byte(bad)); err == nil {
			t.Errorf("ParseStat(%q): no error", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\thogs\nVmPeak:\t  20000 kB\nVmHWM:\t   12288 kB\nVmRSS:\t   10240 kB\nThreads:\t5\n"
	m, err := ParseStatus([]byte(status))
	if err != nil || m != (Memory{RSS: 10240, HWM: 12288}) {
		t.Fatalf("ParseStatus = %+v, %v", m, err)
	}
	for _, bad := range []string{"Name:\tzombie\nState:\tZ (zombie)\n", "VmHWM:\t1 MB\nVmRSS:\t1 kB\n", "VmHWM:\tx kB\nVmRSS:\t1 kB\n"} {
		if _, err := ParseStatus([]byte(bad)); err == nil {
			t.Errorf("ParseStatus(%q): no error", bad)
		}
	}
}

func TestParseSched(t *testing.T) {
	sched := "hogs (4242, #threads: 5)\n---\nse.exec_start : 1.5\nse.sum_exec_runtime :   12.345678\nnr_switches : 30\nnr_voluntary_switches : 20\nnr_involuntary_switches : 10\n"
	s, err := ParseSched([]byte(sched))
	if err != nil || s.Ms != 12.345678 || s.Voluntary != 20 || s.Involuntary != 10 {
		t.Fatalf("ParseSched = %+v, %v", s, err)
	}
	if _, err := ParseSched([]byte("se.sum_exec_runtime : 1\n")); err == nil {
		t.Error("sched without switch counts: no error")
	}
	if _, err := ParseSched([]byte("se.sum_exec_runtime : x\nnr_voluntary_switches : 1\nnr_involuntary_switches : 1\n")); err == nil {
		t.Error("bad runtime: no error")
	}
	d := SchedStats{Ms: 5, Voluntary: 7, Involuntary: 3, Threads: 4}.Sub(SchedStats{Ms: 2, Voluntary: 2, Involuntary: 1, Threads: 9})
	if d != (SchedStats{Ms: 3, Voluntary: 5, Involuntary: 2, Threads: 4}) {
		t.Errorf("Sub = %+v", d)
	}
}

// TestReadSelf reads this test process's own CPU time and memory: the
// readers on the real /proc, without root.
func TestReadSelf(t *testing.T) {
	pid := os.Getpid()
	ticks, comm, err := CPUTicks(pid)
	if err != nil || comm == "" {
		t.Fatalf("CPUTicks(self) = %d, %q, %v", ticks, comm, err)
	}
	m, err := ReadMemory(pid)
	if err != nil || m.RSS == 0 || m.HWM < m.RSS {
		t.Fatalf("ReadMemory(self) = %+v, %v", m, err)
	}
	if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(pid) + "/sched"); err != nil {
		t.Skip("no /proc/PID/task/TID/sched (kernel without CONFIG_SCHED_DEBUG): ReadSched not checked")
	}
	before, err := ReadSched(pid)
	if err != nil || before.Threads < 1 {
		t.Fatalf("ReadSched(self) = %+v, %v", before, err)
	}
	x := 0
	for i := range 20_000_000 { // some CPU for the sum to grow by
		x += i
	}
	after, err := ReadSched(pid)
	if err != nil || after.Ms <= before.Ms {
		t.Errorf("ReadSched after a busy loop (%d) = %+v, before %+v, %v", x, after, before, err)
	}
}

func TestParseCounters(t *testing.T) {
	js := `[{"ifindex":2,"ifname":"vA","stats64":{"rx":{"bytes":1000,"packets":10,"errors":0},"tx":{"bytes":200,"packets":2}}}]`
	c, err := ParseCounters([]byte(js))
	if err != nil || c != (Counters{RxPackets: 10, RxBytes: 1000, TxPackets: 2, TxBytes: 200}) {
		t.Fatalf("ParseCounters = %+v, %v", c, err)
	}
	if c.Bytes() != 1200 || c.Packets() != 12 {
		t.Errorf("Bytes %d, Packets %d", c.Bytes(), c.Packets())
	}
	if d := c.Sub(Counters{1, 100, 1, 50}); d != (Counters{9, 900, 1, 150}) {
		t.Errorf("Sub = %+v", d)
	}
	for _, bad := range []string{`[{"ifname":"vA"}]`, `[]`, `not json`} {
		if _, err := ParseCounters([]byte(bad)); err == nil {
			t.Errorf("ParseCounters(%q): no error", bad)
		}
	}
}

package vethlab

import "testing"

func TestParseStat(t *testing.T) {
	// comm with a space and a parenthesis; utime 1234, stime 56.
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 3 0 12345 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	ticks, comm, err := ParseStat([]byte(stat))
	if err != nil || ticks != 1290 || comm != "a (b) c" {
		t.Fatalf("parseStat = %d, %q, %v; want 1290, \"a (b) c\", nil", ticks, comm, err)
	}
	if _, _, err := ParseStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("short stat: no error")
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\thogs\nVmPeak:\t  20000 kB\nVmHWM:\t   12288 kB\nVmRSS:\t   10240 kB\nThreads:\t5\n"
	m, err := ParseStatus([]byte(status))
	if err != nil || m.RSS != 10240 || m.HWM != 12288 {
		t.Fatalf("parseStatus = %+v, %v", m, err)
	}
	if _, err := ParseStatus([]byte("Name:\tzombie\nState:\tZ (zombie)\n")); err == nil {
		t.Error("zombie status: no error")
	}
}

func TestParseCounters(t *testing.T) {
	js := `[{"ifindex":2,"ifname":"vA","stats64":{"rx":{"bytes":1000,"packets":10,"errors":0},"tx":{"bytes":200,"packets":2}}}]`
	c, err := ParseCounters([]byte(js))
	if err != nil || c != (Counters{RxPackets: 10, RxBytes: 1000, TxPackets: 2, TxBytes: 200}) {
		t.Fatalf("parseCounters = %+v, %v", c, err)
	}
	if _, err := ParseCounters([]byte(`[{"ifname":"vA"}]`)); err == nil {
		t.Error("no stats64: no error")
	}
}

func TestParseSched(t *testing.T) {
	sched := "hogs (4242, #threads: 5)\n---\nse.exec_start : 1.5\nse.sum_exec_runtime :   12.345678\nnr_switches : 30\nnr_voluntary_switches : 20\nnr_involuntary_switches : 10\n"
	s, err := ParseSched([]byte(sched))
	if err != nil || s.Ms != 12.345678 || s.Voluntary != 20 || s.Involuntary != 10 {
		t.Fatalf("parseSched = %+v, %v", s, err)
	}
}

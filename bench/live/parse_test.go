package main

import (
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	// comm with a space and a parenthesis; utime 1234, stime 56.
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 3 0 12345 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	ticks, comm, err := parseStat([]byte(stat))
	if err != nil || ticks != 1290 || comm != "a (b) c" {
		t.Fatalf("parseStat = %d, %q, %v; want 1290, \"a (b) c\", nil", ticks, comm, err)
	}
	if _, _, err := parseStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("short stat: no error")
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\thogs\nVmPeak:\t  20000 kB\nVmHWM:\t   12288 kB\nVmRSS:\t   10240 kB\nThreads:\t5\n"
	m, err := parseStatus([]byte(status))
	if err != nil || m.RSS != 10240 || m.HWM != 12288 {
		t.Fatalf("parseStatus = %+v, %v", m, err)
	}
	if _, err := parseStatus([]byte("Name:\tzombie\nState:\tZ (zombie)\n")); err == nil {
		t.Error("zombie status: no error")
	}
}

func TestParseTrace(t *testing.T) {
	out := strings.Join([]string{
		"Adding local address: 10.88.0.1",
		"Ethernet link detected",
		"",
		"Refreshing:",
		"unknown UDP/0/0\t0\t0",
		"",
		"Refreshing:",
		"/usr/bin/live/123/0\t100\t1.23457e+06",
		"Unknown connection: 10.88.0.1:1-10.88.0.2:2",
		"unknown TCP/0/0\t0\t5",
		"",
	}, "\n")
	blocks, err := parseTrace(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || len(blocks[1]) != 2 {
		t.Fatalf("blocks = %+v", blocks)
	}
	if got := blocks[1].total(); got != 100+1234570+5 {
		t.Errorf("total = %v", got)
	}
	if _, err := parseTrace("Refreshing:\nx/1/0\tmany\t1\n"); err == nil {
		t.Error("bad number: no error")
	}
}

func TestLastRingStats(t *testing.T) {
	stderr := "hogs: tpacket-v3 ring: 10 packets, 0 dropped; 1 flows (0 evicted); 1 /proc/net reads, 1 fd scans\n" +
		"some warning\n" +
		"hogs: tpacket-v3 ring: 2121 packets, 7 dropped; 2 flows (0 evicted); 2 /proc/net reads, 2 fd scans\n"
	rs, ok := lastRingStats(stderr)
	if !ok || rs.Packets != 2121 || rs.Dropped != 7 || rs.Lines != 2 {
		t.Fatalf("lastRingStats = %+v, %v", rs, ok)
	}
	if _, ok := lastRingStats("nothing\n"); ok {
		t.Error("no -x line: ok")
	}
}

func TestParseCounters(t *testing.T) {
	js := `[{"ifindex":2,"ifname":"vA","stats64":{"rx":{"bytes":1000,"packets":10,"errors":0},"tx":{"bytes":200,"packets":2}}}]`
	c, err := parseCounters([]byte(js))
	if err != nil || c != (counters{10, 1000, 2, 200}) {
		t.Fatalf("parseCounters = %+v, %v", c, err)
	}
	if _, err := parseCounters([]byte(`[{"ifname":"vA"}]`)); err == nil {
		t.Error("no stats64: no error")
	}
}

func TestParseSched(t *testing.T) {
	sched := "hogs (4242, #threads: 5)\n---\nse.exec_start : 1.5\nse.sum_exec_runtime :   12.345678\nnr_switches : 30\nnr_voluntary_switches : 20\nnr_involuntary_switches : 10\n"
	s, err := parseSched([]byte(sched))
	if err != nil || s.Ms != 12.345678 || s.Voluntary != 20 || s.Involuntary != 10 {
		t.Fatalf("parseSched = %+v, %v", s, err)
	}
}

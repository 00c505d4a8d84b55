package main

import (
	"strings"
	"testing"
)

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

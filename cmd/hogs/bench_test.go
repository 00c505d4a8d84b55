package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchReport times a recorded capture on a fake clock whose ticks
// grow, so the passes differ: the report's packets, link types, minimum,
// median and maximum are fixed (testdata/bench-veth-ipv4.txt).
func TestBenchReport(t *testing.T) {
	path := filepath.Join("..", "..", "rawcap", "testdata", "captures", "veth-ipv4.pcap")
	frames, err := loadBenchFrames(path)
	if err != nil {
		t.Fatal(err)
	}
	var now, tick time.Duration
	clock := func() time.Duration {
		tick += time.Millisecond
		now += tick
		return now
	}
	var out bytes.Buffer
	if err := writeBench(&out, "veth-ipv4.pcap", frames, benchSettings{passes: 5, minPass: 50 * time.Millisecond, clock: clock}); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "bench-veth-ipv4.txt", out.Bytes())
}

// TestBenchCommand runs --bench for real on a small capture: it reports
// both stages, and a file with no frames is an error.
func TestBenchCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	path := filepath.Join("..", "..", "rawcap", "testdata", "captures", "loopback.pcap")
	if status := run([]string{"-r", path, "--bench"}, &stdout, &stderr); status != 0 {
		t.Fatalf("status %d: %s", status, stderr.String())
	}
	for _, want := range []string{path + ": ", "\ndecode ", "\ndecode + flow table "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	header := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	if err := os.WriteFile(empty, header, 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if status := run([]string{"-r", empty, "--bench"}, &stdout, &stderr); status != 1 || stderr.String() != "hogs: "+empty+": no frames to time\n" {
		t.Errorf("empty capture: status %d, stderr %q", status, stderr.String())
	}
}

package vethlab

import (
	"strings"
	"testing"
	"time"
)

func TestWantArgsAndParseDuration(t *testing.T) {
	if err := WantArgs("live", []string{"a"}, 1, "sink-udp ADDR"); err != nil {
		t.Errorf("one argument for one: %v", err)
	}
	if err := WantArgs("live", nil, 1, "sink-udp ADDR"); err == nil || err.Error() != "usage: live sink-udp ADDR" {
		t.Errorf("missing argument: %v", err)
	}
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3s", 3 * time.Second, true}, {"1m", time.Minute, true},
		{"0s", 0, false}, {"-1s", 0, false}, {"61s", 0, false}, {"soon", 0, false},
	} {
		d, err := ParseDuration(tc.in, time.Minute)
		if (err == nil) != tc.ok || d != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tc.in, d, err, tc.want, tc.ok)
		}
	}
}

func TestResultsHeader(t *testing.T) {
	e := Env{Date: "2026-11-27 10:00 UTC", Kernel: "6.18", CPU: "Xeon × 2", GoVersion: "go1.26", HogsVersion: "hogs 0.1", NethogsVersion: "0.8.7"}
	var b strings.Builder
	e.ResultsHeader(&b, "Title", "bench-live", "./bench/live", 90*time.Second)
	got := b.String()
	for _, want := range []string{"# Title\n\n", "- Date: 2026-11-27 10:00 UTC\n", "- Kernel: 6.18\n", "- CPU: Xeon × 2\n",
		"- Versions: go1.26; hogs: hogs 0.1; nethogs: 0.8.7\n", "`make bench-live` (as root), i.e. `go run ./bench/live", "it took 1m30s\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("header lacks %q:\n%s", want, got)
		}
	}
}

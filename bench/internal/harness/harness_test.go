//go:build linux

package harness

import (
	"strings"
	"testing"
	"time"

	"hogs/bench/internal/trace"
)

func TestOutput(t *testing.T) {
	o := NewOutput(6, trace.IsTraceRefresh)
	t0 := time.Now()
	o.Write([]byte("Adding local address\n\nRefreshing:\na/1/0\t1\t2\n\nRefresh"))
	o.Write([]byte("ing:\na/1/0\t3\t4\n"))
	if n := o.Refreshes(); n != 2 {
		t.Fatalf("Refreshes = %d", n)
	}
	if i, _, ok := o.RefreshAfter(t0); !ok || i != 0 {
		t.Errorf("RefreshAfter(t0) = %d, %v", i, ok)
	}
	if _, _, ok := o.RefreshAfter(time.Now().Add(time.Hour)); ok {
		t.Error("RefreshAfter(future) found one")
	}
	o.Write([]byte("\nRefreshing:\na/1/0\t5\t6\n")) // past maxLines: the oldest lines go
	if _, err := o.Block(0, false); err == nil {
		t.Error("dropped refresh parsed")
	}
	if b, err := o.Block(2, false); err != nil || b.Total() != 11 {
		t.Errorf("Block(2) = %+v, %v", b, err)
	}
	if b, err := o.Block(1, false); err != nil || b.Total() != 7 {
		t.Errorf("Block(1) = %+v, %v", b, err)
	}
	if _, err := o.Block(3, false); err == nil {
		t.Error("Block(3) of 3: no error")
	}
	if n := len(o.RefreshTimes()); n != 3 {
		t.Errorf("%d refresh times", n)
	}
	if !strings.Contains(o.Text(), "a/1/0\t5\t6") {
		t.Error("Text lost the last line")
	}
	if l, ok := o.Find("a/1/0\t5"); !ok || l != "a/1/0\t5\t6" {
		t.Errorf("Find = %q, %v", l, ok)
	}
}

func TestOutputJSONAndX(t *testing.T) {
	o := NewOutput(100, trace.IsJSONRefresh)
	o.Write([]byte(`{"processes":[{"pid":7,"sent":{"total":{"bytes":3}},"received":{"total":{"bytes":4}}}]}` + "\n"))
	if b, err := o.Block(0, true); err != nil || b.BytesOf(7) != 7 {
		t.Errorf("Block(0) = %+v, %v", b, err)
	}
	e := NewOutput(100, nil)
	e.Write([]byte("hogs: r: 10 packets, 1 dropped; 1 flows (0 evicted); 0 sock_diag lookups, 0 /proc/net reads, 0 fd scans\nwarning\n"))
	mid := time.Now()
	time.Sleep(time.Millisecond)
	e.Write([]byte("hogs: r: 20 packets, 2 dropped; 1 flows (0 evicted); 0 sock_diag lookups, 0 /proc/net reads, 0 fd scans\n"))
	if xs, ts := e.AllX(); len(xs) != 2 || len(ts) != 2 || xs[1].Dropped != 2 {
		t.Errorf("AllX = %+v", xs)
	}
	if x, ok := e.XAt(mid); !ok || x.Packets != 10 {
		t.Errorf("XAt(mid) = %+v, %v", x, ok)
	}
	if _, ok := e.XAt(mid.Add(-time.Hour)); ok {
		t.Error("XAt before any line found one")
	}
}

func TestWantArgsAndParseDuration(t *testing.T) {
	if err := WantArgs([]string{"a"}, 1, "sink-udp ADDR"); err != nil {
		t.Errorf("one argument for one: %v", err)
	}
	if err := WantArgs(nil, 1, "sink-udp ADDR"); err == nil || err.Error() != "usage: sink-udp ADDR" {
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

func TestText(t *testing.T) {
	if got := OneLine(" a\nb\n"); got != "a | b" {
		t.Errorf("OneLine = %q", got)
	}
	if got := FirstLines("a\nb\nc\n", 2); got != "a\nb\n..." {
		t.Errorf("FirstLines = %q", got)
	}
	if got := LastLine("a\nb\n\n"); got != "b" {
		t.Errorf("LastLine = %q", got)
	}
	if MiB(2048) != 2 {
		t.Errorf("MiB(2048) = %v", MiB(2048))
	}
}

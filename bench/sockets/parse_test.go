package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTraceRows(t *testing.T) {
	lines := []string{
		"/usr/bin/a b/1234/0\t100\t200.5",
		"unknown TCP/0/0\t7\t8",
		"",
		"Refreshing:",
		"/x/9/0\t1\t1",
	}
	b, err := parseTraceRows(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.rows) != 2 || b.rows[0].PID != 1234 || b.rows[1].PID != 0 {
		t.Fatalf("rows = %+v", b.rows)
	}
	if b.total() != 315.5 || b.bytesOf(1234) != 300.5 || b.unknownBytes() != 15 {
		t.Errorf("total %v, bytesOf %v, unknown %v", b.total(), b.bytesOf(1234), b.unknownBytes())
	}
	if _, err := parseTraceRows([]string{"a/1/0\tx\t1"}); err == nil {
		t.Error("bad number: no error")
	}
}

func TestParseJSONRefresh(t *testing.T) {
	line := `{"schema":1,"processes":[{"pid":42,"name":"c","uid":0,` +
		`"sent":{"total":{"bytes":10,"packets":1}},"received":{"total":{"bytes":5,"packets":1}},` +
		`"connections":[{"protocol":"tcp","local":"10.91.0.1:5000","remote":"10.91.0.2:9300","sent":{"bytes":10},"received":{"bytes":5}}]}],` +
		`"unknown":[{"protocol":"tcp","sent":{"total":{"bytes":3}},"received":{"total":{"bytes":4}},` +
		`"connections":[{"protocol":"tcp","local":"10.91.0.1:5001","remote":"10.91.0.2:9300","sent":{"bytes":3},"received":{"bytes":4}}]}]}`
	b, err := parseJSONRefresh(line)
	if err != nil {
		t.Fatal(err)
	}
	if b.total() != 22 || b.bytesOf(42) != 15 || b.unknownBytes() != 7 {
		t.Errorf("total %v, bytesOf %v, unknown %v", b.total(), b.bytesOf(42), b.unknownBytes())
	}
	want := []conn{{"10.91.0.1:5000", "10.91.0.2:9300", 42, 15}, {"10.91.0.1:5001", "10.91.0.2:9300", 0, 7}}
	if !slices.Equal(b.conns, want) {
		t.Errorf("conns = %+v, want %+v", b.conns, want)
	}
	r := &result{final: b, newPID: 42, newLocals: map[string]bool{"10.91.0.1:5000": true, "10.91.0.1:5001": true, "10.91.0.1:5002": true}}
	if c := r.conns(); c.attributed != 1 || c.unknown != 1 || c.missing != 1 || c.bytes != 22 {
		t.Errorf("conns() = %+v", c)
	}
}

func TestParseXLine(t *testing.T) {
	x, ok := parseXLine("hogs: tpacket-v3 ring: 2121 packets, 3 dropped; 2 flows (1 evicted); 5 sock_diag lookups, 0 /proc/net reads, 2 fd scans")
	if !ok || x.Mode != "tpacket-v3 ring" || x.Packets != 2121 || x.Dropped != 3 || x.Flows != 2 || x.Evicted != 1 ||
		x.SockDiag != 5 || x.TableReads != 0 || x.FDScans != 2 {
		t.Fatalf("parseXLine = %+v, %v", x, ok)
	}
	if _, ok := parseXLine("hogs: capturing on vA"); ok {
		t.Error("other stderr line parsed")
	}
}

func TestLineLog(t *testing.T) {
	l := newLineLog(6, isTraceRefresh)
	t0 := time.Now()
	l.Write([]byte("Adding local address\n\nRefreshing:\na/1/0\t1\t2\n\nRefresh"))
	l.Write([]byte("ing:\na/1/0\t3\t4\n"))
	if n := l.refreshes(); n != 2 {
		t.Fatalf("refreshes = %d", n)
	}
	if i, _, ok := l.refreshAfter(t0); !ok || i != 0 {
		t.Errorf("refreshAfter(t0) = %d, %v", i, ok)
	}
	if _, _, ok := l.refreshAfter(time.Now().Add(time.Hour)); ok {
		t.Error("refreshAfter(future) found one")
	}
	l.Write([]byte("\nRefreshing:\na/1/0\t5\t6\n")) // past maxLines: the oldest lines go
	out := newOutput(l, false)
	if _, err := out.block(0); err == nil {
		t.Error("dropped refresh parsed")
	}
	b, err := out.block(2)
	if err != nil || b.total() != 11 {
		t.Errorf("block(2) = %+v, %v", b, err)
	}
	if b, err := out.block(1); err != nil || b.total() != 7 {
		t.Errorf("block(1) = %+v, %v", b, err)
	}
	if !strings.Contains(l.text(), "a/1/0\t5\t6") {
		t.Error("text lost the last line")
	}
}

func TestChunks(t *testing.T) {
	if got := chunks(20000, 10000); !slices.Equal(got, []int{10000, 10000}) {
		t.Errorf("chunks(20000, 10000) = %v", got)
	}
	if got := chunks(25000, 10000); !slices.Equal(got, []int{10000, 10000, 5000}) {
		t.Errorf("chunks(25000, 10000) = %v", got)
	}
	if got := chunks(0, 10000); len(got) != 0 {
		t.Errorf("chunks(0, 10000) = %v", got)
	}
}

func TestPidOfName(t *testing.T) {
	for name, want := range map[string]int{"/usr/bin/x/17/0": 17, "unknown TCP/0/0": 0, "a b/c/1/1000": 1, "noslash": 0} {
		if got := pidOfName(name); got != want {
			t.Errorf("pidOfName(%q) = %d, want %d", name, got, want)
		}
	}
}

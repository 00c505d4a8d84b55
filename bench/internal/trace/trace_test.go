package trace

import (
	"slices"
	"strings"
	"testing"
)

// nethogsOutput is nethogs -t -C -v 2 as it prints, with the lines a
// parser must skip.
var nethogsOutput = strings.Join([]string{
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

func TestParse(t *testing.T) {
	blocks, err := Parse(nethogsOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{Rows: []Row{{"unknown UDP/0/0", 0, 0, 0}}},
		{Rows: []Row{{"/usr/bin/live/123/0", 123, 100, 1234570}, {"unknown TCP/0/0", 0, 0, 5}}},
	}
	if len(blocks) != len(want) {
		t.Fatalf("%d blocks, want %d: %+v", len(blocks), len(want), blocks)
	}
	for i := range want {
		if !slices.Equal(blocks[i].Rows, want[i].Rows) {
			t.Errorf("block %d = %+v, want %+v", i, blocks[i].Rows, want[i].Rows)
		}
	}
	b := blocks[1]
	if b.Total() != 100+1234570+5 || b.BytesOf(123) != 1234670 || b.UnknownBytes() != 5 {
		t.Errorf("Total %v, BytesOf(123) %v, UnknownBytes %v", b.Total(), b.BytesOf(123), b.UnknownBytes())
	}
	if s, r, ok := b.Of(123); !ok || s != 100 || r != 1234570 {
		t.Errorf("Of(123) = %v, %v, %v", s, r, ok)
	}
	if _, _, ok := b.Of(77); ok {
		t.Error("Of(77) found a row")
	}
	if got, err := Parse("Refreshing:\nx/1/0\t1\t1\nRefreshing:\nx/1/0\tmany\t1\n"); err == nil || len(got) != 2 || !strings.Contains(err.Error(), "many") {
		t.Errorf("bad number: %d blocks, %v; want the 2 blocks so far and an error naming the line", len(got), err)
	}
	if got, err := Parse("a/1/0\t1\t2\n"); err != nil || len(got) != 0 {
		t.Errorf("row before any refresh: %+v, %v", got, err)
	}
}

func TestParseRows(t *testing.T) {
	lines := []string{
		"/usr/bin/a b/1234/0\t100\t200.5",
		"unknown TCP/0/0\t7\t8",
		"ssh.service/0/0\t20\t30",
		"",
		"Refreshing:",
		"/x/9/0\t1\t1",
	}
	b, err := ParseRows(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 3 || b.Rows[0].PID != 1234 || b.Rows[1].PID != 0 || b.Rows[2].PID != 0 {
		t.Fatalf("rows = %+v", b.Rows)
	}
	// A cgroup's row (PID 0) is not unknown.
	if b.Total() != 365.5 || b.BytesOf(1234) != 300.5 || b.UnknownBytes() != 15 || b.NamedBytes("ssh.service/0/0") != 50 {
		t.Errorf("Total %v, BytesOf %v, UnknownBytes %v, NamedBytes %v", b.Total(), b.BytesOf(1234), b.UnknownBytes(), b.NamedBytes("ssh.service/0/0"))
	}
	if _, err := ParseRows([]string{"a/1/0\tx\t1"}); err == nil {
		t.Error("bad number: no error")
	}
}

func TestPidOfName(t *testing.T) {
	for name, want := range map[string]int{"/usr/bin/x/17/0": 17, "unknown TCP/0/0": 0, "a b/c/1/1000": 1, "noslash": 0, "x/-5/0": 0} {
		if got := pidOfName(name); got != want {
			t.Errorf("pidOfName(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestParseJSON(t *testing.T) {
	line := `{"schema":1,"processes":[{"pid":42,"name":"c","uid":0,` +
		`"sent":{"total":{"bytes":10,"packets":1}},"received":{"total":{"bytes":5,"packets":1}},` +
		`"connections":[{"protocol":"tcp","local":"10.91.0.1:5000","remote":"10.91.0.2:9300","sent":{"bytes":10},"received":{"bytes":5}}]}],` +
		`"unknown":[{"protocol":"tcp","sent":{"total":{"bytes":3}},"received":{"total":{"bytes":4}},` +
		`"connections":[{"protocol":"tcp","local":"10.91.0.1:5001","remote":"10.91.0.2:9300","sent":{"bytes":3},"received":{"bytes":4}}]}]}`
	b, err := ParseJSON(line)
	if err != nil {
		t.Fatal(err)
	}
	if b.Total() != 22 || b.BytesOf(42) != 15 || b.UnknownBytes() != 7 {
		t.Errorf("Total %v, BytesOf %v, UnknownBytes %v", b.Total(), b.BytesOf(42), b.UnknownBytes())
	}
	if b.Rows[1].Name != "unknown TCP/0/0" {
		t.Errorf("unknown row named %q", b.Rows[1].Name)
	}
	want := []Conn{{"10.91.0.1:5000", "10.91.0.2:9300", 42, 15, "c/42/0"}, {"10.91.0.1:5001", "10.91.0.2:9300", 0, 7, "unknown TCP/0/0"}}
	if !slices.Equal(b.Conns, want) {
		t.Errorf("Conns = %+v, want %+v", b.Conns, want)
	}
	if _, err := ParseJSON(`{"processes":`); err == nil {
		t.Error("cut JSON: no error")
	}
}

func TestParseX(t *testing.T) {
	line := "hogs: tpacket-v3 ring: 2121 packets, 3 dropped; 2 flows (1 evicted); 5 sock_diag lookups, 0 /proc/net reads, 2 fd scans"
	x, ok := ParseX(line)
	want := XStats{Line: line, Mode: "tpacket-v3 ring", Packets: 2121, Dropped: 3, Flows: 2, Evicted: 1, SockDiag: 5, TableReads: 0, FDScans: 2}
	if !ok || x != want {
		t.Fatalf("ParseX = %+v, %v", x, ok)
	}
	// A hogs that counts its scans in vain and the links they read.
	line2 := "hogs: r: 1 packets, 0 dropped; 1 flows (0 evicted); 4 sock_diag lookups, 0 /proc/net reads, 3 fd scans (2 in vain, 17 links read); 1 owners"
	if x, ok := ParseX(line2); !ok || x.FDScans != 3 || x.ScansInVain != 2 || x.Links != 17 {
		t.Errorf("ParseX(%q) = %+v, %v; want 3 scans, 2 in vain, 17 links", line2, x, ok)
	}
	for _, other := range []string{"hogs: capturing on vA", "hogs: r: 99999999999999999999999 packets, 0 dropped; 0 flows (0 evicted); 0 sock_diag lookups, 0 /proc/net reads, 0 fd scans"} {
		if _, ok := ParseX(other); ok {
			t.Errorf("ParseX(%q) parsed", other)
		}
	}
	xs := AllX("hogs: r: 10 packets, 0 dropped; 1 flows (0 evicted); 1 sock_diag lookups, 1 /proc/net reads, 1 fd scans\nsome warning\n" + line + "\n")
	if len(xs) != 2 || xs[1] != want {
		t.Fatalf("AllX = %+v", xs)
	}
	if d := xs[1].Sub(xs[0]); d.Packets != 2111 || d.Dropped != 3 || d.Flows != 2 || d.SockDiag != 4 || d.FDScans != 1 {
		t.Errorf("Sub = %+v", d)
	}
}

package ui

import (
	"bytes"
	"flag"
	"hogs/internal/flow"
	"net/netip"
	"path/filepath"
	"testing"

	"hogs/decode"
	"hogs/internal/conntable"
	goldenfile "hogs/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

// fakeOwners is an owner registry for tests.
type fakeOwners map[flow.Owner]flow.Process

func (f fakeOwners) Lookup(o flow.Owner) (flow.Process, bool) {
	p, ok := f[o]
	return p, ok
}

func flowKey(proto uint8, local, remote string) flow.Key {
	return flow.Key{Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote), Proto: proto}
}

// sampleSnapshot: two processes (one with spaces and slashes in its name,
// one with an escape sequence), unknown TCP flows (IPv4 and IPv6), an
// unknown UDP flow, and a retired flow.
func sampleSnapshot() View {
	table := conntable.Snapshot{
		Flows: []conntable.FlowStat{
			{Key: flowKey(6, "10.0.0.1:40000", "93.184.216.34:443"), Owner: 1, Device: "eth0",
				Sent: flow.Counter{Packets: 10, Bytes: 12200}, Recv: flow.Counter{Packets: 30, Bytes: 5690},
				SentRate: 12200, RecvRate: 5690},
			{Key: flowKey(6, "10.0.0.1:40001", "93.184.216.34:443"), Owner: 2, Device: "eth0",
				Sent: flow.Counter{Packets: 1, Bytes: 56}, Recv: flow.Counter{Packets: 1, Bytes: 1540000000},
				SentRate: 0.0560, RecvRate: 1540000000},
			{Key: flowKey(6, "10.0.0.1:22", "10.0.0.9:51000"), Device: "eth0",
				Sent: flow.Counter{Packets: 2, Bytes: 140}, Recv: flow.Counter{Packets: 1, Bytes: 70}, SentRate: 28, RecvRate: 14},
			{Key: flowKey(6, "[2001:db8::1]:443", "[2001:db8::9]:60000"), Device: "eth0",
				Sent: flow.Counter{Packets: 1, Bytes: 74}, SentRate: 14.8},
			{Key: flowKey(17, "10.0.0.1:5353", "224.0.0.251:5353"), Device: "eth0",
				Sent: flow.Counter{Packets: 1, Bytes: 100}, SentRate: 20},
		},
		Retired: map[flow.Owner]conntable.Retired{1: {Sent: flow.Counter{Packets: 5, Bytes: 5000}, Flows: 1}},
	}
	owners := fakeOwners{
		1: {PID: 7125, Name: "/usr/bin/python3", Cmdline: []string{"/usr/bin/python3", "my server.py", "--port=8080"}, UID: 0},
		2: {PID: 99, Name: "/opt/evil\x1b[2Jname", Cmdline: []string{"/opt/evil\x1b[2Jname"}, UID: 1000},
	}
	return View{Rows: Build(table, owners, true, SortRecv)}
}

func TestWriteTraceGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts TraceOptions
	}{
		{"trace-kbps.txt", TraceOptions{}},
		{"trace-bytes-sent-cmdline.txt", TraceOptions{Mode: ModeBytes, Order: SortSent, Cmdline: true}},
		{"trace-mb.txt", TraceOptions{Mode: ModeMB}},
	} {
		snap := sampleSnapshot()
		var out bytes.Buffer
		if err := WriteTrace(&out, &snap, tt.opts); err != nil {
			t.Fatal(err)
		}
		golden(t, tt.name, out.Bytes())
		if bytes.ContainsRune(out.Bytes(), 0x1b) {
			t.Errorf("%s: an escape byte reached the output", tt.name)
		}
	}
}

func TestAppendStreamFloat(t *testing.T) {
	// What `std::cout << double` prints by default.
	for v, want := range map[float64]string{
		0: "0", 11.913671875: "11.9137", 0.0000534058: "5.34058e-05", 1504030: "1.50403e+06",
		5.546875: "5.54688", 100: "100", 1024: "1024", 123456: "123456", 1234567: "1.23457e+06", 0.0001: "0.0001",
	} {
		if got := string(AppendStreamFloat(nil, v)); got != want {
			t.Errorf("%v: got %q, want %q", v, got, want)
		}
	}
}

func TestSanitized(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/python3":    "/usr/bin/python3",
		"my server.py":        "my server.py",
		"evil\x1b[2J":         `evil\x1b[2J`,
		"bell\a cr\r nl\n":    `bell\x07 cr\x0d nl\x0a`,
		"c1 \u009b31m":        `c1 \u009b31m`,
		"bad \xff utf8":       `bad \xff utf8`,
		"back\\slash":         `back\\slash`,
		"ünïcödé 名前":          "ünïcödé 名前",
		"bidi \u202eoverride": `bidi \u202eoverride`,
		"del\x7f":             `del\x7f`,
	} {
		if got := Sanitized(in); got != want {
			t.Errorf("Sanitized(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuildAggregates(t *testing.T) {
	snap := sampleSnapshot()
	byName := map[string]Row{}
	for _, r := range snap.Rows {
		byName[r.Name] = r
	}
	py := byName["/usr/bin/python3"]
	if py.PID != 7125 || py.Sent.Bytes != 12200+5000 || py.Recv.Bytes != 5690 || len(py.Flows) != 1 || py.Device != "eth0" {
		t.Errorf("python row: %+v", py)
	}
	tcp := byName["unknown TCP"]
	if !tcp.Pseudo || len(tcp.Flows) != 2 || tcp.Sent.Bytes != 214 || tcp.SentRate != 42.8 {
		t.Errorf("unknown TCP row: %+v", tcp)
	}
	udp := byName["unknown UDP"]
	if !udp.Pseudo || len(udp.Flows) != 1 || udp.Sent.Bytes != 100 {
		t.Errorf("unknown UDP row: %+v", udp)
	}
	if len(snap.Rows) != 4 {
		t.Errorf("%d rows, want 4", len(snap.Rows))
	}
	// An owner the registry no longer knows lands in the unknown row.
	rows := Build(conntable.Snapshot{Flows: []conntable.FlowStat{{Key: flowKey(decode.ProtoTCP, "10.0.0.1:1", "10.0.0.2:2"), Owner: 42,
		Sent: flow.Counter{Packets: 1, Bytes: 10}}}}, fakeOwners{}, false, SortRecv)
	if len(rows) != 1 || rows[0].Name != "unknown TCP" || rows[0].Sent.Bytes != 10 {
		t.Errorf("rows for an unknown owner: %+v", rows)
	}
}

func TestSortIsStable(t *testing.T) {
	rows := []Row{{Process: flow.Process{PID: 30, Name: "c"}}, {Process: flow.Process{PID: 10, Name: "a"}}, {Process: flow.Process{PID: 20, Name: "b"}, RecvRate: 5}}
	Sort(rows, SortRecv, ModeKBps)
	if rows[0].PID != 20 || rows[1].PID != 10 || rows[2].PID != 30 {
		t.Errorf("order %d %d %d, want 20 (largest) then ties by PID 10, 30", rows[0].PID, rows[1].PID, rows[2].PID)
	}
}

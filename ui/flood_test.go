package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"hogs/decode"
	"hogs/internal/conntable"
	"hogs/internal/flow"
)

// floodSnapshot is a table snapshot under a flood: n unresolved TCP flows
// summed, the conntable.UnknownDetail largest listed, some gone already
// (retired), one process with a connection, and unresolved UDP traffic
// whose flows have all gone.
func floodSnapshot(n int) conntable.Snapshot {
	var largest []conntable.FlowStat
	for i := range conntable.UnknownDetail {
		largest = append(largest, conntable.FlowStat{
			Key:  flow.Key{Local: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(1000+i)), Remote: netip.MustParseAddrPort("192.0.2.7:4444"), Proto: decode.ProtoTCP},
			Recv: flow.Counter{Packets: 1, Bytes: 60}, Device: "vA"})
	}
	return conntable.Snapshot{
		Flows: []conntable.FlowStat{{Key: flowKey(decode.ProtoTCP, "10.0.0.1:45000", "10.0.0.2:80"), Owner: 1, Device: "vA",
			Sent: flow.Counter{Packets: 10, Bytes: 660}, Recv: flow.Counter{Packets: 20, Bytes: 30280}}},
		Unknown: [2]conntable.UnknownStat{
			conntable.UnknownTCP: {Sent: flow.Counter{Packets: 7, Bytes: 378}, Recv: flow.Counter{Packets: uint64(n) + 5, Bytes: uint64(n+5) * 60},
				RecvRate: 3000, Flows: n, Largest: largest, Retired: conntable.Retired{Recv: flow.Counter{Packets: 5, Bytes: 300}, Flows: 5}},
			conntable.UnknownUDP: {Recv: flow.Counter{Packets: 9, Bytes: 900}, Retired: conntable.Retired{Recv: flow.Counter{Packets: 9, Bytes: 900}, Flows: 9}},
		},
	}
}

// TestBuildFromSums: the unknown rows are the snapshot's per-protocol sums
// (retired flows included, UDP's kept apart from TCP's), list the largest
// flows and count all of them; a process row is as before.
func TestBuildFromSums(t *testing.T) {
	rows := Build(floodSnapshot(230_000), fakeOwners{1: {PID: 4242, Name: "curl"}}, false, SortRecv)
	byName := map[string]Row{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	tcp, udp, curl := byName["unknown TCP"], byName["unknown UDP"], byName["curl"]
	if tcp.FlowCount != 230_000 || len(tcp.Flows) != conntable.UnknownDetail || tcp.Recv.Packets != 230_005 || tcp.Sent.Bytes != 378 || tcp.RecvRate != 3000 || tcp.Device != "vA" {
		t.Errorf("unknown TCP: %d flows of %d listed, received %+v, sent %+v, rate %v, device %q",
			len(tcp.Flows), tcp.FlowCount, tcp.Recv, tcp.Sent, tcp.RecvRate, tcp.Device)
	}
	// Without -C the UDP row still shows, as it has traffic.
	if udp.Recv.Bytes != 900 || udp.FlowCount != 0 || !udp.Pseudo {
		t.Errorf("unknown UDP: %+v", udp)
	}
	if curl.FlowCount != 1 || len(curl.Flows) != 1 || curl.Recv.Bytes != 30280 {
		t.Errorf("curl: %+v", curl)
	}
}

// TestTraceUnknownLinesBounded: at most MaxUnknownLines "Unknown
// connection:" lines, then one summary line with the rest, when the row
// has more flows than that (listed or not); none when it has not.
func TestTraceUnknownLinesBounded(t *testing.T) {
	many := func(listed, count int) View {
		var flows []conntable.FlowStat
		for i := range listed {
			flows = append(flows, conntable.FlowStat{Key: flow.Key{Local: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(1000+i)),
				Remote: netip.MustParseAddrPort("192.0.2.7:4444"), Proto: decode.ProtoTCP}})
		}
		return View{Rows: []Row{{Process: flow.Process{Name: "unknown TCP"}, Pseudo: true, Flows: flows, FlowCount: count}}}
	}
	for _, tc := range []struct {
		name    string
		view    View
		lines   int
		summary string
	}{
		{"normal", many(3, 3), 3, ""},
		{"exactly the bound", many(MaxUnknownLines, MaxUnknownLines), MaxUnknownLines, ""},
		{"flood", many(conntable.UnknownDetail, 230_000), MaxUnknownLines, fmt.Sprintf("Unknown connections: %d more\n", 230_000-MaxUnknownLines)},
		{"listed past the bound", many(150, 150), MaxUnknownLines, "Unknown connections: 50 more\n"},
		{"none listed", many(0, 5000), 0, "Unknown connections: 5000 more\n"},
	} {
		var out bytes.Buffer
		if err := WriteTrace(&out, &tc.view, TraceOptions{}); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		if n := strings.Count(s, "Unknown connection: "); n != tc.lines {
			t.Errorf("%s: %d Unknown connection lines, want %d", tc.name, n, tc.lines)
		}
		if tc.summary == "" && strings.Contains(s, "Unknown connections:") || tc.summary != "" && !strings.HasSuffix(s, tc.summary) {
			t.Errorf("%s: output ends %q, want summary %q", tc.name, s[max(0, len(s)-60):], tc.summary)
		}
	}
}

// TestJSONUnknownBounded: with --connections, an unknown row lists what
// the view lists (at most conntable.UnknownDetail) and says how many it
// has; the lookup backlog is a field.
func TestJSONUnknownBounded(t *testing.T) {
	v := View{Rows: Build(floodSnapshot(230_000), fakeOwners{1: {PID: 4242, Name: "curl"}}, true, SortRecv), Pipeline: PipelineStats{LookupBacklog: 17}}
	var out bytes.Buffer
	if err := WriteJSON(&out, &v, JSONOptions{Connections: true}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Unknown []struct {
			Protocol        string            `json:"protocol"`
			ConnectionCount int               `json:"connection_count"`
			Connections     []json.RawMessage `json:"connections"`
		} `json:"unknown"`
		Attribution struct {
			Backlog int `json:"lookup_backlog"`
		} `json:"attribution"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Unknown) != 2 || got.Unknown[0].Protocol != "tcp" && got.Unknown[1].Protocol != "tcp" || got.Attribution.Backlog != 17 {
		t.Fatalf("%s", out.String()[:min(out.Len(), 300)])
	}
	for _, u := range got.Unknown {
		want, listed := 0, 0
		if u.Protocol == "tcp" {
			want, listed = 230_000, conntable.UnknownDetail
		}
		if u.ConnectionCount != want || len(u.Connections) != listed {
			t.Errorf("unknown %s: %d connections listed, count %d; want %d, %d", u.Protocol, len(u.Connections), u.ConnectionCount, listed, want)
		}
	}
	if out.Len() > 32<<10 {
		t.Errorf("a JSON line of %d bytes for a flood", out.Len())
	}
}

// TestFooterShowsLookupBacklog: the footer says how many flows wait for a
// socket lookup, only when some do.
func TestFooterShowsLookupBacklog(t *testing.T) {
	st := ViewState{}
	for _, backlog := range []int{0, 1234} {
		v := View{Rows: Build(floodSnapshot(10), fakeOwners{}, false, SortRecv), Pipeline: PipelineStats{LookupBacklog: backlog}}
		g := NewGrid(120, 10)
		Render(g, &v, &st)
		footer := strings.Split(g.Text(), "\n")[9]
		if has := strings.Contains(footer, "lookups behind 1234"); has != (backlog > 0) || backlog == 0 && strings.Contains(footer, "lookups behind") {
			t.Errorf("backlog %d: footer %q", backlog, footer)
		}
	}
}

//go:build !hogs_small

package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hogs/internal/conntable"
	"hogs/internal/flow"
)

var (
	webLabel = flow.Label{Runtime: "docker", ID: strings.Repeat("3f2a", 16), Name: "web"}
	podLabel = flow.Label{Runtime: "containerd", ID: strings.Repeat("9c01", 16), Name: "9c019c019c01",
		PodUID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Pod: "api-7d9f", Namespace: "prod"}
	sshLabel  = flow.Label{Runtime: flow.LabelSystemd, ID: "ssh.service", Name: "ssh.service"}
	evilLabel = flow.Label{Runtime: "docker", ID: strings.Repeat("e0e1", 16), Name: "evil\x1b[2J\u202ename"}
)

// containerSnapshot is a host running two nginx workers in a Docker
// container, a Kubernetes pod's server, sshd as a service, a container
// whose name holds an escape sequence, a plain curl and an nginx on the
// host; plus unknown TCP. Every row has one flow.
func containerSnapshot() View {
	c := func(b uint64) flow.Counter { return flow.Counter{Packets: b / 1000, Bytes: b} }
	owners := fakeOwners{
		1: {PID: 4242, NSPID: 7, Name: "nginx: worker process", UID: 33, User: "www-data", Label: webLabel},
		2: {PID: 4243, NSPID: 8, Name: "nginx: worker process", UID: 33, User: "www-data", Label: webLabel},
		3: {PID: 5100, NSPID: 1, Name: "/usr/bin/api-server", UID: 1000, User: "alice", Label: podLabel},
		4: {PID: 812, Name: "sshd: alice [priv]", UID: 0, User: "root", Label: sshLabel},
		5: {PID: 6000, Name: "/tmp/x", UID: 1000, User: "alice", Label: evilLabel},
		6: {PID: 31337, Name: "curl", UID: 1000, User: "alice"},
		7: {PID: 900, Name: "nginx: worker process", UID: 33, User: "www-data"},
	}
	var table conntable.Snapshot
	for o := flow.Owner(1); o <= 7; o++ {
		table.Flows = append(table.Flows, conntable.FlowStat{
			Key:   flowKey(6, fmt.Sprintf("10.0.0.1:%d", 40000+o), "192.0.2.7:443"),
			Owner: o, Device: "eth0", Sent: c(uint64(o) * 10_000), Recv: c(uint64(o) * 20_000),
			SentRate: float64(o) * 1024, RecvRate: float64(8-o) * 2048,
		})
	}
	stray := conntable.FlowStat{Key: flowKey(6, "10.0.0.1:22", "10.0.0.9:51000"), Device: "eth0",
		Sent: c(3000), Recv: c(1000), SentRate: 100, RecvRate: 50}
	table.Unknown[conntable.UnknownTCP] = conntable.UnknownStat{Sent: c(3000), Recv: c(1000), SentRate: 100, RecvRate: 50,
		Flows: 1, Largest: []conntable.FlowStat{stray}}
	v := View{Rows: Build(table, owners, false, SortRecv), Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Interval: time.Second}
	return v
}

func TestRenderContainersGolden(t *testing.T) {
	web := RowID{Group: GroupContainer, Name: webLabel.ID}
	for _, c := range []struct {
		name string
		w, h int
		st   func(*ViewState)
	}{
		{"render-containers.txt", 110, 18, func(*ViewState) {}},
		{"render-containers-narrow-70.txt", 70, 18, func(*ViewState) {}},
		{"render-group-program.txt", 100, 18, func(st *ViewState) { st.Group = GroupProgram }},
		{"render-group-user.txt", 100, 18, func(st *ViewState) { st.Group = GroupUser }},
		{"render-group-container.txt", 100, 18, func(st *ViewState) { st.Group = GroupContainer }},
		{"render-group-container-connections.txt", 100, 14, func(st *ViewState) {
			st.Group, st.Screen, st.Focus = GroupContainer, ScreenConnections, web
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := realState()
			c.st(&st)
			renderGolden(t, c.name, c.w, c.h, containerSnapshot(), st)
		})
	}
}

// TestGroupTotals: every grouping keeps the total of the rows (TOTAL and
// the sum of the groups equal the ungrouped sum), a group sums its
// members and lists all their flows, and the unknown row stays a row of
// its own.
func TestGroupTotals(t *testing.T) {
	snap := containerSnapshot()
	var sent, recv flow.Counter
	for _, r := range snap.Rows {
		sent, recv = sent.Add(r.Sent), recv.Add(r.Recv)
	}
	want := map[Grouping]map[string]int{ // group name → members
		GroupProgram:   {"nginx: worker process": 3, "api-server": 1, "sshd: alice [priv]": 1, "x": 1, "curl": 1},
		GroupUser:      {"www-data": 3, "alice": 3, "root": 1},
		GroupContainer: {"web": 2, "prod/api-7d9f": 1, "ssh.service": 1, `evil\x1b[2J\u202ename`: 1, HostGroup: 2},
	}
	for by := GroupProgram; by < groupingCount; by++ {
		var sc renderScratch
		rows := sc.rowsOf(&snap, &ViewState{Group: by})
		var gs, gr flow.Counter
		got := map[string]int{}
		for _, r := range rows {
			gs, gr = gs.Add(r.Sent), gr.Add(r.Recv)
			if r.Pseudo {
				if r.Name != UnknownTCPName || r.Group != GroupProcess {
					t.Errorf("%v: pseudo row %+v", by, r)
				}
				continue
			}
			got[string(sc.appendGroupName(nil, &r))] = r.Procs
			if len(r.Flows) != r.Procs || r.FlowCount != r.Procs {
				t.Errorf("%v: group %q of %d processes lists %d flows (count %d)", by, r.Name, r.Procs, len(r.Flows), r.FlowCount)
			}
		}
		if gs != sent || gr != recv {
			t.Errorf("%v: groups sum to %v/%v, rows to %v/%v", by, gs, gr, sent, recv)
		}
		if len(got) != len(want[by]) {
			t.Errorf("%v: groups %v, want %v", by, got, want[by])
		}
		for name, n := range want[by] {
			if got[name] != n {
				t.Errorf("%v: group %q has %d processes, want %d (groups %v)", by, name, got[name], n, got)
			}
		}
	}
}

// TestGroupKeyCycles: c cycles process, program, user, container and back,
// on the list; from a group's connections it goes back to the list; Enter
// on a group lists the connections of all its processes; the selection
// stays on a group across a refresh that reorders the groups.
func TestGroupKeyCycles(t *testing.T) {
	snap := containerSnapshot()
	st := realState()
	page := PageHeight(30)
	seen := []Grouping{st.Group}
	for range 4 {
		st.HandleKey(Key{Ch: 'c'}, &snap, page)
		seen = append(seen, st.Group)
	}
	if want := []Grouping{GroupProcess, GroupProgram, GroupUser, GroupContainer, GroupProcess}; !equalGroupings(seen, want) {
		t.Fatalf("c cycles %v, want %v", seen, want)
	}
	for st.Group != GroupContainer {
		st.HandleKey(Key{Ch: 'c'}, &snap, page)
	}
	// Select the web container and open it.
	var sc renderScratch
	rows := sc.rowsOf(&snap, &st)
	idx := sc.visible(rows, &st)
	pos := -1
	for p, i := range idx {
		if rows[i].Label.Name == "web" {
			pos = p
		}
	}
	for range pos {
		st.HandleKey(Key{Special: KeyDown}, &snap, page)
	}
	st.HandleKey(Key{Special: KeyEnter}, &snap, page)
	if st.Screen != ScreenConnections || st.Focus != (RowID{Group: GroupContainer, Name: webLabel.ID}) {
		t.Fatalf("Enter on web: screen %v focus %+v", st.Screen, st.Focus)
	}
	g := NewGrid(100, 14)
	Render(g, &snap, &st)
	if text := g.Text(); !strings.Contains(text, "connections of container web") || strings.Count(text, "192.0.2.7:443") != 2 {
		t.Errorf("web's connections:\n%s", text)
	}
	// A refresh where web moves most: the selection follows it.
	st.HandleKey(Key{Special: KeyEsc}, &snap, page)
	for i := range snap.Rows {
		if snap.Rows[i].Label == webLabel {
			snap.Rows[i].RecvRate = 1e9
		}
	}
	st.HandleKey(Key{Special: KeyNone, Ch: 'r'}, &snap, page)
	if st.SelectedRow != (RowID{Group: GroupContainer, Name: webLabel.ID}) || st.Selected != 0 {
		t.Errorf("after web grew: selected %d %+v, want web at the top", st.Selected, st.SelectedRow)
	}
	// c from the connections screen goes back to the list.
	st.HandleKey(Key{Special: KeyEnter}, &snap, page)
	st.HandleKey(Key{Ch: 'c'}, &snap, page)
	if st.Screen != ScreenProcesses || st.Group != GroupProcess {
		t.Errorf("c on connections: screen %v group %v", st.Screen, st.Group)
	}
}

func equalGroupings(a, b []Grouping) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestContainerColumn: the CONTAINER column shows only when a row has a
// label, and a container name is sanitized; the filter matches container
// names.
func TestContainerColumn(t *testing.T) {
	st := realState()
	g := NewGrid(110, 18)
	plain := realSnapshot()
	Render(g, &plain, &st)
	if strings.Contains(g.Text(), "CONTAINER") {
		t.Errorf("CONTAINER without labels:\n%s", g.Text())
	}
	snap := containerSnapshot()
	Render(g, &snap, &st)
	text := g.Text()
	if !strings.Contains(text, "CONTAINER") || !strings.Contains(text, "ssh.service") || !strings.Contains(text, `evil\x1b[2J\u202ename`) {
		t.Errorf("CONTAINER column:\n%s", text)
	}
	if strings.ContainsAny(text, "\x1b\u202e") {
		t.Errorf("unsanitized container name:\n%q", text)
	}
	st.Filter = "WEB"
	var sc renderScratch
	if idx := sc.visible(snap.Rows, &st); len(idx) != 2 {
		t.Errorf("filter WEB keeps %d rows, want web's 2", len(idx))
	}
}

// TestRenderGroupedAllocatesNothing: the grouped list reuses the
// renderer's storage.
func TestRenderGroupedAllocatesNothing(t *testing.T) {
	snap := containerSnapshot()
	g := NewGrid(100, 30)
	for _, by := range []Grouping{GroupProcess, GroupProgram, GroupUser, GroupContainer} {
		st := realState()
		st.Group = by
		Render(g, &snap, &st)
		if n := testing.AllocsPerRun(20, func() { Render(g, &snap, &st) }); n != 0 {
			t.Errorf("%v: %v allocations per render", by, n)
		}
	}
}

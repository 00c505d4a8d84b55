package ui

import (
	"fmt"
	"hogs/internal/flow"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hogs/internal/conntable"
)

// realSnapshot is a realistic refresh: sampleSnapshot's rows (python with
// arguments, a process with an escape sequence in its name, unknown TCP
// and UDP) plus a browser with three flows (IPv4, IPv6, UDP), an upload,
// sshd, a user name longer than USER's 8 cells, two devices, and one
// capture source with drops.
func realSnapshot() View {
	base := sampleSnapshot()
	for i := range base.Rows {
		if base.Rows[i].PID == 7125 {
			base.Rows[i].User = "root"
		}
	}
	c := func(p, b uint64) flow.Counter { return flow.Counter{Packets: p, Bytes: b} }
	table := conntable.Snapshot{Flows: []conntable.FlowStat{
		{Key: flowKey(6, "192.168.1.20:51514", "142.250.185.78:443"), Owner: 10, Device: "wlan0",
			Sent: c(900, 180_000), Recv: c(4000, 5_200_000), SentRate: 2100, RecvRate: 61_440},
		{Key: flowKey(6, "[2a01:4f8::20]:40110", "[2606:4700::6810:85e5]:443"), Owner: 10, Device: "wlan0",
			Sent: c(80, 9000), Recv: c(200, 250_000), SentRate: 300, RecvRate: 10_240},
		{Key: flowKey(17, "192.168.1.20:41000", "142.250.185.78:443"), Owner: 10, Device: "wlan0",
			Sent: c(50, 40_000), Recv: c(90, 110_000), SentRate: 800, RecvRate: 2048},
		{Key: flowKey(6, "192.168.1.20:38002", "151.101.2.132:443"), Owner: 11, Device: "wlan0",
			Sent: c(3000, 48_000_000), Recv: c(1500, 90_000), SentRate: 1_048_576, RecvRate: 1500},
		{Key: flowKey(6, "10.0.0.1:22", "10.0.0.77:53311"), Owner: 12, Device: "eth0",
			Sent: c(120, 24_000), Recv: c(140, 9800), SentRate: 512, RecvRate: 256},
	}}
	owners := fakeOwners{
		10: {PID: 2210, Name: "/usr/lib/firefox/firefox", UID: 1000, User: "alexandra",
			Cmdline: []string{"/usr/lib/firefox/firefox", "-contentproc", "-childID", "7", "-isForBrowser", "tab"}},
		11: {PID: 31337, Name: "curl", Cmdline: []string{"curl", "-T", "backup.tar", "https://upload.example.org/"}, UID: 1000, User: "alexandra"},
		12: {PID: 812, Name: "sshd: alex [priv]", Cmdline: []string{"sshd: alex [priv]"}, UID: 0, User: "root"},
	}
	for _, r := range Build(table, owners, false, SortRecv) {
		if !r.Pseudo {
			base.Rows = append(base.Rows, r)
		}
	}
	base.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	base.Interval = time.Second
	base.Capture = []CaptureStats{{Source: "live", Mode: "tpacket_v3", Received: 123456, Dropped: 7}}
	base.Evictions = 3
	return base
}

func realState() ViewState {
	return ViewState{Devices: []string{"eth0", "wlan0"}, Title: "hogs 0.1.0"}
}

var firefox = RowID{Owner: 10, PID: 2210}

// manyRows is a snapshot of n processes with distinct, tied and zero
// rates (the ties sort by PID), each with one flow.
func manyRows(n int) View {
	snap := View{Interval: time.Second}
	for i := range n {
		rate := float64((i*7919)%97) * 1024 // repeats: ties
		snap.Rows = append(snap.Rows, Row{
			Process: flow.Process{PID: 1000 + (i*31)%n, Name: fmt.Sprintf("/usr/bin/worker-%03d", i),
				Cmdline: []string{fmt.Sprintf("/usr/bin/worker-%03d", i), "--id", strconv.Itoa(i)}, UID: 1000, User: "svc"},
			Owner: flow.Owner(i + 1), Device: "eth0",
			Sent: flow.Counter{Packets: uint64(i), Bytes: uint64(i) * 1500}, Recv: flow.Counter{Packets: uint64(2 * i), Bytes: uint64(i) * 3000},
			SentRate: rate / 2, RecvRate: rate,
			Flows: []conntable.FlowStat{{Key: flowKey(6, "10.0.0.1:"+strconv.Itoa(20000+i), fmt.Sprintf("10.1.%d.%d:443", i/250, i%250+1)),
				Owner: flow.Owner(i + 1), Device: "eth0", SentRate: rate / 2, RecvRate: rate,
				Sent: flow.Counter{Packets: uint64(i), Bytes: uint64(i) * 1500}, Recv: flow.Counter{Packets: uint64(2 * i), Bytes: uint64(i) * 3000}}},
		})
	}
	return snap
}

// hostileSnapshot has names that try to act on the terminal or to break
// the layout: escape sequences, a C1 CSI, newlines, bidi overrides,
// combining marks, zero-width characters, wide CJK text and emoji.
func hostileSnapshot() View {
	mk := func(pid int, name string, args ...string) Row {
		return Row{Process: flow.Process{PID: pid, Name: name, Cmdline: append([]string{name}, args...), User: "u\x1b]0;pwned\a"},
			Owner: flow.Owner(pid), Device: "eth\x1b[31m0", RecvRate: float64(pid)}
	}
	return View{Rows: []Row{
		mk(1, "/tmp/\x1b[2Jclear", "\x1b[?1049h"),
		mk(2, "csi\u009b31mred", "\r\nfake line"),
		mk(3, "bidi\u202etxt.exe"),
		mk(4, "cafe\u0301 zero\u200bwidth"),
		mk(5, "/opt/名前のプログラム", "引数"),
		mk(6, "emoji🚀rocket\x7f"),
	}}
}

func renderGolden(t *testing.T, name string, w, h int, snap View, st ViewState) *Grid {
	t.Helper()
	g := NewGrid(w, h)
	Render(g, &snap, &st)
	golden(t, name, []byte(g.Text()+"--- attrs ---\n"+g.Attrs()))
	return g
}

func TestRenderGolden(t *testing.T) {
	modeNames := map[ViewMode]string{ModeKBps: "kbps", ModeKB: "kb", ModeBytes: "bytes", ModeMB: "mb", ModeMBps: "mbps", ModeGBps: "gbps", ModeMbitps: "mbitps", ModeAuto: "auto"}
	type tc struct {
		name string
		w, h int
		snap View
		st   func(*ViewState)
	}
	cases := []tc{
		{"render-default.txt", 100, 30, realSnapshot(), func(*ViewState) {}},
		{"render-sort-sent.txt", 100, 30, realSnapshot(), func(st *ViewState) { st.Order = SortSent }},
		{"render-cmdline-basename.txt", 100, 30, realSnapshot(), func(st *ViewState) { st.Cmdline, st.Basename, st.Selected = true, true, 2 }},
		{"render-scrolled.txt", 100, 20, manyRows(60), func(st *ViewState) { st.Selected, st.Top = 30, 24 }},
		{"render-connections.txt", 100, 30, realSnapshot(), func(st *ViewState) { st.Screen, st.Focus, st.Selected = ScreenConnections, firefox, 1 }},
		{"render-connections-kb.txt", 100, 30, realSnapshot(), func(st *ViewState) { st.Screen, st.Focus, st.Mode = ScreenConnections, firefox, ModeKB }},
		{"render-connections-gone.txt", 100, 12, realSnapshot(), func(st *ViewState) { st.Screen, st.Focus = ScreenConnections, RowID{Owner: 99, PID: 1} }},
		{"render-hosts.txt", 100, 30, realSnapshot(), func(st *ViewState) { st.Screen = ScreenRemoteHosts }},
		{"render-help.txt", 100, 30, realSnapshot(), func(st *ViewState) { st.Help = true }},
		{"render-narrow-62.txt", 62, 16, realSnapshot(), func(*ViewState) {}},
		{"render-narrow-40.txt", 40, 16, realSnapshot(), func(*ViewState) {}},
		{"render-narrow-20.txt", 20, 16, realSnapshot(), func(*ViewState) {}},
		{"render-narrow-40-connections.txt", 40, 10, realSnapshot(), func(st *ViewState) { st.Screen, st.Focus = ScreenConnections, firefox }},
		{"render-narrow-40-hosts.txt", 40, 16, realSnapshot(), func(st *ViewState) { st.Screen = ScreenRemoteHosts }},
		{"render-height-5.txt", 100, 5, realSnapshot(), func(*ViewState) {}},
		{"render-hostile.txt", 100, 14, hostileSnapshot(), func(st *ViewState) { st.Cmdline = true }},
		{"render-empty.txt", 80, 10, View{}, func(*ViewState) {}},
	}
	for m := ModeKBps; m < modeCount; m++ {
		cases = append(cases, tc{"render-mode-" + modeNames[m] + ".txt", 100, 30, realSnapshot(), func(st *ViewState) { st.Mode = m }})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := realState()
			c.st(&st)
			renderGolden(t, c.name, c.w, c.h, c.snap, st)
		})
	}
}

// TestRenderLayout pins what the golden files show, in words.
func TestRenderLayout(t *testing.T) {
	snap := realSnapshot()
	st := realState()
	g := NewGrid(100, 30)
	Render(g, &snap, &st)
	lines := strings.Split(g.Text(), "\n")
	attrs := strings.Split(g.Attrs(), "\n")
	if !strings.HasPrefix(lines[0], "hogs 0.1.0") || !strings.HasSuffix(lines[0], "eth0 wlan0 / every 1s") {
		t.Errorf("title %q", lines[0])
	}
	if lines[1] != "" {
		t.Errorf("line 1 not blank: %q", lines[1])
	}
	header := lines[2]
	for _, col := range []string{"    PID USER     PROGRAM", "DEV", "SENT", "RECEIVED"} {
		if !strings.Contains(header, col) {
			t.Errorf("header %q lacks %q", header, col)
		}
	}
	if len(attrs[2]) != 100 || strings.Trim(attrs[2], "RV") != "" {
		t.Errorf("header not reverse over the whole width: %q", attrs[2])
	}
	// nethogs's columns: PID in 7, USER at 8, PROGRAM at 17; numbers %11.3f.
	row := lines[3]
	if row[:7] != "     99" || row[8:12] != "1000" || !strings.HasPrefix(row[17:], "/opt/evil\\x1b[2Jname") {
		t.Errorf("first row %q", row)
	}
	if !strings.HasSuffix(row, "      0.000 1503906.250 kB/s") {
		t.Errorf("first row numbers %q", row)
	}
	// The selection is bold and underlined: not reverse like the header
	// and TOTAL.
	if strings.Trim(attrs[3], "W") != "" || len(attrs[3]) != 100 {
		t.Errorf("selected row 0 not bold and underlined: %q", attrs[3])
	}
	for _, l := range lines {
		if strings.Contains(l, "alexandra") {
			t.Errorf("user not cut: %q", l)
		}
		if strings.HasPrefix(l, "      ?") && !strings.HasPrefix(l, "      ?          unknown") {
			t.Errorf("pseudo row %q: want PID ? and no user", l)
		}
	}
	if !strings.Contains(g.Text(), "  31337 alexan.. curl") {
		t.Errorf("long user name not cut as nethogs does:\n%s", g.Text())
	}
	total := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  TOTAL") })
	if total != 3+len(snap.Rows)+1 || lines[total-1] != "" {
		t.Errorf("TOTAL on line %d, want %d after a blank line", total, 3+len(snap.Rows)+1)
	}
	if strings.Trim(attrs[total], "R") != "" {
		t.Errorf("TOTAL not reverse: %q", attrs[total])
	}
	footer := lines[29]
	for _, part := range []string{"drops 7", "evicted 3", "/: filter", "sort: received (s r t p n)", "Space: pause", "h: help"} {
		if !strings.Contains(footer, part) {
			t.Errorf("footer %q lacks %q", footer, part)
		}
	}
	// The devices (in the title already) are the first to go; a wider
	// footer has them.
	g = NewGrid(140, 30)
	Render(g, &snap, &st)
	if footer := strings.Split(g.Text(), "\n")[29]; !strings.HasPrefix(footer, "eth0 wlan0  drops 7") {
		t.Errorf("footer at 140 columns %q", footer)
	}
}

// totalLine parses the numbers of the TOTAL line of g.
func totalLine(t *testing.T, g *Grid) (sent, recv float64) {
	t.Helper()
	for _, l := range strings.Split(g.Text(), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "TOTAL" {
			var err1, err2 error
			sent, err1 = strconv.ParseFloat(f[1], 64)
			recv, err2 = strconv.ParseFloat(f[2], 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("TOTAL line %q", l)
			}
			return sent, recv
		}
	}
	t.Fatalf("no TOTAL line in\n%s", g.Text())
	return 0, 0
}

func TestTotalSumsAllRows(t *testing.T) {
	snap := manyRows(60)
	for m := ModeKBps; m < ModeAuto; m++ { // auto's numbers carry units: TestModeAuto
		var wantSent, wantRecv float64
		for i := range snap.Rows {
			s, r := m.Values(&snap.Rows[i])
			wantSent += s
			wantRecv += r
		}
		for _, sel := range []int{0, 30, 59} {
			st := ViewState{Mode: m, Selected: sel}
			g := NewGrid(100, 20) // 14 rows show, 46 do not
			Render(g, &snap, &st)
			sent, recv := totalLine(t, g)
			if math.Abs(sent-wantSent) > 0.0005+wantSent*1e-9 || math.Abs(recv-wantRecv) > 0.0005+wantRecv*1e-9 {
				t.Errorf("mode %s selected %d: TOTAL %v %v, want the sum of all 60 rows %v %v", m.Unit(), sel, sent, recv, wantSent, wantRecv)
			}
			shown := strings.Count(g.Text(), "worker-")
			if shown != PageHeight(20) {
				t.Errorf("%d rows shown at height 20, want %d", shown, PageHeight(20))
			}
		}
	}
	// The connection and host screens total their lists too.
	real := realSnapshot()
	st := realState()
	st.Screen, st.Focus = ScreenConnections, firefox
	g := NewGrid(100, 30)
	Render(g, &real, &st)
	if sent, recv := totalLine(t, g); sent != 3.125 || recv != 72 {
		t.Errorf("connections TOTAL %v %v, want firefox's 3.125 72", sent, recv)
	}
	st.Screen = ScreenRemoteHosts
	Render(g, &real, &st)
	var wantSent, wantRecv float64
	for i := range real.Rows {
		for _, f := range real.Rows[i].Flows {
			s, r := flowValues(st.Mode, &f)
			wantSent += s
			wantRecv += r
		}
	}
	if sent, recv := totalLine(t, g); math.Abs(sent-wantSent) > 0.0005 || math.Abs(recv-wantRecv) > 0.0005 {
		t.Errorf("hosts TOTAL %v %v, want %v %v", sent, recv, wantSent, wantRecv)
	}
}

// TestOrderMatchesSort: Render sorts an index, not the rows; the order
// must be Sort's, ties included.
func TestOrderMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		n := rng.IntN(40)
		rows := make([]Row, n)
		for i := range rows {
			rows[i] = Row{Process: flow.Process{PID: rng.IntN(5), Name: string(rune('a' + rng.IntN(3)))},
				SentRate: float64(rng.IntN(3)), RecvRate: float64(rng.IntN(3)),
				Sent: flow.Counter{Bytes: uint64(rng.IntN(3))}, Recv: flow.Counter{Bytes: uint64(rng.IntN(3))}}
			rows[i].UID = uint32(i) // tells equal-looking rows apart
		}
		for _, order := range []SortOrder{SortRecv, SortSent} {
			for m := ModeKBps; m < modeCount; m++ {
				want := slices.Clone(rows)
				Sort(want, order, m)
				var sc renderScratch
				idx := sc.order(rows, order, m)
				for k, i := range idx {
					if rows[i].UID != want[k].UID {
						t.Fatalf("trial %d order %d mode %d: position %d has row %d, Sort has %d", trial, order, m, k, rows[i].UID, want[k].UID)
					}
				}
			}
		}
	}
}

// TestRenderLeavesInputs: Render neither sorts the snapshot's rows nor
// changes the state.
func TestRenderLeavesInputs(t *testing.T) {
	snap := manyRows(60)
	before := slices.Clone(snap.Rows)
	st := ViewState{Selected: 500, Top: -3, Order: SortSent, Mode: ModeKB}
	stBefore := st
	Render(NewGrid(80, 20), &snap, &st)
	for i := range before {
		if snap.Rows[i].PID != before[i].PID || snap.Rows[i].Name != before[i].Name {
			t.Fatalf("row %d moved", i)
		}
	}
	if st.Selected != stBefore.Selected || st.Top != stBefore.Top || st.Order != stBefore.Order || st.Mode != stBefore.Mode {
		t.Errorf("state changed: %+v", st)
	}
}

// TestRenderAnySize: no size panics or writes outside the grid (the cells
// past its end, in the same backing array, stay untouched), and no cell
// holds a control character.
func TestRenderAnySize(t *testing.T) {
	snaps := []View{realSnapshot(), manyRows(60), hostileSnapshot(), {}}
	for _, w := range []int{0, 1, 2, 3, 5, 8, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 58, 62, 66, 80, 100, 200} {
		for _, h := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 30} {
			for si := range snaps {
				for _, scr := range []Screen{ScreenProcesses, ScreenConnections, ScreenRemoteHosts} {
					for _, help := range []bool{false, true} {
						st := realState()
						st.Screen, st.Help, st.Cmdline, st.Selected = scr, help, true, 7
						if rows := snaps[si].Rows; len(rows) > 0 {
							st.Focus = RowIDOf(&rows[min(2, len(rows)-1)])
						}
						backing := make([]Cell, w*h+16)
						for i := range backing {
							backing[i] = Cell{Ch: '#', Attr: 7}
						}
						g := &Grid{W: w, H: h, Cells: backing[:w*h]}
						Render(g, &snaps[si], &st)
						for i := w * h; i < len(backing); i++ {
							if backing[i] != (Cell{Ch: '#', Attr: 7}) {
								t.Fatalf("%dx%d snapshot %d screen %d help %v: wrote past the grid", w, h, si, scr, help)
							}
						}
						for i, c := range g.Cells {
							if c.Ch != 0 && (c.Ch < 0x20 || c.Ch >= 0x7f && c.Ch < 0xa0) {
								t.Fatalf("%dx%d: control character %q in cell %d", w, h, c.Ch, i)
							}
							if c.Ch == 0 && (i%max(w, 1) == 0 || !isWide(g.Cells[i-1].Ch)) {
								t.Fatalf("%dx%d snapshot %d: continuation cell %d without its wide rune", w, h, si, i)
							}
							if c.Ch != 0 && isWide(c.Ch) && (i%w == w-1 || g.Cells[i+1].Ch != 0) {
								t.Fatalf("%dx%d snapshot %d: wide rune in cell %d without continuation", w, h, si, i)
							}
						}
					}
				}
			}
		}
	}
}

func TestRenderSanitizes(t *testing.T) {
	snap := hostileSnapshot()
	st := ViewState{Cmdline: true, Devices: []string{"eth\x1b[0m"}}
	for _, scr := range []Screen{ScreenProcesses, ScreenConnections, ScreenRemoteHosts} {
		st.Screen, st.Focus = scr, RowIDOf(&snap.Rows[0])
		g := NewGrid(200, 20)
		Render(g, &snap, &st)
		text := g.Text()
		if strings.ContainsFunc(text, func(r rune) bool {
			return r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || r == 0x202e || r == 0x200b || r == 0x301
		}) {
			t.Errorf("screen %d: a control or zero-width character reached the grid:\n%q", scr, text)
		}
		if scr == ScreenProcesses {
			for _, want := range []string{`/tmp/\x1b[2Jclear \x1b[?1049h`, `csi\u009b31mred \x0d\x0afake line`, `bidi\u202etxt.exe`,
				`cafe\u0301 zero\u200bwidth`, "/opt/名前のプログラム 引数", "emoji🚀rocket\\x7f", `u\x1b]..`, `eth\x1..`} {
				if !strings.Contains(text, want) {
					t.Errorf("grid lacks %q:\n%s", want, text)
				}
			}
		}
	}
}

func TestWideRunes(t *testing.T) {
	g := NewGrid(10, 1)
	g.drawText(0, 0, 10, []byte("名前ab"), 0, false)
	if got := g.Text(); got != "名前ab\n" {
		t.Errorf("text %q", got)
	}
	if g.Cells[1].Ch != 0 || g.Cells[3].Ch != 0 || g.Cells[4].Ch != 'a' {
		t.Errorf("cells %v", g.Cells[:6])
	}
	// Cut: a wide rune that does not fit before ".." is left out.
	g = NewGrid(10, 1)
	g.drawText(0, 0, 5, []byte("名前のプ"), 0, false)
	if got := g.Text(); got != "名..\n" {
		t.Errorf("cut text %q", got)
	}
	// Overwriting half of a wide rune blanks the other half.
	g = NewGrid(4, 1)
	g.drawText(0, 0, 4, []byte("名前"), 0, false)
	g.set(1, 0, '|', 0)
	g.set(2, 0, '|', 0)
	if got := g.Text(); got != " ||\n" {
		t.Errorf("after overwriting halves: %q", got)
	}
	for i, c := range g.Cells {
		if c.Ch == 0 {
			t.Errorf("orphan continuation at %d", i)
		}
	}
	// A wide rune in the last cell does not fit.
	g = NewGrid(3, 1)
	g.put(2, 0, '名', 0)
	if g.Cells[2].Ch != ' ' {
		t.Errorf("wide rune in the last cell: %v", g.Cells)
	}
}

func TestAppendFit(t *testing.T) {
	for _, c := range []struct {
		v    float64
		w    int
		want string
	}{
		{5.5546875, 11, "5.555"}, {1503906.25, 11, "1503906.250"}, {12345678.9, 11, "12345678.90"},
		{1540000000, 11, "1540000000"}, {1.54e12, 11, "1.54e+12"}, {1503906.25, 9, "1503906.2"},
		{1503906.25, 7, "1503906"}, {0, 7, "0.000"},
	} {
		if got := string(appendFit(nil, c.v, c.w)); got != c.want {
			t.Errorf("appendFit(%v, %d) = %q, want %q", c.v, c.w, got, c.want)
		}
	}
	// Where it fits, it is C's %11.3f.
	for _, v := range []float64{0, 0.0005, 0.0015, 1.0005, 11.9137, 99999.9995, 1234567.125} {
		if got, want := fmt.Sprintf("%11s", appendFit(nil, v, 11)), fmt.Sprintf("%11.3f", v); got != want {
			t.Errorf("%v: %q, want %q", v, got, want)
		}
	}
}

func TestPageHeight(t *testing.T) {
	for h, want := range map[int]int{0: 0, 1: 1, 2: 1, 3: 1, 5: 1, 6: 1, 7: 1, 8: 2, 20: 14, 30: 24, 50: 44} {
		if got := PageHeight(h); got != want {
			t.Errorf("PageHeight(%d) = %d, want %d", h, got, want)
		}
	}
}

func BenchmarkRender1000Rows(b *testing.B) {
	snap := manyRows(1000)
	st := ViewState{Devices: []string{"eth0"}, Cmdline: true, Selected: 500, Top: 480, Title: "hogs 0.1.0"}
	g := NewGrid(100, 50)
	Render(g, &snap, &st) // warm the scratch buffers
	b.ReportAllocs()
	for b.Loop() {
		Render(g, &snap, &st)
	}
}

// The filter on every row and the selection by identity cost no
// allocation either.
func BenchmarkRender1000RowsFiltered(b *testing.B) {
	snap := manyRows(1000)
	st := ViewState{Devices: []string{"eth0"}, Cmdline: true, Filter: "10.1.2", SelectedRow: RowIDOf(&snap.Rows[600]), Title: "hogs 0.1.0"}
	g := NewGrid(100, 50)
	Render(g, &snap, &st)
	b.ReportAllocs()
	for b.Loop() {
		Render(g, &snap, &st)
	}
}

// TestHostNames: the remote-host and connection screens show a known host
// name instead of the address (the port kept on connections), sanitized,
// and the address where no name is known.
func TestHostNames(t *testing.T) {
	real := realSnapshot()
	var named, unnamed netip.Addr
	for _, r := range real.Rows {
		for _, f := range r.Flows {
			a := f.Key.Remote.Addr().Unmap()
			if !named.IsValid() {
				named = a
			} else if a != named && !unnamed.IsValid() {
				unnamed = a
			}
		}
	}
	real.HostNames = map[netip.Addr]string{named: "cdn.example\x1b[2J.net"}
	st := realState()
	st.Screen = ScreenRemoteHosts
	g := NewGrid(120, 30)
	Render(g, &real, &st)
	text := g.Text()
	if !strings.Contains(text, `cdn.example\x1b[2J.net`) || strings.Contains(text, "\x1b") {
		t.Errorf("hosts screen does not show the sanitized name:\n%s", text)
	}
	if strings.Contains(text, named.String()+" ") || !strings.Contains(text, unnamed.String()) {
		t.Errorf("hosts screen: want the name for %v and the address %v:\n%s", named, unnamed, text)
	}
}

// TestFooterNotes: what hogs cannot see shows first in the footer,
// sanitized, with a count of the others.
func TestFooterNotes(t *testing.T) {
	real := realSnapshot()
	real.Notes = []string{"other users' processes: no cap_sys_ptrace\x1b[31m", "no packets captured in 10s"}
	st := realState()
	g := NewGrid(140, 30)
	Render(g, &real, &st)
	lines := strings.Split(g.Text(), "\n")
	footer := lines[len(lines)-1]
	if footer == "" && len(lines) > 1 {
		footer = lines[len(lines)-2]
	}
	if !strings.Contains(footer, `! other users' processes: no cap_sys_ptrace\x1b[31m (+1 more; see stderr)`) {
		t.Errorf("footer %q lacks the note", footer)
	}
	// A note longer than the line is cut, the count of the others kept;
	// the rest of the footer goes.
	real.Notes = []string{strings.Repeat("a long note wider than the terminal ", 4) + "END", "second", "third"}
	for _, width := range []int{100, 60, 30} {
		g := NewGrid(width, 30)
		Render(g, &real, &st)
		lines := strings.Split(strings.TrimRight(g.Text(), "\n"), "\n")
		footer := strings.TrimRight(lines[len(lines)-1], " ")
		if !strings.HasPrefix(footer, "! a l") || !strings.HasSuffix(footer, "... (+2 more; see stderr)") ||
			len(footer) > width || strings.Contains(footer, "END") {
			t.Errorf("width %d: footer %q, want the note cut to fit with the count of the others", width, footer)
		}
	}
}

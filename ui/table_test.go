package ui

import (
	"strings"
	"testing"
)

// listLines returns the process list's lines of a rendered grid (from
// below the header to the first blank line).
func listLines(g *Grid) []string {
	lines := strings.Split(g.Text(), "\n")
	v := vertical(g.H)
	var out []string
	for _, l := range lines[v.list:] {
		if l == "" || strings.HasPrefix(l, "  TOTAL") {
			break
		}
		out = append(out, l)
	}
	return out
}

// pids returns the PID column of the list lines ("?" for pseudo rows).
func pids(lines []string) []string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.TrimSpace(l[:7]))
	}
	return out
}

// keys applies keys to st with a page of 20 rows; none may quit.
func keys(t *testing.T, st *ViewState, snap *View, ks ...Key) {
	t.Helper()
	if press(st, snap, 20, ks...) {
		t.Fatalf("keys %v quit", ks)
	}
}

func TestSortKeys(t *testing.T) {
	snap := realSnapshot()
	for _, c := range []struct {
		key    rune
		order  SortOrder
		want   string // PIDs top down
		header []string
	}{
		// Rates (kB/s): received 1503906 evil, 72 firefox, ...; sent 1024 curl.
		{'r', SortRecv, "99 2210 7125 31337 812 ? ?", []string{"RECEIVED"}},
		{'s', SortSent, "31337 7125 2210 812 ? ? 99", []string{"SENT"}},
		{'t', SortTotal, "99 31337 2210 7125 812 ? ?", []string{"SENT", "RECEIVED"}},
		{'p', SortPID, "? ? 99 812 2210 7125 31337", []string{"PID"}},
		{'n', SortName, "31337 99 2210 7125 812 ? ?", []string{"PROGRAM"}}, // curl, evil\x1b.., firefox
	} {
		st := realState()
		keys(t, &st, &snap, ch(c.key))
		if st.Order != c.order {
			t.Fatalf("key %c: order %v", c.key, st.Order)
		}
		g := NewGrid(100, 30)
		Render(g, &snap, &st)
		if got := strings.Join(pids(listLines(g)), " "); got != c.want {
			t.Errorf("sort %v: PIDs %s, want %s", c.order, got, c.want)
		}
		// The sorted columns' titles are underlined, no other.
		header := strings.Split(g.Text(), "\n")[2]
		attrs := strings.Split(g.Attrs(), "\n")[2]
		var underlined []string
		for _, title := range []string{"PID", "USER", "PROGRAM", "DEV", "SENT", "RECEIVED"} {
			i := strings.Index(header, title)
			if attrs[i] == 'V' {
				underlined = append(underlined, title)
			}
		}
		if strings.Join(underlined, " ") != strings.Join(c.header, " ") {
			t.Errorf("sort %v: underlined %v, want %v", c.order, underlined, c.header)
		}
		if footer := strings.Split(g.Text(), "\n")[29]; !strings.Contains(footer, "sort: "+c.order.String()+" (s r t p n)") {
			t.Errorf("footer %q", footer)
		}
	}
}

func TestSelectionSticksToProcess(t *testing.T) {
	snap := realSnapshot()
	st := realState()
	keys(t, &st, &snap, Key{Special: KeyDown}, Key{Special: KeyDown}) // third row: python3 (7125)
	if st.SelectedRow.PID != 7125 {
		t.Fatalf("selected %+v, want python3 (7125)", st.SelectedRow)
	}
	selectedPID := func(snap *View) string {
		g := NewGrid(100, 30)
		Render(g, snap, &st)
		lines, attrs := listLines(g), strings.Split(g.Attrs(), "\n")
		for k, l := range lines {
			if g.Cells[(vertical(g.H).list+k)*g.W].Attr&AttrSelected != 0 {
				if !strings.HasPrefix(attrs[vertical(g.H).list+k], "WWW") {
					t.Errorf("selected row looks %q", attrs[vertical(g.H).list+k])
				}
				return strings.TrimSpace(l[:7])
			}
		}
		return ""
	}
	// A refresh where python3 is now the busiest: the selection follows it
	// to the top, not the row position.
	next := realSnapshot()
	for i := range next.Rows {
		if next.Rows[i].PID == 7125 {
			next.Rows[i].RecvRate = 1e12
		}
	}
	if got := selectedPID(&next); got != "7125" {
		t.Errorf("after a refresh the selection is on %s, want 7125", got)
	}
	// Keys move from where the process is now.
	keys(t, &st, &next, Key{Special: KeyDown})
	if got := selectedPID(&next); got != "99" {
		t.Errorf("Down from the top row: on %s, want 99", got)
	}
	// A sort keeps it on its process.
	keys(t, &st, &next, ch('p'))
	if got := selectedPID(&next); got != "99" || st.Selected != 2 {
		t.Errorf("after sorting by PID: on %s at %d, want 99 at 2", got, st.Selected)
	}
	// The process gone: the selection stays at its position.
	gone := realSnapshot()
	gone.Rows = gone.Rows[1:] // 99 was first
	if got := selectedPID(&gone); got != pids(listLinesOf(&gone, &st))[2] {
		t.Errorf("process gone: selection on %s, want the row at position 2", got)
	}
}

func listLinesOf(snap *View, st *ViewState) []string {
	g := NewGrid(100, 30)
	Render(g, snap, st)
	return listLines(g)
}

func TestFilter(t *testing.T) {
	snap := realSnapshot()
	typeText := func(st *ViewState, s string) {
		keys(t, st, &snap, ch('/'))
		for _, r := range s {
			keys(t, st, &snap, ch(r))
		}
	}
	for _, c := range []struct{ text, want string }{
		{"CURL", "31337"},                // program, any case
		{"alexandra", "2210 31337"},      // user
		{"151.101.2", "31337"},           // remote address
		{"10.0.0.77:53311", "812"},       // remote address and port
		{"my server", "7125"},            // command line
		{"unknown", "? ?"},               // pseudo rows
		{"nothing-like-this", ""},        // none
		{" 1000", "99 2210 31337"},       // UID after the user name
		{"[2a01:4f8::20]", "2210"},       // IPv6 in brackets
		{"名前", ""},                       // non-ASCII: no match, no panic
		{"x\x1b[2J", ""},                 // control text typed is ignored
		{`evil\x1b[2J`, "99"},            // the escape as shown
		{strings.Repeat("a", 100), ""},   // bounded
		{"firefox -contentproc", "2210"}, // the joined command line
	} {
		st := realState()
		typeText(&st, c.text)
		// Typed, not applied: the list is whole, the footer shows the text.
		g := NewGrid(100, 30)
		Render(g, &snap, &st)
		if n := len(listLines(g)); n != len(snap.Rows) {
			t.Errorf("%q typed: %d rows before Enter", c.text, n)
		}
		if footer := strings.Split(g.Text(), "\n")[29]; !strings.Contains(footer, "filter: ") || len(c.text) < 20 && !strings.Contains(footer, "Esc: clear") {
			t.Errorf("%q typed: footer %q", c.text, footer)
		}
		keys(t, &st, &snap, Key{Special: KeyEnter})
		if len(st.Filter) > maxFilter {
			t.Errorf("filter %d bytes long", len(st.Filter))
		}
		g = NewGrid(100, 30)
		Render(g, &snap, &st)
		got := strings.Join(pids(listLines(g)), " ")
		if got != c.want {
			t.Errorf("filter %q: rows %q, want %q", c.text, got, c.want)
		}
		// TOTAL sums what the filter keeps.
		if c.want == "31337" {
			if sent, _ := totalLine(t, g); sent != 1024 {
				t.Errorf("filter %q: TOTAL sent %v, want curl's 1024", c.text, sent)
			}
		}
		// Esc on the list clears it.
		keys(t, &st, &snap, Key{Special: KeyEsc})
		if st.Filter != "" || len(listLinesOf(&snap, &st)) != len(snap.Rows) {
			t.Errorf("Esc left filter %q", st.Filter)
		}
	}
	// Esc while typing clears; Backspace edits; q is text while typing.
	st := realState()
	typeText(&st, "cur")
	keys(t, &st, &snap, ch('q'), Key{Special: KeyBackspace}, Key{Special: KeyBackspace}, ch('r'), ch('l'), Key{Special: KeyEnter})
	if st.Filter != "curl" {
		t.Errorf("edited filter %q, want curl", st.Filter)
	}
	typeText(&st, "x")
	keys(t, &st, &snap, Key{Special: KeyEsc})
	if st.Filter != "" || st.editing {
		t.Errorf("Esc while typing: filter %q editing %v", st.Filter, st.editing)
	}
	if !st.HandleKey(Key{Special: KeyCtrlC}, &snap, 20) {
		t.Error("Ctrl-C does not quit")
	}
}

func TestPause(t *testing.T) {
	snap := realSnapshot()
	st := realState()
	keys(t, &st, &snap, ch(' '))
	if !st.Paused {
		t.Fatal("Space does not pause")
	}
	g := NewGrid(100, 30)
	Render(g, &snap, &st)
	footer := strings.Split(g.Text(), "\n")[29]
	if !strings.Contains(footer, "PAUSED (Space: resume)") {
		t.Errorf("paused footer %q", footer)
	}
	// At 20 columns PAUSED stays.
	g = NewGrid(20, 30)
	Render(g, &snap, &st)
	if footer := strings.Split(g.Text(), "\n")[29]; !strings.Contains(footer, "PAUSED") {
		t.Errorf("paused footer at 20 columns %q", footer)
	}
	// The feed: while paused the shown view stays, the latest is kept and
	// shown on resume.
	var f viewFeed
	a, b, c := View{Evictions: 1}, View{Evictions: 2}, View{Evictions: 3}
	f.update(a, false)
	f.update(b, true)
	f.resume(true)
	if f.shown().Evictions != 1 {
		t.Errorf("paused: shows %d, want 1", f.shown().Evictions)
	}
	f.update(c, true)
	f.resume(false)
	if f.shown().Evictions != 3 {
		t.Errorf("resumed: shows %d, want the latest 3", f.shown().Evictions)
	}
	keys(t, &st, &snap, ch(' '))
	if st.Paused {
		t.Error("Space does not resume")
	}
}

// TestNarrowKeepsDigits: at every width each number drawn is whole: the
// columns fit the line, and the number shown is the value to the
// precision its width allows (or '#'s where none fits).
func TestNarrowKeepsDigits(t *testing.T) {
	snap := realSnapshot()
	for _, order := range []SortOrder{SortRecv, SortSent, SortTotal} {
		for w := 1; w <= 120; w++ {
			for _, l := range []layout{processLayout(w, 6, 0, order, GroupProcess), processLayout(w, 6, 14, order, GroupProcess),
				processLayout(w, 6, 14, order, GroupContainer), connectionLayout(w, 20, 26, 6, ModeKBps, order), hostLayout(w, 21, order)} {
				for i := 0; i < l.n; i++ {
					if c := l.c[i]; !c.off && c.x+c.w > w {
						t.Fatalf("order %v width %d: column %q ends at %d", order, w, c.title, c.x+c.w)
					}
				}
			}
			st := realState()
			st.Order = order
			g := NewGrid(w, 30)
			Render(g, &snap, &st)
			l := processLayout(w, 6, 0, order, GroupProcess)
			col := pRecv
			if l.c[pRecv].off {
				col = pSent
			}
			c := l.c[col]
			if c.off {
				t.Fatalf("width %d: no number column", w)
			}
			idx := (&renderScratch{}).visible(snap.Rows, &st)
			for k, line := range strings.Split(g.Text(), "\n")[vertical(30).list:][:len(idx)] {
				r := &snap.Rows[idx[k]]
				s, rv := st.Mode.Values(r)
				want := rv
				if col == pSent {
					want = s
				}
				cell := strings.TrimSpace(string([]rune(line + strings.Repeat(" ", w))[c.x : c.x+c.w]))
				if strings.Trim(cell, "#") == "" && c.w < 5 {
					continue
				}
				if full := string(appendFit(nil, want, c.w)); cell != full {
					t.Fatalf("width %d order %v row %d: %q for %v, want %q", w, order, k, cell, want, full)
				}
			}
		}
	}
	// The case from the report: at 12 columns 9.728 was cut to 9.
	var curl Row
	for _, r := range snap.Rows {
		if r.PID == 31337 {
			curl = r
		}
	}
	one := View{Rows: []Row{curl}}
	one.Rows[0].RecvRate = 9.728 * 1024
	g := NewGrid(12, 8)
	st := ViewState{}
	Render(g, &one, &st)
	if !strings.Contains(g.Text(), "9.728") {
		t.Errorf("12 columns:\n%s", g.Text())
	}
}

func TestModeAuto(t *testing.T) {
	for _, c := range []struct {
		v    float64
		w    int
		want string
	}{
		{0, 11, "0 B"}, {1023, 11, "1023 B"}, {1024, 11, "1.0 KiB"}, {1048575, 11, "1024.0 KiB"},
		{1048575, 9, "1024 KiB"}, {1048575, 7, "1024KiB"}, {5.5 * (1 << 30), 7, "5.5 GiB"}, {3 << 40, 11, "3.0 TiB"},
	} {
		if got := string(appendIECFit(nil, c.v, c.w)); got != c.want {
			t.Errorf("appendIECFit(%v, %d) = %q, want %q", c.v, c.w, got, c.want)
		}
	}
	st := ViewState{}
	snap := realSnapshot()
	for range ModeAuto {
		keys(t, &st, &snap, ch('m'))
	}
	if st.Mode != ModeAuto {
		t.Fatalf("m did not reach auto: %v", st.Mode)
	}
	g := NewGrid(100, 30)
	Render(g, &snap, &st)
	if !strings.Contains(g.Text(), "1.4 GiB /s") || !strings.Contains(g.Text(), "72.0 KiB /s") {
		t.Errorf("auto mode:\n%s", g.Text())
	}
}

func TestASCIIOnly(t *testing.T) {
	snap := hostileSnapshot()
	st := ViewState{Cmdline: true, ASCII: true, Devices: []string{"wlän0"}, Title: "hogs"}
	for _, scr := range []Screen{ScreenProcesses, ScreenConnections, ScreenRemoteHosts} {
		st.Screen, st.Focus = scr, RowIDOf(&snap.Rows[4])
		g := NewGrid(200, 20)
		Render(g, &snap, &st)
		st.Help = !st.Help
		for i, c := range g.Cells {
			if c.Ch >= 0x80 {
				t.Fatalf("screen %d: non-ASCII %q in cell %d:\n%s", scr, c.Ch, i, g.Text())
			}
		}
		if scr == ScreenProcesses && !strings.Contains(g.Text(), `/opt/\u540d\u524d`) {
			t.Errorf("CJK name not escaped:\n%s", g.Text())
		}
	}
}

// TestRoles: the cells say what they show, for colours: sent and received
// numbers, unknown rows, the selected row; the header and TOTAL none.
func TestRoles(t *testing.T) {
	snap := realSnapshot()
	st := realState()
	g := NewGrid(100, 30)
	Render(g, &snap, &st)
	lines := strings.Split(g.Text(), "\n")
	at := func(y int, s string) Attr {
		x := strings.Index(lines[y], s)
		if x < 0 {
			t.Fatalf("%q not on line %d", s, y)
		}
		return g.Cells[y*g.W+x].Attr
	}
	firefox := slicesIndex(lines, "firefox")
	unknown := slicesIndex(lines, "unknown TCP")
	if a := at(firefox, "3.125"); a&AttrSent == 0 || a&AttrRecv != 0 {
		t.Errorf("sent number attr %b", a)
	}
	if a := at(firefox, "72.000"); a&AttrRecv == 0 {
		t.Errorf("received number attr %b", a)
	}
	if a := at(unknown, "unknown"); a&AttrUnknown == 0 {
		t.Errorf("unknown row attr %b", a)
	}
	if a := g.Cells[3*g.W].Attr; a&AttrSelected == 0 {
		t.Errorf("selected row attr %b", a)
	}
	if a := at(2, "PID"); a&^attrLooks != 0 {
		t.Errorf("header has roles %b", a)
	}
	// The terminal's colours for them, and none under NO_COLOR.
	for _, c := range []struct {
		a      Attr
		colour bool
		fg, bg string
	}{
		{AttrSent, true, "green", ""}, {AttrRecv, true, "cyan", ""}, {AttrUnknown, true, "yellow", ""},
		{selectedAttr(true) | AttrSent, true, "white+bold", "blue"}, {AttrReverse, true, "reverse", ""},
		{AttrSent, false, "", ""}, {selectedAttr(true), false, "bold+underline", ""},
	} {
		l := lookOf(c.a, c.colour)
		if got, want := lookName(l.fg, l.looks)+"/"+lookName(l.bg, 0), c.fg+"/"+c.bg; got != want {
			t.Errorf("lookOf(%b, %v) = %s, want %s", c.a, c.colour, got, want)
		}
	}
}

func slicesIndex(lines []string, s string) int {
	for i, l := range lines {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

func TestLocaleAndColour(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, c := range []struct {
		getenv func(string) string
		utf8   bool
	}{
		{env(), false}, {env("LANG", "en_US.UTF-8"), true}, {env("LANG", "de_DE.utf8"), true},
		{env("LC_ALL", "C", "LANG", "en_US.UTF-8"), false}, {env("LC_CTYPE", "C.UTF-8", "LANG", "C"), true},
		{env("LANG", "POSIX"), false},
	} {
		if got := utf8Locale(c.getenv); got != c.utf8 {
			t.Errorf("utf8Locale = %v, want %v", got, c.utf8)
		}
	}
	for term, want := range map[string]bool{"xterm-256color": true, "tmux-256color": true, "linux": true, "vt100": false, "vt220": false, "dumb": false, "": false} {
		if colourTerm(term) != want {
			t.Errorf("colourTerm(%q) = %v", term, !want)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// lookName names a colour (lookOf's numbering) and looks for TestRoles.
func lookName(colour uint8, looks Attr) string {
	var parts []string
	if colour != 0 {
		parts = append(parts, [...]string{"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"}[colour-1])
	}
	for _, f := range []struct {
		a    Attr
		name string
	}{{AttrBold, "bold"}, {AttrUnderline, "underline"}, {AttrReverse, "reverse"}} {
		if looks&f.a != 0 {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "+")
}

package ui

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"hogs/decode"
	"hogs/internal/conntable"
)

// Attr is a set of cell attributes (bit flags).
type Attr uint8

// The cell attributes.
const (
	AttrBold Attr = 1 << iota
	AttrReverse
	AttrUnderline
)

// Cell is one character cell of a Grid. A rune two cells wide (CJK,
// emoji) fills its cell and the next, whose Ch is 0: the continuation.
type Cell struct {
	Ch   rune
	Attr Attr
}

// Grid is a screen's worth of cells, row-major: cell (x, y) is
// Cells[y*W+x]. Render draws into a Grid and keeps its scratch buffers in
// it, so that redrawing into the same Grid allocates nothing.
type Grid struct {
	W, H  int
	Cells []Cell

	sc renderScratch
}

// NewGrid returns a w×h grid of blank cells.
func NewGrid(w, h int) *Grid {
	g := &Grid{}
	g.resize(w, h)
	return g
}

func (g *Grid) resize(w, h int) {
	w, h = max(w, 0), max(h, 0)
	if g.W == w && g.H == h && len(g.Cells) == w*h {
		return
	}
	g.W, g.H = w, h
	if cap(g.Cells) >= w*h {
		g.Cells = g.Cells[:w*h]
	} else {
		g.Cells = make([]Cell, w*h)
	}
	g.clear()
}

func (g *Grid) clear() {
	for i := range g.Cells {
		g.Cells[i] = Cell{Ch: ' '}
	}
}

// Text returns the grid's characters, one line per row (each ending in a
// newline), trailing spaces trimmed; continuation cells are left out, so
// a wide rune shows once.
func (g *Grid) Text() string {
	var b strings.Builder
	for y := 0; y < g.H; y++ {
		line := g.Cells[y*g.W : (y+1)*g.W]
		end := len(line)
		for end > 0 && (line[end-1].Ch == ' ' || line[end-1].Ch == 0) {
			end--
		}
		for _, c := range line[:end] {
			if c.Ch != 0 {
				b.WriteRune(c.Ch)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Attrs returns the grid's attributes in the shape of Text, one character
// per cell (continuation cells included), trailing '.' trimmed: '.' plain,
// 'B' bold, 'R' reverse, 'U' underline, and for combinations 'X' reverse
// and bold, 'V' reverse and underline, 'W' bold and underline, 'Z' all
// three.
func (g *Grid) Attrs() string {
	const letters = ".BRXUWVZ"
	var b strings.Builder
	for y := 0; y < g.H; y++ {
		line := g.Cells[y*g.W : (y+1)*g.W]
		end := len(line)
		for end > 0 && line[end-1].Attr&7 == 0 {
			end--
		}
		for _, c := range line[:end] {
			b.WriteByte(letters[c.Attr&7])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// set writes a one-cell rune at (x, y); outside the grid it does nothing.
// Overwriting either half of a wide rune blanks the other half, so that no
// continuation cell is left without its rune and no rune without its
// continuation.
func (g *Grid) set(x, y int, ch rune, a Attr) {
	if x < 0 || y < 0 || x >= g.W || y >= g.H {
		return
	}
	i := y*g.W + x
	if g.Cells[i].Ch == 0 && x > 0 {
		g.Cells[i-1].Ch = ' '
	}
	if x+1 < g.W && g.Cells[i+1].Ch == 0 {
		g.Cells[i+1].Ch = ' '
	}
	g.Cells[i] = Cell{Ch: ch, Attr: a}
}

// put writes r at (x, y), wide runes over two cells (a space when only one
// is left on the line), and returns the cells it took.
func (g *Grid) put(x, y int, r rune, a Attr) int {
	if !isWide(r) {
		g.set(x, y, r, a)
		return 1
	}
	if x < 0 || y < 0 || y >= g.H {
		return 2
	}
	if x+1 >= g.W {
		g.set(x, y, ' ', a)
		return 2
	}
	// The right cell first: blanking what it overlaps may touch cell x.
	g.set(x+1, y, ' ', a)
	g.set(x, y, r, a)
	g.Cells[y*g.W+x+1] = Cell{Ch: 0, Attr: a}
	return 2
}

// fillLine blanks line y with attribute a.
func (g *Grid) fillLine(y int, a Attr) {
	for x := 0; x < g.W; x++ {
		g.set(x, y, ' ', a)
	}
}

// drawText writes s (display text: see appendDisplay) into the w cells at
// (x, y), left- or right-aligned; when s is wider it is cut and ends in
// "..".
func (g *Grid) drawText(x, y, w int, s []byte, a Attr, right bool) {
	if w <= 0 {
		return
	}
	tw := cellsOf(s)
	if tw > w {
		g.drawCut(x, y, w, s, a)
		return
	}
	if right {
		x += w - tw
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		x += g.put(x, y, r, a)
		i += n
	}
}

// drawString is drawText for a string literal or other safe text.
func (g *Grid) drawString(x, y, w int, s string, a Attr, right bool) {
	var buf [64]byte
	g.drawText(x, y, w, append(buf[:0], s...), a, right)
}

// drawCut writes as much of s as fits in w-2 cells at (x, y), then "..".
func (g *Grid) drawCut(x, y, w int, s []byte, a Attr) {
	if w < 2 {
		if w == 1 {
			g.set(x, y, '.', a)
		}
		return
	}
	keep, used := w-2, 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		c := runeCells(r)
		if used+c > keep {
			break
		}
		g.put(x+used, y, r, a)
		used += c
		i += n
	}
	g.set(x+used, y, '.', a)
	g.set(x+used+1, y, '.', a)
}

// drawNum writes v right-aligned in the w cells at (x, y), as nethogs's
// %11.3f does when it fits, with fewer decimals (then an exponent) when
// it does not.
func (g *Grid) drawNum(x, y, w int, v float64, a Attr) {
	var buf [32]byte
	g.drawText(x, y, w, appendFit(buf[:0], v, w), a, true)
}

// appendFit formats v with three decimals, or fewer or in e-notation when
// that is what it takes to fit in w bytes.
func appendFit(b []byte, v float64, w int) []byte {
	start := len(b)
	for prec := 3; prec >= 0; prec-- {
		b = strconv.AppendFloat(b[:start], v, 'f', prec, 64)
		if len(b)-start <= w {
			return b
		}
	}
	for prec := 2; prec >= 0; prec-- {
		b = strconv.AppendFloat(b[:start], v, 'e', prec, 64)
		if len(b)-start <= w {
			return b
		}
	}
	return b
}

// appendHuman formats a byte count (or rate, with suffix "/s") in binary
// units: "740 B", "12.3 kB/s", "1.4 GB".
func appendHuman(b []byte, v float64, suffix string) []byte {
	unit := "B"
	switch {
	case v >= 1<<40:
		v, unit = v/(1<<40), "TB"
	case v >= 1<<30:
		v, unit = v/(1<<30), "GB"
	case v >= 1<<20:
		v, unit = v/(1<<20), "MB"
	case v >= 1<<10:
		v, unit = v/(1<<10), "kB"
	}
	prec := 1
	if unit == "B" {
		prec = 0
	}
	b = strconv.AppendFloat(b, v, 'f', prec, 64)
	b = append(b, ' ')
	b = append(b, unit...)
	return append(b, suffix...)
}

// appendDisplay appends s as the grid shows it: through AppendSanitized,
// and with runes that take no cell of their own (combining marks, format
// characters, unassigned code points) written as escapes too, so that
// every rune fills one cell, or two for wide ones.
func appendDisplay(b []byte, s string) []byte {
	start := len(b)
	b = AppendSanitized(b, s)
	for i := start; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return escapeZeroWidth(b, start)
		}
	}
	return b
}

func escapeZeroWidth(b []byte, start int) []byte {
	found := false
	for i := start; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if zeroWidth(r) {
			found = true
			break
		}
		i += n
	}
	if !found {
		return b
	}
	mid := len(b)
	for i := start; i < mid; {
		r, n := utf8.DecodeRune(b[i:])
		if zeroWidth(r) {
			b = appendEscape(b, r)
		} else {
			b = append(b, b[i:i+n]...)
		}
		i += n
	}
	n := copy(b[start:], b[mid:])
	return b[:start+n]
}

func appendEscape(b []byte, r rune) []byte {
	const digits = "0123456789abcdef"
	n := 4
	if r > 0xffff {
		b = append(b, `\U`...)
		n = 8
	} else {
		b = append(b, `\u`...)
	}
	for shift := (n - 1) * 4; shift >= 0; shift -= 4 {
		b = append(b, digits[(r>>shift)&0xf])
	}
	return b
}

// zeroWidth reports whether a terminal draws r without a cell of its own,
// or might: such runes would shift the rest of the line.
func zeroWidth(r rune) bool {
	if r < 0x300 {
		return r == 0xad || r < 0x20 || r >= 0x7f && r < 0xa0
	}
	return r >= 0x1160 && r <= 0x11ff || // Hangul medial vowels and final consonants
		!unicode.IsGraphic(r) || unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf)
}

// isWide reports whether r is East Asian wide or fullwidth (two cells),
// per Unicode's EastAsianWidth W and F ranges, emoji included.
func isWide(r rune) bool {
	if r < 0x1100 {
		return false
	}
	switch {
	case r <= 0x115f,
		r == 0x231a, r == 0x231b, r == 0x2329, r == 0x232a,
		r >= 0x23e9 && r <= 0x23ec, r == 0x23f0, r == 0x23f3,
		r == 0x25fd, r == 0x25fe, r == 0x2614, r == 0x2615,
		r >= 0x2648 && r <= 0x2653, r == 0x267f, r == 0x2693, r == 0x26a1,
		r == 0x26aa, r == 0x26ab, r == 0x26bd, r == 0x26be, r == 0x26c4, r == 0x26c5,
		r == 0x26ce, r == 0x26d4, r == 0x26ea, r == 0x26f2, r == 0x26f3, r == 0x26f5,
		r == 0x26fa, r == 0x26fd, r == 0x2705, r == 0x270a, r == 0x270b, r == 0x2728,
		r == 0x274c, r == 0x274e, r >= 0x2753 && r <= 0x2755, r == 0x2757,
		r >= 0x2795 && r <= 0x2797, r == 0x27b0, r == 0x27bf,
		r == 0x2b1b, r == 0x2b1c, r == 0x2b50, r == 0x2b55,
		r >= 0x2e80 && r <= 0x303e,
		r >= 0x3041 && r <= 0x33ff,
		r >= 0x3400 && r <= 0x4dbf,
		r >= 0x4e00 && r <= 0x9fff,
		r >= 0xa000 && r <= 0xa4cf,
		r >= 0xa960 && r <= 0xa97f,
		r >= 0xac00 && r <= 0xd7a3,
		r >= 0xf900 && r <= 0xfaff,
		r >= 0xfe10 && r <= 0xfe19,
		r >= 0xfe30 && r <= 0xfe6f,
		r >= 0xff00 && r <= 0xff60,
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x16fe0 && r <= 0x16fe4,
		r >= 0x17000 && r <= 0x18aff,
		r >= 0x1b000 && r <= 0x1b2ff,
		r == 0x1f004, r == 0x1f0cf, r == 0x1f18e, r >= 0x1f191 && r <= 0x1f19a,
		r >= 0x1f200 && r <= 0x1f251,
		r >= 0x1f300 && r <= 0x1f64f,
		r >= 0x1f680 && r <= 0x1f6ff,
		r >= 0x1f900 && r <= 0x1f9ff,
		r >= 0x1fa70 && r <= 0x1faff,
		r >= 0x20000 && r <= 0x2fffd,
		r >= 0x30000 && r <= 0x3fffd:
		return true
	}
	return false
}

func runeCells(r rune) int {
	if isWide(r) {
		return 2
	}
	return 1
}

// cellsOf returns how many cells display text s takes.
func cellsOf(s []byte) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		n += runeCells(r)
		i += size
	}
	return n
}

// Screen is which list the terminal UI shows.
type Screen uint8

// The screens.
const (
	// ScreenProcesses is nethogs's table: one row per process.
	ScreenProcesses Screen = iota
	// ScreenConnections lists the connections of one process (ViewState.Focus).
	ScreenConnections
	// ScreenRemoteHosts lists remote addresses across all processes.
	ScreenRemoteHosts
)

// ViewState is what the terminal UI shows, apart from the data: the keys
// change it (HandleKey), Render reads it.
type ViewState struct {
	// Mode is the unit of the numbers (m cycles).
	Mode ViewMode
	// Order is the column lists are sorted by, largest first (s, r).
	Order SortOrder
	// Cmdline shows the arguments after the program name (l).
	Cmdline bool
	// Basename shows the program's base name instead of its path (b).
	Basename bool
	// Screen is the list shown (Enter, H, Esc).
	Screen Screen
	// Help shows the key overlay (h, ?).
	Help bool
	// Selected is the index of the selected row in the current list, in
	// display order: a position, as in top and htop, so the process under
	// it changes when a refresh reorders the list.
	Selected int
	// Top is the index of the first row shown (scrolling).
	Top int
	// Focus is the process whose connections ScreenConnections lists.
	Focus RowID
	// Devices are the monitored devices, shown in the title and footer.
	Devices []string
	// Title is the left of the first line, e.g. "hogs 0.1.0"; "hogs" when
	// empty.
	Title string

	// The process list's position while another screen shows, restored
	// by Esc.
	procSelected, procTop int
}

// PageHeight is the number of list rows Render shows on a grid h lines
// high: what HandleKey needs to page and scroll.
func PageHeight(h int) int { return vertical(h).page }

// vlayout places the parts of a screen on its lines (-1: left out).
type vlayout struct {
	title, header, list, footer int
	page                        int  // lines for the list
	gap                         bool // a blank line between the list and TOTAL
	total                       bool
}

// vertical lays out h lines as nethogs does (title, blank, header, rows,
// blank, TOTAL) plus a footer on the last line. When h is small, the
// blank lines go first, then the title, the footer, TOTAL and the header:
// the list keeps at least one line.
func vertical(h int) vlayout {
	title, blank, header, gap, total, footer := true, true, true, true, true, true
	fixed := func() int {
		n := 0
		for _, on := range [...]bool{title, blank, header, gap, total, footer} {
			if on {
				n++
			}
		}
		return n
	}
	for _, drop := range [...]*bool{&blank, &gap, &title, &footer, &total, &header} {
		if fixed()+1 <= h {
			break
		}
		*drop = false
	}
	v := vlayout{title: -1, header: -1, list: 0, footer: -1, gap: gap, total: total}
	y := 0
	if title {
		v.title = y
		y++
	}
	if blank {
		y++
	}
	if header {
		v.header = y
		y++
	}
	v.list = y
	if footer {
		v.footer = h - 1
	}
	v.page = max(h-fixed(), 0)
	return v
}

// clampView keeps the selection inside a list of n rows and the window
// of page rows starting at top around it, and the window inside the list.
func clampView(sel, top, n, page int) (int, int) {
	if n <= 0 {
		return 0, 0
	}
	page = max(page, 1)
	sel = min(max(sel, 0), n-1)
	top = min(max(top, 0), max(n-page, 0))
	if sel < top {
		top = sel
	}
	if sel >= top+page {
		top = sel - page + 1
	}
	return sel, top
}

// column is one column of a table layout.
type column struct {
	title string
	w     int  // width in cells (set by place for flexible columns)
	min   int  // flexible columns: the least width that counts as fitting
	cap   int  // flexible columns: the most width they take (0: no limit)
	gap   int  // blank cells before the column, unless it comes first
	right bool // right-aligned
	flex  bool // takes what the fixed columns leave
	off   bool // not shown
	x     int  // first cell, set by place
}

const maxColumns = 8

// layout is a table's columns, left to right.
type layout struct {
	c [maxColumns]column
	n int
}

// place sets the columns' positions and the flexible columns' widths for
// a line of w cells, sharing the width left equally among the flexible
// columns up to their caps, and reports whether each got its minimum.
func (l *layout) place(w int) bool {
	fixed, first, flexible := 0, true, 0
	for i := 0; i < l.n; i++ {
		c := &l.c[i]
		if c.off {
			continue
		}
		if !first {
			fixed += c.gap
		}
		first = false
		if c.flex {
			c.w = 0
			flexible++
		} else {
			fixed += c.w
		}
	}
	for rest := w - fixed; rest > 0 && flexible > 0; {
		grew := false
		for i := 0; i < l.n && rest > 0; i++ {
			c := &l.c[i]
			if c.off || !c.flex || c.cap > 0 && c.w >= c.cap {
				continue
			}
			c.w++
			rest--
			grew = true
		}
		if !grew {
			break
		}
	}
	x, first, fits := 0, true, true
	for i := 0; i < l.n; i++ {
		c := &l.c[i]
		if c.off {
			continue
		}
		if !first {
			x += c.gap
		}
		first = false
		c.x = x
		x += c.w
		if c.flex && c.w < c.min {
			fits = false
		}
	}
	return fits && x <= w
}

// drawHeader writes the column titles on line y, reverse video over the
// whole width; the title of column sorted (-1: none) is underlined too.
func (g *Grid) drawHeader(y int, l *layout, sorted int) {
	g.fillLine(y, AttrReverse)
	for i := 0; i < l.n; i++ {
		c := &l.c[i]
		if c.off {
			continue
		}
		title := c.title
		if title == "RECEIVED" && c.w < len(title) {
			title = "RECV"
		}
		a := AttrReverse
		if i == sorted {
			a |= AttrUnderline
		}
		if c.right {
			// Underline only the letters, not the padding.
			x := c.x + max(c.w-len(title), 0)
			g.drawString(x, y, min(c.w, len(title)), title, a, true)
		} else {
			g.drawString(c.x, y, c.w, title, a, false)
		}
	}
}

// renderScratch holds Render's buffers between calls.
type renderScratch struct {
	idx        []int32
	sent, recv []float64
	buf, buf2  []byte
}

// order sorts indices of rows as Sort would leave rows (the mode's measure
// of the order's column, largest first, ties by PID then name, stable),
// without moving the rows; sent and recv get each row's values.
func (sc *renderScratch) order(rows []Row, order SortOrder, mode ViewMode) []int32 {
	n := len(rows)
	sc.idx = slices.Grow(sc.idx[:0], n)[:n]
	sc.sent = slices.Grow(sc.sent[:0], n)[:n]
	sc.recv = slices.Grow(sc.recv[:0], n)[:n]
	for i := range rows {
		sc.sent[i], sc.recv[i] = mode.Values(&rows[i])
		sc.idx[i] = int32(i)
	}
	key := sc.recv
	if order == SortSent {
		key = sc.sent
	}
	slices.SortFunc(sc.idx, func(a, b int32) int {
		// Sort's comparison, with early returns (cmp.Or would compare
		// the names every time), and the original position last: a
		// stable sort's result.
		if c := cmp.Compare(key[b], key[a]); c != 0 {
			return c
		}
		if c := cmp.Compare(rows[a].PID, rows[b].PID); c != 0 {
			return c
		}
		if c := strings.Compare(rows[a].Name, rows[b].Name); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return sc.idx
}

// flowValues returns a flow's numbers in the mode's unit.
func flowValues(mode ViewMode, f *conntable.FlowStat) (sent, recv float64) {
	r := Row{Sent: f.Sent, Recv: f.Recv, SentRate: f.SentRate, RecvRate: f.RecvRate}
	return mode.Values(&r)
}

// orderFlows sorts indices of flows by the order's column in the mode's
// measure, largest first, then by the other column, then by key.
func (sc *renderScratch) orderFlows(flows []conntable.FlowStat, order SortOrder, mode ViewMode) []int32 {
	n := len(flows)
	sc.idx = slices.Grow(sc.idx[:0], n)[:n]
	sc.sent = slices.Grow(sc.sent[:0], n)[:n]
	sc.recv = slices.Grow(sc.recv[:0], n)[:n]
	for i := range flows {
		sc.sent[i], sc.recv[i] = flowValues(mode, &flows[i])
		sc.idx[i] = int32(i)
	}
	first, second := sc.recv, sc.sent
	if order == SortSent {
		first, second = second, first
	}
	slices.SortFunc(sc.idx, func(a, b int32) int {
		return cmp.Or(cmp.Compare(first[b], first[a]), cmp.Compare(second[b], second[a]),
			compareKeys(flows[a].Key, flows[b].Key), cmp.Compare(a, b))
	})
	return sc.idx
}

// findRow returns the row with identity id, or nil.
func findRow(snap *View, id RowID) *Row {
	for i := range snap.Rows {
		if RowIDOf(&snap.Rows[i]) == id {
			return &snap.Rows[i]
		}
	}
	return nil
}

// hostRow is one remote address on ScreenRemoteHosts.
type hostRow struct {
	addr       netip.Addr
	traffic    Row // Sent, Recv, SentRate, RecvRate summed over the flows
	sent, recv float64
	conns      int
	procs      []int32 // rows with flows to the address, in display order
}

// remoteHosts aggregates the flows of rows (taken in the order idx) by
// remote address, sorted by the order's column in the mode's measure,
// largest first, then the other column, connections, and address.
func remoteHosts(rows []Row, idx []int32, order SortOrder, mode ViewMode) []hostRow {
	byAddr := map[netip.Addr]int{}
	var hosts []hostRow
	for _, ri := range idx {
		for _, f := range rows[ri].Flows {
			a := f.Key.Remote.Addr().Unmap()
			k, ok := byAddr[a]
			if !ok {
				k = len(hosts)
				byAddr[a] = k
				hosts = append(hosts, hostRow{addr: a})
			}
			h := &hosts[k]
			h.traffic.Sent = h.traffic.Sent.Add(f.Sent)
			h.traffic.Recv = h.traffic.Recv.Add(f.Recv)
			h.traffic.SentRate += f.SentRate
			h.traffic.RecvRate += f.RecvRate
			h.conns++
			if len(h.procs) == 0 || h.procs[len(h.procs)-1] != ri {
				h.procs = append(h.procs, ri)
			}
		}
	}
	for i := range hosts {
		hosts[i].sent, hosts[i].recv = mode.Values(&hosts[i].traffic)
	}
	slices.SortFunc(hosts, func(a, b hostRow) int {
		fa, fb, sa, sb := a.recv, b.recv, a.sent, b.sent
		if order == SortSent {
			fa, fb, sa, sb = sa, sb, fa, fb
		}
		return cmp.Or(cmp.Compare(fb, fa), cmp.Compare(sb, sa), cmp.Compare(b.conns, a.conns), a.addr.Compare(b.addr))
	})
	return hosts
}

// Render draws snap, as st says, into g: every cell of g is written, and
// nothing outside it. It reads snap and st without changing them (rows
// are sorted through an index), so it is a pure function of its inputs;
// a Selected or Top out of range is drawn clamped, the way HandleKey
// would clamp it.
func Render(g *Grid, snap *View, st *ViewState) {
	g.resize(g.W, g.H)
	g.clear()
	if snap == nil {
		snap = &View{}
	}
	if st == nil {
		st = &ViewState{}
	}
	if g.W == 0 || g.H == 0 {
		return
	}
	v := vertical(g.H)
	switch st.Screen {
	case ScreenConnections:
		g.renderConnections(snap, st, v)
	case ScreenRemoteHosts:
		g.renderHosts(snap, st, v)
	default:
		g.renderProcesses(snap, st, v)
	}
	if st.Help {
		g.renderHelp()
	}
}

// The columns of the process table.
const (
	pPID = iota
	pUser
	pProg
	pDev
	pSent
	pRecv
	pUnit
	pColumns
)

// processLayout lays out the process table for w cells: nethogs's columns
// (PID 7, USER 8, PROGRAM, DEV, SENT and RECEIVED 11, unit 6) while the
// program gets 10 cells, then without DEV, USER and the unit column,
// narrower numbers, and finally without PID: something is drawn at any
// width.
func processLayout(w, devW int) layout {
	l := layout{n: pColumns}
	l.c[pPID] = column{title: "PID", w: 7, right: true}
	l.c[pUser] = column{title: "USER", w: 8, gap: 1}
	l.c[pProg] = column{title: "PROGRAM", flex: true, min: 10, gap: 1}
	l.c[pDev] = column{title: "DEV", w: devW, gap: 2}
	l.c[pSent] = column{title: "SENT", w: 11, gap: 1, right: true}
	l.c[pRecv] = column{title: "RECEIVED", w: 11, gap: 1, right: true}
	l.c[pUnit] = column{w: 6, gap: 1}
	for stage := 0; !l.place(w); stage++ {
		switch stage {
		case 0:
			l.c[pDev].off = true
		case 1:
			l.c[pUser].off = true
		case 2:
			l.c[pUnit].off = true
		case 3:
			l.c[pSent].w, l.c[pRecv].w = 9, 9
		case 4:
			l.c[pProg].min = 6
		case 5:
			l.c[pPID].off = true
		case 6:
			l.c[pSent].w, l.c[pRecv].w = 7, 7
		case 7:
			l.c[pProg].min = 1
		default:
			return l
		}
	}
	return l
}

func (g *Grid) renderProcesses(snap *View, st *ViewState, v vlayout) {
	sc := &g.sc
	rows := snap.Rows
	idx := sc.order(rows, st.Order, st.Mode)
	devW := 0
	for i := range rows {
		sc.buf = appendDisplay(sc.buf[:0], rows[i].Device)
		devW = max(devW, cellsOf(sc.buf))
	}
	l := processLayout(g.W, min(max(devW, 6), 8))

	g.drawTitle(v.title, st, snap, nil)
	if v.header >= 0 {
		sorted := pRecv
		if st.Order == SortSent {
			sorted = pSent
		}
		g.drawHeader(v.header, &l, sorted)
	}
	top, shown, sel := g.listWindow(v, st, len(rows))
	for k := 0; k < shown; k++ {
		y := v.list + k
		a := selectedAttr(top+k == sel)
		i := idx[top+k]
		g.processRow(y, &l, &rows[i], sc.sent[i], sc.recv[i], st, a)
	}
	if v.total {
		var sent, recv float64
		for _, i := range idx {
			sent += sc.sent[i]
			recv += sc.recv[i]
		}
		g.drawTotal(v.totalLine(shown), &l, pPID, pSent, pRecv, pUnit, sent, recv, st.Mode)
	}
	g.drawFooter(v.footer, st, snap, "Enter: connections")
}

// listWindow picks the part of an n-row list the screen shows, keeping
// the selection in view: it returns the first row shown, how many are
// shown and the selected row, and paints the selection bar.
func (g *Grid) listWindow(v vlayout, st *ViewState, n int) (top, shown, sel int) {
	sel, top = clampView(st.Selected, st.Top, n, v.page)
	if n > 0 {
		shown = min(v.page, n-top)
	}
	if sel >= top && sel < top+shown {
		g.fillLine(v.list+sel-top, AttrReverse)
	}
	return top, shown, sel
}

// selectedAttr is the attribute of a list row's text.
func selectedAttr(selected bool) Attr {
	if selected {
		return AttrReverse
	}
	return 0
}

// totalLine is where TOTAL goes below shown list rows: right after them
// and a blank line, as nethogs does.
func (v vlayout) totalLine(shown int) int {
	y := v.list + shown
	if v.gap {
		y++
	}
	return y
}

// processRow draws one process row on line y.
func (g *Grid) processRow(y int, l *layout, r *Row, sent, recv float64, st *ViewState, a Attr) {
	sc := &g.sc
	if c := &l.c[pPID]; !c.off {
		if r.Pseudo || r.PID <= 0 {
			g.drawString(c.x, y, c.w, "?", a, true)
		} else {
			sc.buf = strconv.AppendInt(sc.buf[:0], int64(r.PID), 10)
			g.drawText(c.x, y, c.w, sc.buf, a, true)
		}
	}
	if c := &l.c[pUser]; !c.off && !r.Pseudo {
		if r.User != "" {
			sc.buf = appendDisplay(sc.buf[:0], r.User)
		} else {
			sc.buf = strconv.AppendUint(sc.buf[:0], uint64(r.UID), 10)
		}
		// nethogs: a name of 8 or more is cut to 6 and "..".
		if cellsOf(sc.buf) >= c.w {
			g.drawCut(c.x, y, c.w, sc.buf, a)
		} else {
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
	}
	if c := &l.c[pProg]; !c.off {
		sc.buf = appendProgram(sc.buf[:0], r, st.Basename, st.Cmdline)
		g.drawText(c.x, y, c.w, sc.buf, a, false)
	}
	if c := &l.c[pDev]; !c.off {
		sc.buf = appendDisplay(sc.buf[:0], r.Device)
		g.drawText(c.x, y, c.w, sc.buf, a, false)
	}
	g.drawValues(y, l, pSent, pRecv, pUnit, sent, recv, st.Mode, a)
}

// drawValues draws the sent and received numbers and the unit.
func (g *Grid) drawValues(y int, l *layout, sentCol, recvCol, unitCol int, sent, recv float64, mode ViewMode, a Attr) {
	if c := &l.c[sentCol]; !c.off {
		g.drawNum(c.x, y, c.w, sent, a)
	}
	if c := &l.c[recvCol]; !c.off {
		g.drawNum(c.x, y, c.w, recv, a)
	}
	if c := &l.c[unitCol]; !c.off {
		g.drawString(c.x, y, c.w, mode.Unit(), a, false)
	}
}

// drawTotal draws the reverse-video TOTAL line: the label from the first
// column on (with the unit when the unit column is hidden), the sums, the
// unit.
func (g *Grid) drawTotal(y int, l *layout, firstCol, sentCol, recvCol, unitCol int, sent, recv float64, mode ViewMode) {
	g.fillLine(y, AttrReverse)
	x := 0
	end := l.c[sentCol].x - 1
	if l.c[sentCol].off {
		end = g.W
	}
	label := "  TOTAL"
	if l.c[firstCol].off || end-x < len(label) {
		label = "TOTAL"
	}
	if end-x < len(label) {
		label = "TOT"
	}
	g.drawString(x, y, end-x, label, AttrReverse, false)
	if l.c[unitCol].off && end-x >= len(label)+1+len(mode.Unit()) {
		g.drawString(x+len(label)+1, y, len(mode.Unit()), mode.Unit(), AttrReverse, false)
	}
	g.drawValues(y, l, sentCol, recvCol, unitCol, sent, recv, mode, AttrReverse)
}

// appendProgram appends a row's PROGRAM text: the name (its base name
// with basename), then with cmdline the arguments, all sanitized.
func appendProgram(b []byte, r *Row, basename, cmdline bool) []byte {
	if r.Pseudo {
		return appendDisplay(b, r.Name)
	}
	name := r.Name
	if basename {
		name = baseName(name)
	}
	b = appendDisplay(b, name)
	if cmdline && len(r.Cmdline) > 1 {
		for _, arg := range r.Cmdline[1:] {
			b = append(b, ' ')
			b = appendDisplay(b, arg)
		}
	}
	return b
}

// baseName is the part of a path after its last slash (trailing slashes
// aside); the whole name when that is empty.
func baseName(name string) string {
	s := strings.TrimRight(name, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return name
	}
	return s
}

// drawTitle draws line y: the title (bold) and what the screen shows on
// the left, the devices and the refresh interval on the right; the right
// side goes first when the line is short.
func (g *Grid) drawTitle(y int, st *ViewState, snap *View, what []byte) {
	if y < 0 {
		return
	}
	sc := &g.sc
	left := st.Title
	if left == "" {
		left = "hogs"
	}
	sc.buf2 = appendDisplay(sc.buf2[:0], left)
	titleW := cellsOf(sc.buf2)
	if len(what) > 0 {
		sc.buf2 = append(sc.buf2, " - "...)
		sc.buf2 = append(sc.buf2, what...)
	}
	leftW := cellsOf(sc.buf2)
	right := sc.buf[:0]
	for i, d := range st.Devices {
		if i > 0 {
			right = append(right, ' ')
		}
		right = appendDisplay(right, d)
	}
	if snap.Interval > 0 {
		if len(right) > 0 {
			right = append(right, " / "...)
		}
		right = append(right, "every "...)
		right = append(right, snap.Interval.String()...)
	}
	sc.buf = right
	rightW := cellsOf(right)
	g.drawText(0, y, g.W, sc.buf2, 0, false)
	for x := 0; x < min(titleW, g.W); x++ {
		g.Cells[y*g.W+x].Attr = AttrBold
	}
	if rightW > 0 && leftW+2+rightW <= g.W {
		g.drawText(g.W-rightW, y, rightW, right, 0, false)
	}
}

// drawFooter draws the last line: the devices, capture drops, evicted
// flows, the sort, a hint and "h: help"; the least useful parts go first
// when the line is short.
func (g *Grid) drawFooter(y int, st *ViewState, snap *View, hint string) {
	if y < 0 {
		return
	}
	var drops uint64
	for _, c := range snap.Capture {
		drops += c.Dropped
	}
	sortLabel := "sort: received"
	if st.Order == SortSent {
		sortLabel = "sort: sent"
	}
	sc := &g.sc
	// The parts, and the order they are given up in.
	const (
		fDevices = iota
		fEvicted
		fHint
		fSort
		fDrops
		fHelp
		fParts
	)
	var on [fParts]bool
	var parts [fParts][]byte
	b := sc.buf2[:0]
	add := func(i int, part []byte) { parts[i], on[i] = part, len(part) > 0 }
	start := len(b)
	for i, d := range st.Devices {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendDisplay(b, d)
	}
	devices := b[start:]
	start = len(b)
	b = append(b, "drops "...)
	b = strconv.AppendUint(b, drops, 10)
	dropsText := b[start:]
	start = len(b)
	b = append(b, "evicted "...)
	b = strconv.AppendUint(b, snap.Evictions, 10)
	evicted := b[start:]
	start = len(b)
	b = append(b, sortLabel...)
	sortText := b[start:]
	start = len(b)
	b = append(b, hint...)
	hintText := b[start:]
	start = len(b)
	b = append(b, "h: help"...)
	helpPart := b[start:]
	sc.buf2 = b
	add(fDevices, devices)
	add(fEvicted, evicted)
	add(fHint, hintText)
	add(fSort, sortText)
	add(fDrops, dropsText)
	add(fHelp, helpPart)
	order := [fParts]int{fDevices, fDrops, fEvicted, fSort, fHint, fHelp}
	width := func() int {
		n, first := 0, true
		for _, i := range order {
			if on[i] {
				if !first {
					n += 2
				}
				first = false
				n += cellsOf(parts[i])
			}
		}
		return n
	}
	for drop := 0; drop < fParts-1 && width() > g.W; drop++ {
		on[drop] = false
	}
	x, first := 0, true
	for _, i := range order {
		if !on[i] {
			continue
		}
		if !first {
			x += 2
		}
		first = false
		a := Attr(0)
		if i == fDrops && drops > 0 {
			a = AttrBold
		}
		g.drawText(x, y, g.W-x, parts[i], a, false)
		x += cellsOf(parts[i])
	}
}

// The columns of the connection list.
const (
	cProto = iota
	cLocal
	cRemote
	cDev
	cSent
	cRecv
	cUnit
	cExtra
	cColumns
)

func connectionLayout(w, localW, remoteW, devW int, mode ViewMode) layout {
	extra := "RATE"
	if mode.IsRate() {
		extra = "VOLUME"
	}
	l := layout{n: cColumns}
	l.c[cProto] = column{title: "PROTO", w: 5}
	l.c[cLocal] = column{title: "LOCAL", w: localW, gap: 1}
	l.c[cRemote] = column{title: "REMOTE", w: remoteW, gap: 1}
	l.c[cDev] = column{title: "DEV", w: devW, gap: 2}
	l.c[cSent] = column{title: "SENT", w: 11, gap: 1, right: true}
	l.c[cRecv] = column{title: "RECEIVED", w: 11, gap: 1, right: true}
	l.c[cUnit] = column{w: 6, gap: 1}
	l.c[cExtra] = column{title: extra, w: 11, gap: 1, right: true}
	for stage := 0; !l.place(w); stage++ {
		switch stage {
		case 0:
			l.c[cDev].off = true
		case 1:
			l.c[cExtra].off = true
		case 2:
			l.c[cUnit].off = true
		case 3:
			for _, i := range [...]int{cLocal, cRemote} {
				l.c[i].flex, l.c[i].cap, l.c[i].min = true, l.c[i].w, min(l.c[i].w, 15)
			}
		case 4:
			l.c[cSent].w, l.c[cRecv].w = 9, 9
		case 5:
			l.c[cProto].off = true
		case 6:
			l.c[cLocal].min, l.c[cRemote].min = 8, 8
		case 7:
			l.c[cLocal].off = true
		case 8:
			l.c[cSent].w, l.c[cRecv].w = 7, 7
		case 9:
			l.c[cRemote].min = 1
		default:
			return l
		}
	}
	return l
}

// appendEndpoint appends an address and port: IPv4 as a.b.c.d:port, IPv6
// in brackets.
func appendEndpoint(b []byte, ap netip.AddrPort) []byte {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(b)
}

func protoName(p uint8) string {
	switch p {
	case decode.ProtoTCP:
		return "TCP"
	case decode.ProtoUDP:
		return "UDP"
	}
	return "IP"
}

func (g *Grid) renderConnections(snap *View, st *ViewState, v vlayout) {
	sc := &g.sc
	row := findRow(snap, st.Focus)
	var flows []conntable.FlowStat
	what := sc.buf[:0]
	if row != nil {
		flows = row.Flows
		what = append(what, "connections of "...)
		if !row.Pseudo {
			what = strconv.AppendInt(what, int64(row.PID), 10)
			what = append(what, ' ')
		}
		what = appendProgram(what, row, st.Basename, st.Cmdline)
	} else {
		what = append(what, "connections: the process is gone"...)
	}
	// The title needs buf for itself: hand it a copy on the stack when
	// short, else a fresh one (rare).
	var tbuf [256]byte
	g.drawTitle(v.title, st, snap, append(tbuf[:0], what...))

	idx := sc.orderFlows(flows, st.Order, st.Mode)
	localW, remoteW, devW := 5, 6, 0
	for i := range flows {
		sc.buf = appendEndpoint(sc.buf[:0], flows[i].Key.Local)
		localW = max(localW, len(sc.buf))
		sc.buf = appendEndpoint(sc.buf[:0], flows[i].Key.Remote)
		remoteW = max(remoteW, len(sc.buf))
		sc.buf = appendDisplay(sc.buf[:0], flows[i].Device)
		devW = max(devW, cellsOf(sc.buf))
	}
	l := connectionLayout(g.W, localW, remoteW, min(max(devW, 6), 8), st.Mode)
	if v.header >= 0 {
		sorted := cRecv
		if st.Order == SortSent {
			sorted = cSent
		}
		g.drawHeader(v.header, &l, sorted)
	}
	top, shown, sel := g.listWindow(v, st, len(flows))
	for k := 0; k < shown; k++ {
		y := v.list + k
		a := selectedAttr(top+k == sel)
		i := idx[top+k]
		f := &flows[i]
		if c := &l.c[cProto]; !c.off {
			g.drawString(c.x, y, c.w, protoName(f.Key.Proto), a, false)
		}
		if c := &l.c[cLocal]; !c.off {
			sc.buf = appendEndpoint(sc.buf[:0], f.Key.Local)
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
		if c := &l.c[cRemote]; !c.off {
			sc.buf = appendEndpoint(sc.buf[:0], f.Key.Remote)
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
		if c := &l.c[cDev]; !c.off {
			sc.buf = appendDisplay(sc.buf[:0], f.Device)
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
		g.drawValues(y, &l, cSent, cRecv, cUnit, sc.sent[i], sc.recv[i], st.Mode, a)
		if c := &l.c[cExtra]; !c.off {
			if st.Mode.IsRate() {
				sc.buf = appendHuman(sc.buf[:0], float64(f.Sent.Bytes+f.Recv.Bytes), "")
			} else {
				sc.buf = appendHuman(sc.buf[:0], f.SentRate+f.RecvRate, "/s")
			}
			g.drawText(c.x, y, c.w, sc.buf, a, true)
		}
	}
	if v.total {
		var sent, recv float64
		for _, i := range idx {
			sent += sc.sent[i]
			recv += sc.recv[i]
		}
		g.drawTotal(v.totalLine(shown), &l, cProto, cSent, cRecv, cUnit, sent, recv, st.Mode)
	}
	g.drawFooter(v.footer, st, snap, "Esc: back")
}

// The columns of the remote host list.
const (
	hAddr = iota
	hConns
	hSent
	hRecv
	hUnit
	hProcs
	hColumns
)

func hostLayout(w, addrW int) layout {
	l := layout{n: hColumns}
	l.c[hAddr] = column{title: "REMOTE HOST", w: addrW}
	l.c[hConns] = column{title: "CONNS", w: 5, gap: 1, right: true}
	l.c[hSent] = column{title: "SENT", w: 11, gap: 1, right: true}
	l.c[hRecv] = column{title: "RECEIVED", w: 11, gap: 1, right: true}
	l.c[hUnit] = column{w: 6, gap: 1}
	l.c[hProcs] = column{title: "PROCESSES", flex: true, min: 12, gap: 1}
	for stage := 0; !l.place(w); stage++ {
		switch stage {
		case 0:
			l.c[hProcs].off = true
		case 1:
			l.c[hConns].off = true
		case 2:
			l.c[hUnit].off = true
		case 3:
			l.c[hSent].w, l.c[hRecv].w = 9, 9
		case 4:
			l.c[hAddr].flex, l.c[hAddr].cap, l.c[hAddr].min = true, addrW, min(addrW, 8)
		case 5:
			l.c[hSent].w, l.c[hRecv].w = 7, 7
		case 6:
			l.c[hAddr].min = 1
		default:
			return l
		}
	}
	return l
}

func (g *Grid) renderHosts(snap *View, st *ViewState, v vlayout) {
	sc := &g.sc
	rows := snap.Rows
	idx := sc.order(rows, st.Order, st.Mode)
	hosts := remoteHosts(rows, idx, st.Order, st.Mode)
	g.drawTitle(v.title, st, snap, []byte("remote hosts"))
	addrW := 11
	for i := range hosts {
		sc.buf = hosts[i].addr.AppendTo(sc.buf[:0])
		addrW = max(addrW, len(sc.buf))
	}
	l := hostLayout(g.W, addrW)
	if v.header >= 0 {
		sorted := hRecv
		if st.Order == SortSent {
			sorted = hSent
		}
		g.drawHeader(v.header, &l, sorted)
	}
	top, shown, sel := g.listWindow(v, st, len(hosts))
	for k := 0; k < shown; k++ {
		y := v.list + k
		a := selectedAttr(top+k == sel)
		h := &hosts[top+k]
		if c := &l.c[hAddr]; !c.off {
			sc.buf = h.addr.AppendTo(sc.buf[:0])
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
		if c := &l.c[hConns]; !c.off {
			sc.buf = strconv.AppendInt(sc.buf[:0], int64(h.conns), 10)
			g.drawText(c.x, y, c.w, sc.buf, a, true)
		}
		g.drawValues(y, &l, hSent, hRecv, hUnit, h.sent, h.recv, st.Mode, a)
		if c := &l.c[hProcs]; !c.off {
			b := sc.buf[:0]
			for j, ri := range h.procs {
				if j > 0 {
					b = append(b, ", "...)
				}
				r := &rows[ri]
				if r.Pseudo {
					b = appendDisplay(b, r.Name)
					continue
				}
				b = appendDisplay(b, baseName(r.Name))
				b = append(b, '(')
				b = strconv.AppendInt(b, int64(r.PID), 10)
				b = append(b, ')')
			}
			sc.buf = b
			g.drawText(c.x, y, c.w, b, a, false)
		}
	}
	if v.total {
		var sent, recv float64
		for i := range hosts {
			sent += hosts[i].sent
			recv += hosts[i].recv
		}
		g.drawTotal(v.totalLine(shown), &l, hAddr, hSent, hRecv, hUnit, sent, recv, st.Mode)
	}
	g.drawFooter(v.footer, st, snap, "Esc: back")
}

// helpText is the key overlay, one line per key.
const helpText = `hogs keys
q  Ctrl-C       quit
s               sort by sent
r               sort by received
m               next unit: kB/s kB bytes MB MB/s GB/s Mbit/s
l               show or hide the command line
b               show the program's base name or path
Up Down  k j    select the previous or next row
PgUp PgDn       page up or down
Home End  g G   first or last row
Enter  Right    connections of the selected process
H               remote hosts, all processes
Esc  Bksp Left  back to the processes
h  ?            show or hide this help
Ctrl-L          redraw the screen`

// renderHelp draws the key overlay in a box centred over the screen,
// cut to the screen when it is smaller.
func (g *Grid) renderHelp() {
	lines, width := 0, 0
	for rest := helpText; rest != ""; lines++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		width = max(width, len(line))
	}
	bw, bh := min(width+4, g.W), min(lines+2, g.H)
	x0, y0 := (g.W-bw)/2, (g.H-bh)/2
	for y := y0; y < y0+bh; y++ {
		for x := x0; x < x0+bw; x++ {
			ch := ' '
			top, bottom, left, rightEdge := y == y0, y == y0+bh-1, x == x0, x == x0+bw-1
			switch {
			case (top || bottom) && (left || rightEdge):
				ch = '+'
			case top || bottom:
				ch = '-'
			case left || rightEdge:
				ch = '|'
			}
			g.set(x, y, ch, 0)
		}
	}
	y := y0 + 1
	for rest := helpText; rest != "" && y < y0+bh-1; y++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		a := Attr(0)
		if y == y0+1 {
			a = AttrBold
		}
		g.drawString(x0+2, y, bw-4, line, a, false)
	}
}

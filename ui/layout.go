package ui

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

// lastNumber is a layout's last resort when even its narrowest form does
// not fit in w cells: only the number column the order sorts by (received
// unless by sent), then that column alone, as wide as the line.
func (l *layout) lastNumber(w int, order SortOrder, sent, recv int) layout {
	keep, drop := recv, sent
	if order == SortSent {
		keep, drop = sent, recv
	}
	l.c[drop].off = true
	for i := 0; i < l.n && !l.place(w); i++ {
		if i != keep {
			l.c[i].off = true
		}
	}
	if !l.place(w) {
		l.c[keep].w = w
		l.place(w)
	}
	return *l
}

// drawHeader writes the column titles on line y, reverse video over the
// whole width; the titles of the columns sorted by (bit i for column i)
// are underlined too.
func (g *Grid) drawHeader(y int, l *layout, sorted uint16) {
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
		if sorted&(1<<i) != 0 {
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

// listWindow picks the part of an n-row list the screen shows, keeping
// the selection (position sel, window from top) in view: it returns the
// first row shown, how many are shown and the selected row, and paints
// the selection bar.
func (g *Grid) listWindow(v vlayout, sel, top, n int) (int, int, int) {
	sel, top = clampView(sel, top, n, v.page)
	shown := 0
	if n > 0 {
		shown = min(v.page, n-top)
	}
	if sel >= top && sel < top+shown {
		g.fillLine(v.list+sel-top, selectedAttr(true))
	}
	return top, shown, sel
}

// selectedAttr is the attribute of a list row's text: the selected row is
// bold and underlined (the header and TOTAL are reverse video), and a
// terminal with colours gives it a colour of its own.
func selectedAttr(selected bool) Attr {
	if selected {
		return AttrBold | AttrUnderline | AttrSelected
	}
	return 0
}

// sortedColumns are the header bits (see drawHeader) for an order, given
// a table's columns for PID, name, sent and received (-1: none).
func sortedColumns(order SortOrder, pid, name, sent, recv int) uint16 {
	bit := func(i int) uint16 {
		if i < 0 {
			return 0
		}
		return 1 << i
	}
	switch order {
	case SortSent:
		return bit(sent)
	case SortTotal:
		return bit(sent) | bit(recv)
	case SortPID:
		return bit(pid)
	case SortName:
		return bit(name)
	}
	return bit(recv)
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

// drawValues draws the sent and received numbers and the unit.
func (g *Grid) drawValues(y int, l *layout, sentCol, recvCol, unitCol int, sent, recv float64, mode ViewMode, a Attr) {
	if c := &l.c[sentCol]; !c.off {
		g.drawNum(c.x, y, c.w, sent, mode, a|AttrSent)
	}
	if c := &l.c[recvCol]; !c.off {
		g.drawNum(c.x, y, c.w, recv, mode, a|AttrRecv)
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

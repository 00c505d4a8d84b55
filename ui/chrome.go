package ui

import (
	"strconv"
	"unicode/utf8"
)

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
	sc.buf2 = sc.display(sc.buf2[:0], left)
	titleW := cellsOf(sc.buf2)
	if len(what) > 0 {
		sc.buf2 = append(sc.buf2, " - "...)
		sc.buf2 = append(sc.buf2, what...)
	}
	leftW := cellsOf(sc.buf2)
	right := sc.buf[:0]
	for i, d := range devicesOf(snap, st) {
		if i > 0 {
			right = append(right, ' ')
		}
		right = sc.display(right, d)
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

// footerPart is one part of the footer: its text, a shorter form (or
// none), and the levels of shortage at which it takes the shorter form
// and at which it goes.
type footerPart struct {
	long, short     []byte
	shortAt, dropAt int
	bold            bool
}

// drawFooter draws the last line: the devices, capture drops, evicted
// flows, the socket lookups behind (when any), the filter, the sort and its keys, the pause, a hint and
// "h: help"; when the line is short, the least useful parts shorten or
// go first (the devices, which the title shows too), and PAUSED and the
// filter being typed last.
func (g *Grid) drawFooter(y int, st *ViewState, snap *View, hint string) {
	if y < 0 {
		return
	}
	var drops uint64
	for _, c := range snap.Capture {
		drops += c.Dropped
	}
	sc := &g.sc
	b := sc.buf2[:0]
	var parts [12]footerPart
	n := 0
	// add appends a part whose text is what b gained since start.
	add := func(start int, shortLen, shortAt, dropAt int, bold bool) {
		if len(b) == start {
			return
		}
		p := footerPart{long: b[start:], shortAt: shortAt, dropAt: dropAt, bold: bold}
		if shortLen > 0 {
			p.short = b[start : start+shortLen]
		}
		parts[n] = p
		n++
	}
	start := len(b)
	if len(snap.Notes) > 0 {
		// What hogs cannot see, first; it never goes: a note longer than
		// the line is cut ("...") so that the count of the others still
		// shows.
		b = append(b, "! "...)
		b = sc.display(b, snap.Notes[0])
		noteEnd := len(b)
		b = appendMoreNotes(b, len(snap.Notes)-1)
		if over := cellsOf(b[start:]) - g.W; over > 0 {
			keep := cellsOf(b[start:noteEnd]) - over - len("...")
			cut, w := start, 0
			for cut < noteEnd {
				_, size := utf8.DecodeRune(b[cut:])
				if w += cellsOf(b[cut : cut+size]); w > keep {
					break
				}
				cut += size
			}
			b = appendMoreNotes(append(b[:cut], "..."...), len(snap.Notes)-1)
		}
		add(start, 0, 0, 13, true)
	}
	start = len(b)
	for i, d := range devicesOf(snap, st) {
		if i > 0 {
			b = append(b, ' ')
		}
		b = sc.display(b, d)
	}
	add(start, 0, 0, 1, false)
	start = len(b)
	b = append(b, "drops "...)
	b = strconv.AppendUint(b, drops, 10)
	add(start, 0, 0, 8, drops > 0)
	start = len(b)
	b = append(b, "evicted "...)
	b = strconv.AppendUint(b, snap.Evictions, 10)
	add(start, 0, 0, 2, false)
	start = len(b)
	if snap.Pipeline.LookupBacklog > 0 {
		// Flows waiting for a socket lookup: rows may be missing
		// traffic that will show once they are looked up.
		b = append(b, "lookups behind "...)
		b = strconv.AppendInt(b, int64(snap.Pipeline.LookupBacklog), 10)
		add(start, 0, 0, 8, true)
		start = len(b)
	}
	if a := &snap.Pipeline; a.Attributor != "" {
		// Which attributor, and why not the kernel's socket events.
		b = append(b, "attr "...)
		b = append(b, a.Attributor...)
		short := len(b) - start
		if a.AttributorNote != "" {
			b = append(b, " ("...)
			b = sc.display(b, a.AttributorNote)
			b = append(b, ')')
		}
		add(start, short, 5, 2, a.AttributorNote != "")
	}
	start = len(b)
	switch {
	case st.editing:
		b = append(b, "filter: "...)
		b = sc.display(b, st.input)
		b = append(b, '_')
		short := len(b) - start
		b = append(b, " (Enter: apply, Esc: clear)"...)
		add(start, short, 6, 12, true)
	case st.Filter != "":
		b = append(b, "filter: "...)
		b = sc.display(b, st.Filter)
		add(start, 0, 0, 10, true)
	default:
		b = append(b, "/: filter"...)
		add(start, 0, 0, 3, false)
	}
	start = len(b)
	b = append(b, "sort: "...)
	b = append(b, st.Order.String()...)
	short := len(b) - start
	b = append(b, " (s r t p n)"...)
	add(start, short, 6, 7, false)
	start = len(b)
	if !containersBuilt {
	} else if st.Group == GroupProcess {
		// The key, where there is room: the help lists it too.
		b = append(b, "c: group"...)
		add(start, 0, 0, 1, false)
	} else {
		// A grouped list says so as long as the sort does.
		b = append(b, "group: "...)
		b = append(b, st.Group.String()...)
		short = len(b) - start
		b = append(b, " (c)"...)
		add(start, short, 6, 7, true)
	}
	start = len(b)
	if st.Paused {
		b = append(b, "PAUSED (Space: resume)"...)
		add(start, len("PAUSED"), 5, 11, true)
	} else {
		b = append(b, "Space: pause"...)
		add(start, 0, 0, 4, false)
	}
	start = len(b)
	b = append(b, hint...)
	add(start, 0, 0, 5, false)
	start = len(b)
	b = append(b, "h: help"...)
	add(start, 0, 0, 9, false)
	sc.buf2 = b

	text := func(p *footerPart, level int) []byte {
		if level >= p.dropAt {
			return nil
		}
		if p.short != nil && level >= p.shortAt {
			return p.short
		}
		return p.long
	}
	width := func(level int) int {
		w, first := 0, true
		for i := range parts[:n] {
			if t := text(&parts[i], level); len(t) > 0 {
				if !first {
					w += 2
				}
				first = false
				w += cellsOf(t)
			}
		}
		return w
	}
	level := 0
	for level < 12 && width(level) > g.W {
		level++
	}
	x, first := 0, true
	for i := range parts[:n] {
		t := text(&parts[i], level)
		if len(t) == 0 {
			continue
		}
		if !first {
			x += 2
		}
		first = false
		a := Attr(0)
		if parts[i].bold {
			a = AttrBold
		}
		g.drawText(x, y, g.W-x, t, a, false)
		x += cellsOf(t)
	}
}

// appendMoreNotes appends how many more notes there are than the footer
// shows, if any.
func appendMoreNotes(b []byte, more int) []byte {
	if more <= 0 {
		return b
	}
	b = append(b, " (+"...)
	b = strconv.AppendInt(b, int64(more), 10)
	return append(b, " more; see stderr)"...)
}

// devicesOf is what the title and footer name: the refresh's devices, or
// the view state's when the refresh has none (a replay).
func devicesOf(v *View, st *ViewState) []string {
	if v.Devices != nil {
		return v.Devices
	}
	return st.Devices
}

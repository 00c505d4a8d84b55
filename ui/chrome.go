package ui

import "strconv"

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

package ui

import (
	"strconv"
	"unicode/utf8"
)

// look is how a cell is drawn: its looks (bold, reverse, underline) and
// colours, 0 for the terminal's default, else the ANSI colour number + 1
// (termbox's numbering).
type look struct {
	fg, bg uint8
	looks  Attr
}

// The colours the table uses (ANSI number + 1).
const (
	colourGreen  = 3
	colourYellow = 4
	colourBlue   = 5
	colourCyan   = 7
	colourWhite  = 8
)

// lookOf maps a cell's attributes to a look: the looks as they are, and
// with colour the roles: sent numbers green, received cyan, unknown rows
// yellow, the selected row white on blue (instead of its underline).
func lookOf(a Attr, colour bool) look {
	l := look{looks: a & attrLooks}
	if colour {
		switch {
		case a&AttrSelected != 0:
			l.fg, l.bg = colourWhite, colourBlue
			l.looks &^= AttrUnderline
		case a&AttrReverse != 0:
			// The header and TOTAL: reverse video, uncoloured.
		case a&AttrSent != 0:
			l.fg = colourGreen
		case a&AttrRecv != 0:
			l.fg = colourCyan
		case a&AttrUnknown != 0:
			l.fg = colourYellow
		}
	}
	return l
}

// ansiScreen turns grids into what an ANSI (xterm, Linux console)
// terminal needs to show them: each frame writes only the runs of cells
// that changed since the last, each after a cursor move (CUP), with SGR
// for the looks and colours. The first frame, and one after a change of
// size or colour or after redraw, clears the screen and writes every cell
// that is not blank.
type ansiScreen struct {
	prev   []Cell
	w, h   int
	valid  bool // prev is on the screen
	colour bool // as prev was drawn
	cur    look // the SGR state the terminal is in
	out    []byte
}

// redraw makes the next frame start from a cleared screen.
func (a *ansiScreen) redraw() { a.valid = false }

// frame returns the bytes that bring the terminal from the last frame to
// g (valid until the next call).
func (a *ansiScreen) frame(g *Grid, colour bool) []byte {
	a.out = a.out[:0]
	if !a.valid || g.W != a.w || g.H != a.h || colour != a.colour {
		// Clear with the default background: reset the SGR first.
		a.out = append(a.out, "\x1b[0m\x1b[2J"...)
		a.cur = look{}
		a.w, a.h, a.valid, a.colour = g.W, g.H, true, colour
		if cap(a.prev) < len(g.Cells) {
			a.prev = make([]Cell, len(g.Cells))
		}
		a.prev = a.prev[:len(g.Cells)]
		for i := range a.prev {
			a.prev[i] = Cell{Ch: ' '}
		}
	}
	for y := 0; y < g.H; y++ {
		row, old := g.Cells[y*g.W:(y+1)*g.W], a.prev[y*g.W:(y+1)*g.W]
		x0, x1 := 0, g.W-1
		for x0 <= x1 && row[x0] == old[x0] {
			x0++
		}
		if x0 > x1 {
			continue
		}
		for row[x1] == old[x1] {
			x1--
		}
		// Whole wide runes: from the first cell of one the run starts
		// in (new or old), to the last cell of one it ends in.
		for x0 > 0 && (row[x0].Ch == 0 || old[x0].Ch == 0) {
			x0--
		}
		for x1+1 < g.W && (row[x1+1].Ch == 0 || old[x1+1].Ch == 0) {
			x1++
		}
		a.out = append(a.out, "\x1b["...)
		a.out = strconv.AppendInt(a.out, int64(y+1), 10)
		a.out = append(a.out, ';')
		a.out = strconv.AppendInt(a.out, int64(x0+1), 10)
		a.out = append(a.out, 'H')
		for _, c := range row[x0 : x1+1] {
			if c.Ch == 0 {
				continue // the second cell of a wide rune, written with it
			}
			if l := lookOf(c.Attr, colour); l != a.cur {
				a.sgr(l)
			}
			ch := c.Ch
			if ch < 0x20 || ch >= 0x7f && ch < 0xa0 {
				ch = ' ' // Render sanitizes; a control would move the cursor
			}
			a.out = utf8.AppendRune(a.out, ch)
		}
		copy(old, row)
	}
	return a.out
}

// sgr sets the terminal's looks and colours to l.
func (a *ansiScreen) sgr(l look) {
	a.out = append(a.out, "\x1b[0"...)
	for i, on := range [...]bool{l.looks&AttrBold != 0, l.looks&AttrUnderline != 0, l.looks&AttrReverse != 0} {
		if on {
			a.out = append(a.out, ';', "147"[i])
		}
	}
	for i, c := range [...]uint8{l.fg, l.bg} {
		if c != 0 {
			a.out = append(a.out, ';', "34"[i], '0'+c-1)
		}
	}
	a.out = append(a.out, 'm')
	a.cur = l
}

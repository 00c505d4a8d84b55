package ui

import (
	"strings"
	"unicode/utf8"
)

// Attr is a set of cell attributes (bit flags): how the cell looks on
// any terminal (bold, reverse, underline), and what it shows (the roles:
// sent, received, unknown, selected), which a terminal with colours may
// colour (see the terminal UI); Render itself knows no colours.
type Attr uint8

// The cell attributes.
const (
	AttrBold Attr = 1 << iota
	AttrReverse
	AttrUnderline
	// The roles.
	AttrSent     // a sent number
	AttrRecv     // a received number
	AttrUnknown  // a row of traffic no process owns
	AttrSelected // the selected row
)

// attrLooks are the attributes every terminal shows.
const attrLooks = AttrBold | AttrReverse | AttrUnderline

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

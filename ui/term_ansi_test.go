package ui

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// vt is a tiny terminal emulator for the tests: as much of xterm as
// ansiScreen should use (CUP, ED 2, SGR 0/1/4/7/3x/4x, UTF-8 text with
// wide runes by isWide, no wrapping) and an error for anything else.
type vt struct {
	t     *testing.T
	w, h  int
	x, y  int
	cur   look
	cells []vtCell
}

type vtCell struct {
	ch rune // 0: the second cell of a wide rune
	l  look
}

func newVT(t *testing.T, w, h int) *vt {
	v := &vt{t: t, w: w, h: h, cells: make([]vtCell, w*h)}
	v.clear()
	return v
}

func (v *vt) clear() {
	for i := range v.cells {
		v.cells[i] = vtCell{ch: ' ', l: v.cur}
	}
}

// put writes one cell; overwriting half of a wide rune blanks the other
// half, as xterm does.
func (v *vt) put(x int, c vtCell) {
	row := v.cells[v.y*v.w : (v.y+1)*v.w]
	if row[x].ch == 0 && x > 0 {
		row[x-1].ch = ' '
	}
	if x+1 < v.w && row[x+1].ch == 0 {
		row[x+1].ch = ' '
	}
	row[x] = c
}

func (v *vt) write(b []byte) {
	v.t.Helper()
	for len(b) > 0 {
		if b[0] == 0x1b {
			if len(b) < 3 || b[1] != '[' {
				v.t.Fatalf("unknown escape %q", b)
			}
			i := 2
			for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == ';' || b[i] == '?') {
				i++
			}
			if i == len(b) {
				v.t.Fatalf("unfinished sequence %q", b)
			}
			v.csi(string(b[2:i]), b[i])
			b = b[i+1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r < 0x20 || r == utf8.RuneError {
			v.t.Fatalf("control or invalid byte in the text: %q", b)
		}
		b = b[n:]
		cells := runeCells(r)
		if v.x+cells > v.w || v.y >= v.h {
			v.t.Fatalf("%q written at (%d,%d) of %dx%d: it would wrap", r, v.x, v.y, v.w, v.h)
		}
		v.put(v.x, vtCell{ch: r, l: v.cur})
		if cells == 2 {
			v.put(v.x+1, vtCell{ch: 0, l: v.cur})
		}
		v.x += cells
	}
}

func (v *vt) csi(params string, fin byte) {
	v.t.Helper()
	var nums []int
	for _, p := range strings.Split(params, ";") {
		n, _ := strconv.Atoi(p)
		nums = append(nums, n)
	}
	switch {
	case fin == 'H' && len(nums) == 2:
		v.y, v.x = nums[0]-1, nums[1]-1
		if v.x < 0 || v.y < 0 || v.x >= v.w || v.y >= v.h {
			v.t.Fatalf("cursor moved off the screen: %q", params)
		}
	case fin == 'J' && params == "2":
		v.clear()
	case fin == 'm':
		v.cur = look{}
		for _, n := range nums {
			switch {
			case n == 0:
				v.cur = look{}
			case n == 1:
				v.cur.looks |= AttrBold
			case n == 4:
				v.cur.looks |= AttrUnderline
			case n == 7:
				v.cur.looks |= AttrReverse
			case n >= 30 && n <= 37:
				v.cur.fg = uint8(n-30) + 1
			case n >= 40 && n <= 47:
				v.cur.bg = uint8(n-40) + 1
			default:
				v.t.Fatalf("SGR %d", n)
			}
		}
	default:
		v.t.Fatalf("unexpected CSI %q%c", params, fin)
	}
}

// check fails unless the emulated screen shows g as the table draws it.
func (v *vt) check(g *Grid, colour bool, what string) {
	v.t.Helper()
	if v.w != g.W || v.h != g.H {
		v.t.Fatalf("%s: screen %dx%d, grid %dx%d", what, v.w, v.h, g.W, g.H)
	}
	for i, c := range g.Cells {
		if got := v.cells[i]; got.ch != c.Ch || c.Ch != 0 && got.l != lookOf(c.Attr, colour) {
			v.t.Fatalf("%s: cell (%d,%d) is %q %+v, want %q %+v; the grid:\n%s", what, i%g.W, i/g.W, got.ch, got.l, c.Ch, lookOf(c.Attr, colour), g.Text())
		}
	}
}

// TestANSIBytes: the bytes of a first frame, of the same frame again
// (none) and of one cell changed (a cursor move and that cell).
func TestANSIBytes(t *testing.T) {
	g := NewGrid(4, 2)
	g.put(0, 0, 'h', AttrSent)
	g.put(1, 0, 'i', AttrSent)
	g.put(0, 1, '名', 0)
	g.put(2, 1, 'x', AttrReverse|AttrBold)
	var a ansiScreen
	for _, c := range []struct {
		change func()
		colour bool
		want   string
	}{
		{nil, true, "\x1b[0m\x1b[2J\x1b[1;1H\x1b[0;32mhi\x1b[2;1H\x1b[0m名\x1b[0;1;7mx"},
		{nil, true, ""},
		{func() { g.put(1, 0, 'o', AttrSent) }, true, "\x1b[1;2H\x1b[0;32mo"},
		{func() { g.put(1, 1, 'y', 0) }, true, "\x1b[2;1H\x1b[0m y"}, // half a wide rune: the whole rune's cells
		{func() { a.redraw() }, false, "\x1b[0m\x1b[2J\x1b[1;1Hho\x1b[2;2Hy\x1b[0;1;7mx"},
		{func() { g.put(3, 0, '!', selectedAttr(true)) }, false, "\x1b[1;4H\x1b[0;1;4m!"},
		{nil, true, "\x1b[0m\x1b[2J\x1b[1;1H\x1b[0;32mho\x1b[0m \x1b[0;1;37;44m!\x1b[2;2H\x1b[0my\x1b[0;1;7mx"}, // colours on: all again
	} {
		if c.change != nil {
			c.change()
		}
		if got := string(a.frame(g, c.colour)); got != c.want {
			t.Errorf("frame:\n got %q\nwant %q", got, c.want)
		}
	}
}

// TestANSIFrames: frame after frame (keys, a new snapshot, resizes, a
// redraw, wide runes, colours on and off), the emulated terminal shows
// exactly the grid, and frames write only what changed.
func TestANSIFrames(t *testing.T) {
	snap, other := realSnapshot(), hostileSnapshot()
	st := realState()
	var a ansiScreen
	var v *vt
	g := NewGrid(0, 0)
	frame := func(w, h int, snap *View, colour bool, what string) int {
		g.resize(w, h)
		Render(g, snap, &st)
		if v == nil || v.w != w || v.h != h {
			v = newVT(t, w, h)
		}
		out := a.frame(g, colour)
		v.write(out)
		v.check(g, colour, what)
		return len(out)
	}
	full := frame(100, 30, &snap, true, "first frame")
	if n := frame(100, 30, &snap, true, "same frame"); n != 0 {
		t.Errorf("an unchanged frame wrote %d bytes", n)
	}
	st.HandleKey(Key{Special: KeyDown}, &snap, PageHeight(30))
	if n := frame(100, 30, &snap, true, "selection moved"); n == 0 || n > full/4 {
		t.Errorf("moving the selection wrote %d bytes (a full frame %d)", n, full)
	}
	for _, k := range []Key{{Ch: 't'}, {Ch: 'm'}, {Special: KeyEnter}, {Special: KeyEsc}, {Ch: 'H'}, {Ch: 'h'}, {Ch: 'h'}, {Special: KeyLeft}} {
		st.HandleKey(k, &snap, PageHeight(30))
		frame(100, 30, &snap, true, "after key "+evName(termEvent{key: k}))
	}
	frame(100, 30, &other, true, "wide runes and escapes")
	frame(100, 30, &snap, false, "no colour")
	frame(41, 9, &snap, true, "resized smaller")
	frame(120, 40, &other, true, "resized larger")
	a.redraw()
	frame(120, 40, &other, true, "redrawn")
	frame(1, 1, &snap, true, "one cell")
}

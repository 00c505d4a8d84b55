package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"hogs/internal/flow"
)

// termboxWidth is how many cells termbox.Flush advances over a cell
// holding r (its rule in api.go: runewidth's width, with zero-width and
// East Asian ambiguous runes drawn in one cell).
func termboxWidth(r rune) int {
	w := runewidth.RuneWidth(r)
	if w == 0 || w == 2 && runewidth.IsAmbiguousWidth(r) {
		return 1
	}
	return w
}

// trickyRunes are code points where a width table can go wrong: ones the
// old hand-written table had wrong (U+3248 ambiguous, not wide; U+16FF0
// and U+18B00 wide), ambiguous ones, wide ones, emoji, and the zero-width
// kinds that must come out as escapes.
var trickyRunes = []rune{
	'é', 0xa1, 0x2764, 0x3248, 0x324f, 0x16ff0, 0x18b00, 0x4e00, 0xac00, 0xff01, 0x3000,
	0x1f680, 0x1f1e6, 0xe000, 0x303f, 0x2e3a, 0x1f3fb,
	0x301, 0x200b, 0x200d, 0xfe0f, 0x1160, 0x378, 0xad, 0xe0001,
}

// TestDrawnWidthIsRunewidth renders a process row whose name holds each
// tricky rune and walks the line as termbox.Flush does (advancing by
// runewidth's width of each cell's rune): every cell it lands on must hold
// a rune, not a continuation, and it must land on every rune, so the
// terminal shows the row where Render put it. The rune takes the cells
// runewidth gives it, or, if it takes none, its escape is shown.
func TestDrawnWidthIsRunewidth(t *testing.T) {
	for _, r := range trickyRunes {
		t.Run(fmt.Sprintf("%U", r), func(t *testing.T) {
			name := "a" + string(r) + "b"
			snap := View{Rows: []Row{{Process: flow.Process{PID: 42, Name: name, User: "root"}, Owner: 1, Device: "eth0"}}}
			st := ViewState{}
			g := NewGrid(80, 10)
			Render(g, &snap, &st)
			v := vertical(g.H)
			line := g.Cells[v.list*g.W : (v.list+1)*g.W]
			landed := make([]bool, len(line))
			for x := 0; x < len(line); {
				if line[x].Ch == 0 {
					t.Fatalf("termbox would land on continuation cell %d: %q", x, g.Text())
				}
				landed[x] = true
				x += termboxWidth(line[x].Ch)
			}
			for x, c := range line {
				if c.Ch != 0 && !landed[x] {
					t.Fatalf("termbox would skip the rune %q in cell %d", c.Ch, x)
				}
			}
			row := strings.Split(g.Text(), "\n")[v.list]
			start := strings.Index(row, "a")
			end := strings.Index(row[start:], "b")
			if start < 0 || end < 0 {
				t.Fatalf("name not drawn: %q", row)
			}
			shown := row[start+1 : start+end]
			cells := 0
			for x := range line {
				if line[x].Ch == 'b' && x > 0 {
					cells = x - cellIndex(line, 'a') - 1
					break
				}
			}
			if runewidth.RuneWidth(r) == 0 || zeroWidth(r) {
				if !strings.HasPrefix(shown, `\u`) && !strings.HasPrefix(shown, `\U`) && !strings.HasPrefix(shown, `\x`) {
					t.Errorf("zero-width %U shown as %q, want an escape", r, shown)
				}
				if cells != len(shown) {
					t.Errorf("escape %q takes %d cells", shown, cells)
				}
				return
			}
			if shown != string(r) || cells != termboxWidth(r) {
				t.Errorf("%U shown as %q in %d cells, want itself in %d", r, shown, cells, termboxWidth(r))
			}
		})
	}
}

func cellIndex(line []Cell, ch rune) int {
	for i, c := range line {
		if c.Ch == ch {
			return i
		}
	}
	return -1
}

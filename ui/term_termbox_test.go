//go:build !hogs_small

package ui

import (
	"testing"

	"github.com/nsf/termbox-go"
)

// TestTermboxStyle: termbox gets lookOf's colours (termbox numbers them
// as lookOf does) and looks.
func TestTermboxStyle(t *testing.T) {
	for _, c := range []struct {
		a      Attr
		colour bool
		fg, bg termbox.Attribute
	}{
		{AttrSent, true, termbox.ColorGreen, 0}, {AttrRecv, true, termbox.ColorCyan, 0},
		{AttrUnknown, true, termbox.ColorYellow, 0},
		{selectedAttr(true), true, termbox.ColorWhite | termbox.AttrBold, termbox.ColorBlue},
		{AttrReverse | AttrSent, true, termbox.AttrReverse, 0},
		{selectedAttr(true), false, termbox.AttrBold | termbox.AttrUnderline, 0},
	} {
		if fg, bg := cellStyle(c.a, c.colour); fg != c.fg || bg != c.bg {
			t.Errorf("cellStyle(%b, %v) = %v/%v, want %v/%v", c.a, c.colour, fg, bg, c.fg, c.bg)
		}
	}
}

func TestDescribeError(t *testing.T) {
	for _, c := range []struct {
		err  string
		want bool
	}{
		{"termbox: error while reading terminfo data: EOF", true}, {"termbox: unsupported terminal", true},
		{"termbox: TERM not set", true}, {"open /dev/tty: no such device or address", false},
	} {
		if describeError(errorString(c.err)) != c.want {
			t.Errorf("describeError(%q) = %v", c.err, !c.want)
		}
	}
}

package ui

import (
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

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

// display is appendDisplay, with every rune outside ASCII escaped too
// when the terminal is not UTF-8 (sc.ascii).
func (sc *renderScratch) display(b []byte, s string) []byte {
	start := len(b)
	b = appendDisplay(b, s)
	if sc.ascii {
		b = escapeWhere(b, start, nonASCII)
	}
	return b
}

func nonASCII(r rune) bool { return r >= utf8.RuneSelf }

func escapeZeroWidth(b []byte, start int) []byte { return escapeWhere(b, start, zeroWidth) }

// escapeWhere rewrites b[start:] with the runes for which escape says so
// written as escapes (\u200b), in place but for the escapes' growth.
func escapeWhere(b []byte, start int, escape func(rune) bool) []byte {
	found := false
	for i := start; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if escape(r) {
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
		if escape(r) {
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
// or might: such runes would shift the rest of the line. runewidth (the
// table termbox draws with) says which take no cell; combining and
// format characters and unassigned code points are escaped as well,
// whatever a given version of the table says of them.
func zeroWidth(r rune) bool {
	if r < 0x300 {
		return r == 0xad || r < 0x20 || r >= 0x7f && r < 0xa0
	}
	return runewidth.RuneWidth(r) == 0 ||
		r >= 0x1160 && r <= 0x11ff || // Hangul medial vowels and final consonants
		!unicode.IsGraphic(r) || unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf)
}

// isWide reports whether r takes two cells, by termbox's own rule: what
// runewidth says is two cells wide, except the East Asian ambiguous runes,
// which termbox draws in one cell whatever the locale.
func isWide(r rune) bool {
	return r >= 0x1100 && runewidth.RuneWidth(r) == 2 && !runewidth.IsAmbiguousWidth(r)
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

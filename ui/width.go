package ui

import (
	"unicode"
	"unicode/utf8"
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

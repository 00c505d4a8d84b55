package ui

import "unicode/utf8"

// AppendSanitized appends s to b with everything that could act on a
// terminal made visible: C0 and C1 control characters (ESC, CR, BEL, ...),
// DEL and invalid UTF-8 are written as Go-style escapes (\x1b, \u009b);
// printable text, spaces and slashes pass unchanged. Names and command
// lines from /proc go through it before they reach any output.
func AppendSanitized(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if c == '\\' {
			b = append(b, '\\', '\\')
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b = append(b, `\x`...)
			b = appendHex2(b, c)
		case r < 0x20 || r == 0x7f:
			b = append(b, `\x`...)
			b = appendHex2(b, byte(r))
		case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029, r == 0xfeff, r == 0x200e, r == 0x200f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // line breaks, BOM, bidi controls
			b = append(b, `\u`...)
			b = appendHex4(b, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// Sanitized is AppendSanitized returning a string.
func Sanitized(s string) string { return string(AppendSanitized(nil, s)) }

func appendHex2(b []byte, c byte) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[c>>4], digits[c&0xf])
}

// appendHex4 appends the four hex digits of r (at most 0xffff), without
// allocating: the table draws sanitized names on every refresh.
func appendHex4(b []byte, r rune) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[r>>12&0xf], digits[r>>8&0xf], digits[r>>4&0xf], digits[r&0xf])
}

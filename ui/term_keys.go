package ui

import "unicode/utf8"

// termEvent is what a terminal driver hands the table's loop: a key, the
// two keys the loop handles itself (Ctrl-L, Ctrl-Z), or an input error.
type termEvent struct {
	kind termEventKind
	key  Key
	err  error
}

type termEventKind uint8

const (
	evKey     termEventKind = iota
	evRedraw                // Ctrl-L
	evSuspend               // Ctrl-Z
	evError
)

// maxCSI bounds a control sequence: one that has not ended within it is
// dropped, so that what waits for more bytes stays small.
const maxCSI = 32

// parseKey reads the key at the start of b (not empty), the bytes a
// terminal sends for the table's keys as xterm and the Linux console send
// them: characters (UTF-8), Enter (CR or LF), Backspace (DEL or BS),
// Ctrl-C, Ctrl-L, Ctrl-Z, Esc, and the arrows, Home, End, PgUp and PgDn as
// CSI or SS3 sequences (modifiers ignored). n is the bytes it took; ok
// false means they are no key the table knows (other control characters
// and sequences, invalid UTF-8). n is 0 only when b may be the start of a
// longer sequence and more bytes may follow (!final); with final an
// unfinished sequence is Esc followed by its other bytes as typed, an
// unfinished rune an invalid byte.
func parseKey(b []byte, final bool) (ev termEvent, n int, ok bool) {
	c := b[0]
	switch {
	case c == 0x1b:
		return parseEsc(b, final)
	case c == '\r' || c == '\n':
		return special(KeyEnter), 1, true
	case c == 0x7f || c == 0x08:
		return special(KeyBackspace), 1, true
	case c == 0x03:
		return special(KeyCtrlC), 1, true
	case c == 0x0c:
		return termEvent{kind: evRedraw}, 1, true
	case c == 0x1a:
		return termEvent{kind: evSuspend}, 1, true
	case c < 0x20:
		return termEvent{}, 1, false
	case c < utf8.RuneSelf:
		return termEvent{key: Key{Ch: rune(c)}}, 1, true
	}
	if !final && !utf8.FullRune(b) {
		return termEvent{}, 0, false
	}
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError && size == 1 || r < 0xa0 { // invalid, or a C1 control
		return termEvent{}, size, false
	}
	return termEvent{key: Key{Ch: r}}, size, true
}

func special(k SpecialKey) termEvent { return termEvent{key: Key{Special: k}} }

// parseEsc is parseKey for b starting with ESC: CSI (ESC [) and SS3
// (ESC O) sequences; ESC before anything else is Esc, the next byte a key
// of its own (Alt+x arrives as Esc, x).
func parseEsc(b []byte, final bool) (termEvent, int, bool) {
	if len(b) == 1 || b[1] == 'O' && len(b) == 2 {
		if final {
			return special(KeyEsc), 1, true
		}
		return termEvent{}, 0, false
	}
	switch b[1] {
	case 'O':
		switch b[2] {
		case 'A', 'B', 'C', 'D', 'H', 'F':
			return special(cursorKey(b[2])), 3, true
		case 'M': // the keypad's Enter
			return special(KeyEnter), 3, true
		}
		return termEvent{}, 3, false
	case '[':
	default:
		return special(KeyEsc), 1, true
	}
	// Parameter and intermediate bytes, then one final byte.
	i := 2
	for i < len(b) && i < maxCSI && b[i] >= 0x20 && b[i] <= 0x3f {
		i++
	}
	switch {
	case i == maxCSI:
		return termEvent{}, i, false
	case i == len(b) && final:
		return special(KeyEsc), 1, true
	case i == len(b):
		return termEvent{}, 0, false
	case b[i] < 0x40 || b[i] > 0x7e:
		// Not a sequence after all: what came before is dropped and
		// the byte read on its own.
		return termEvent{}, i, false
	}
	n := i + 1
	switch fin := b[i]; fin {
	case 'A', 'B', 'C', 'D', 'H', 'F':
		return special(cursorKey(fin)), n, true
	case '~':
		// ESC [ number ~ (then ;modifier): the first number says which.
		num := 0
		for _, d := range b[2:i] {
			if d < '0' || d > '9' || num > 99 {
				break
			}
			num = num*10 + int(d-'0')
		}
		switch num {
		case 1, 7:
			return special(KeyHome), n, true
		case 4, 8:
			return special(KeyEnd), n, true
		case 5:
			return special(KeyPgUp), n, true
		case 6:
			return special(KeyPgDn), n, true
		}
	}
	return termEvent{}, n, false
}

// cursorKey is the key of a CSI or SS3 sequence's final letter.
func cursorKey(fin byte) SpecialKey {
	switch fin {
	case 'A':
		return KeyUp
	case 'B':
		return KeyDown
	case 'C':
		return KeyRight
	case 'D':
		return KeyLeft
	case 'H':
		return KeyHome
	}
	return KeyEnd
}

// keyReader gathers what a terminal sends, read after read, into keys: a
// sequence split over reads waits in buf for the rest.
type keyReader struct {
	buf [256]byte
	n   int // bytes waiting in buf
}

// space is where the next read goes (never empty: what waits is shorter
// than maxCSI).
func (r *keyReader) space() []byte { return r.buf[r.n:] }

// waiting reports whether bytes of an unfinished sequence wait.
func (r *keyReader) waiting() bool { return r.n > 0 }

// parse hands emit the keys of the read bytes added to space and of what
// waited; with final (nothing more came in time) nothing is left waiting.
// emit returns false to stop: the bytes not yet parsed are dropped.
func (r *keyReader) parse(read int, final bool, emit func(termEvent) bool) {
	r.n += read
	i := 0
	for i < r.n {
		ev, n, ok := parseKey(r.buf[i:r.n], final)
		if n == 0 {
			break
		}
		i += n
		if ok && !emit(ev) {
			r.n = 0
			return
		}
	}
	r.n = copy(r.buf[:], r.buf[i:r.n])
}

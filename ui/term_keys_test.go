package ui

import (
	"fmt"
	"reflect"
	"testing"
	"unicode/utf8"
)

// evName names an event for the tests: the key's rune or special key,
// "redraw", "suspend".
func evName(ev termEvent) string {
	switch ev.kind {
	case evRedraw:
		return "redraw"
	case evSuspend:
		return "suspend"
	case evError:
		return "error"
	}
	if ev.key.Special != KeyNone {
		return [...]string{"", "up", "down", "left", "right", "pgup", "pgdn", "home", "end", "enter", "esc", "bs", "ctrl-c"}[ev.key.Special]
	}
	return string(ev.key.Ch)
}

// parseAll parses b whole, as keyReader would with all of it read at once
// and nothing after.
func parseAll(b []byte) []string {
	var got []string
	for len(b) > 0 {
		ev, n, ok := parseKey(b, true)
		if n <= 0 || n > len(b) {
			panic(fmt.Sprintf("parseKey(%q, final) took %d bytes", b, n))
		}
		if ok {
			got = append(got, evName(ev))
		}
		b = b[n:]
	}
	return got
}

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"q", []string{"q"}},
		{"ts /x", []string{"t", "s", " ", "/", "x"}},
		{"\r\n\x7f\x08\x03\x0c\x1a", []string{"enter", "enter", "bs", "bs", "ctrl-c", "redraw", "suspend"}},
		{"\x1b", []string{"esc"}},
		{"\x1b\x1b", []string{"esc", "esc"}},
		{"\x1bq", []string{"esc", "q"}}, // Alt+q
		{"\x1b[A\x1b[B\x1b[C\x1b[D", []string{"up", "down", "right", "left"}},
		{"\x1bOA\x1bOB\x1bOC\x1bOD\x1bOH\x1bOF\x1bOM", []string{"up", "down", "right", "left", "home", "end", "enter"}},
		{"\x1b[H\x1b[F\x1b[1~\x1b[7~\x1b[4~\x1b[8~\x1b[5~\x1b[6~", []string{"home", "end", "home", "home", "end", "end", "pgup", "pgdn"}},
		{"\x1b[1;5A\x1b[5;2~", []string{"up", "pgup"}},    // modifiers ignored
		{"\x1b[3~\x1b[2~\x1b[Z\x1b[200~x", []string{"x"}}, // Delete, Insert, Shift-Tab, paste start: no keys
		{"\x1b[<0;3;4M", nil},                             // a mouse report
		{"\x1b[", []string{"esc", "["}},                   // unfinished at the end: typed
		{"\x1b[12", []string{"esc", "[", "1", "2"}},
		{"\x1bO", []string{"esc", "O"}},
		{"\x1b[1\x03", []string{"ctrl-c"}}, // a control byte ends a broken sequence
		{"\t\x00\x01\x1c", nil},            // other controls
		{"名é", []string{"名", "é"}},
		{"\xe5\x90", nil},                        // a rune cut short at the end
		{"\xff\xc3(", []string{"("}},             // invalid UTF-8
		{"\xc2\x85\xc2\xa0", []string{"\u00a0"}}, // C1 control NEL dropped
		{"\x1b[" + string(make([]byte, 0)) + "111111111111111111111111111111111A", []string{"1", "1", "1", "A"}},
	} {
		if got := parseAll([]byte(c.in)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

// readChunks feeds b to a keyReader in reads of the given sizes (cycled),
// none final but the last, and returns its keys.
func readChunks(b []byte, sizes []int) []string {
	var got []string
	emit := func(ev termEvent) bool { got = append(got, evName(ev)); return true }
	var kr keyReader
	for i := 0; len(b) > 0; i++ {
		n := min(max(sizes[i%len(sizes)], 1), len(b), len(kr.space()))
		copy(kr.space(), b[:n])
		b = b[n:]
		kr.parse(n, false, emit)
	}
	kr.parse(0, true, emit)
	if kr.waiting() {
		panic("bytes wait after a final parse")
	}
	return got
}

// TestKeyReaderSplit: a sequence split over reads is the same key as read
// whole; an Esc with nothing after waits until the final parse.
func TestKeyReaderSplit(t *testing.T) {
	in := []byte("a\x1b[5~\x1bOB名\x1b[1;5C\x1b")
	want := parseAll(in)
	for _, sizes := range [][]int{{1}, {2}, {3, 1}, {len(in)}} {
		if got := readChunks(in, sizes); !reflect.DeepEqual(got, want) {
			t.Errorf("reads of %v: %q, want %q", sizes, got, want)
		}
	}
	var kr keyReader
	var got []string
	emit := func(ev termEvent) bool { got = append(got, evName(ev)); return true }
	kr.parse(copy(kr.space(), "\x1b"), false, emit)
	if len(got) != 0 || !kr.waiting() {
		t.Fatalf("a lone ESC: keys %q, waiting %v; want none yet", got, kr.waiting())
	}
	kr.parse(0, true, emit)
	if !reflect.DeepEqual(got, []string{"esc"}) || kr.waiting() {
		t.Errorf("a lone ESC after the wait: %q", got)
	}
	// emit stops: the rest is dropped.
	got = nil
	kr.parse(copy(kr.space(), "abc"), false, func(ev termEvent) bool { got = append(got, evName(ev)); return false })
	if len(got) != 1 || kr.waiting() {
		t.Errorf("stopped emit: keys %q, waiting %v", got, kr.waiting())
	}
}

// FuzzKeyReader: whatever a terminal (or anyone writing to it) sends,
// read in pieces of any size: no panic, a bounded wait, the same keys as
// read whole, and only keys the table knows (characters no control).
func FuzzKeyReader(f *testing.F) {
	for _, s := range []string{"q", "\x1b[A\x1bOB", "\x1b[5;2~名", "\x1b[1", "\xe5\x90\x8d\x1b", "\x1b[<0;3;4M\x03"} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint8) {
		want := parseAll(b)
		got := readChunks(b, []int{int(split%7) + 1, int(split/7)%5 + 1})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q in pieces of %d: %q, whole %q", b, split, got, want)
		}
		for len(b) > 0 {
			ev, n, ok := parseKey(b, false)
			if n == 0 && len(b) >= maxCSI {
				t.Fatalf("%q: waits with %d bytes", b, len(b))
			}
			if ok && ev.kind == evKey && ev.key.Special == KeyNone {
				r := ev.key.Ch
				if r < 0x20 || r >= 0x7f && r < 0xa0 || !utf8.ValidRune(r) {
					t.Fatalf("%q: key %U", b, r)
				}
			}
			if ok && ev.key.Special > KeyCtrlC {
				t.Fatalf("%q: special key %d", b, ev.key.Special)
			}
			if n == 0 {
				break
			}
			b = b[n:]
		}
	})
}

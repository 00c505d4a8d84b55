package conntrack

import (
	"path/filepath"
	"testing"
)

// FuzzConntrackReply: a datagram from the kernel, whatever it holds,
// never panics the answer reader or the entry parser; an entry accepted
// has whole tuples of one family; Get over a kernel sending it returns.
// Seeds: every datagram recorded in testdata/replies.
func FuzzConntrackReply(f *testing.F) {
	paths, _ := filepath.Glob("testdata/replies/*.txt")
	for _, p := range paths {
		for _, e := range readRecording(f, p).exchanges {
			for _, d := range e.replies {
				f.Add(d)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		seq := uint32(0)
		if _, s, _, _, ok := nextMessage(b); ok {
			seq = s
		}
		if e, err, done := answer(b, seq); done && err == nil {
			checkEntry(t, e)
		}
		for typ, _, p, rest, ok := nextMessage(b); ok; typ, _, p, rest, ok = nextMessage(rest) {
			_ = typ
			if e, ok := ParseEntry(p); ok {
				checkEntry(t, e)
			}
		}
		c := newConn(&fakeNetlink{answer: func(req []byte) [][]byte { return [][]byte{renumber(b, seq, seqOf(req))} }})
		c.seq = seq - 1
		if e, err := c.Get(Tuple{Proto: 6, Src: ap("10.0.0.1:1"), Dst: ap("10.0.0.2:2")}); err == nil {
			checkEntry(t, e)
		}
	})
}

func checkEntry(t *testing.T, e Entry) {
	t.Helper()
	for _, tu := range []Tuple{e.Orig, e.Reply} {
		if !tu.Src.Addr().IsValid() || !tu.Dst.Addr().IsValid() || tu.Src.Addr().Is4() != tu.Dst.Addr().Is4() {
			t.Fatalf("entry with a tuple of bad addresses: %+v", e)
		}
	}
	if e.Orig.Src.Addr().Is4() != e.Reply.Src.Addr().Is4() {
		t.Fatalf("entry with tuples of two families: %+v", e)
	}
}

package conntrack

import (
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"

	"hogs/internal/allocs"
)

// message builds one netlink message.
func message(typ uint16, seq uint32, payload []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(nlmsgHdrLen+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, 0)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	return padTo4(append(b, payload...))
}

func errMessage(seq uint32, errno int32) []byte {
	return message(nlmsgError, seq, binary.NativeEndian.AppendUint32(nil, uint32(-errno)))
}

// TestGetAnswers: what Get makes of each kind of answer.
func TestGetAnswers(t *testing.T) {
	r := readRecording(t, "testdata/replies/masquerade-tcp4.txt")
	_, entry := recordedReply(t, "masquerade-tcp4")
	want, _ := ParseEntry(entry)
	q := Tuple{Proto: r.key.Proto, Src: r.key.Remote, Dst: r.key.Local}
	stale := make([][]byte, maxStale)
	for i := range stale {
		stale[i] = message(msgTypeNew, 0, entry)
	}
	for _, tc := range []struct {
		name    string
		answer  func(seq uint32) [][]byte
		wantErr string // "" for the entry
	}{
		{"entry", func(s uint32) [][]byte { return [][]byte{message(msgTypeNew, s, entry)} }, ""},
		{"entry as a GET message", func(s uint32) [][]byte { return [][]byte{message(msgTypeGet, s, entry)} }, ""},
		{"late answer to an earlier request first", func(s uint32) [][]byte {
			return [][]byte{message(msgTypeNew, s-1, entry), append(errMessage(s-1, 2), message(msgTypeNew, s, entry)...)}
		}, ""},
		{"no entry", func(s uint32) [][]byte { return [][]byte{errMessage(s, errnoENOENT)} }, ErrNotFound.Error()},
		{"refused", func(s uint32) [][]byte { return [][]byte{errMessage(s, errnoEPERM)} }, "needs CAP_NET_ADMIN"},
		{"other errno", func(s uint32) [][]byte { return [][]byte{errMessage(s, 22)} }, "kernel error 22"},
		{"ack without entry", func(s uint32) [][]byte { return [][]byte{errMessage(s, 0)} }, "acknowledged without an entry"},
		{"truncated error", func(s uint32) [][]byte { return [][]byte{message(nlmsgError, s, []byte{1})} }, "truncated error"},
		{"malformed entry", func(s uint32) [][]byte { return [][]byte{message(msgTypeNew, s, entry[:40])} }, "malformed entry"},
		{"done", func(s uint32) [][]byte { return [][]byte{message(nlmsgDone, s, make([]byte, 4))} }, ErrNotFound.Error()},
		{"silence", func(uint32) [][]byte { return nil }, "no reply (timeout)"},
		{"only stale answers", func(uint32) [][]byte { return stale }, "no answer to a request"},
		{"garbage", func(uint32) [][]byte { return [][]byte{{1, 2, 3}} }, "no reply (timeout)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeNetlink{answer: func(req []byte) [][]byte { return tc.answer(seqOf(req)) }}
			c := newConn(fake)
			c.seq = 41 // the first request is 42: "earlier" requests exist
			e, err := c.Get(q)
			switch {
			case tc.wantErr == "" && (err != nil || e != want):
				t.Errorf("Get = %+v, %v; want %+v", e, err, want)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Get error %v, want one saying %q", err, tc.wantErr)
			}
			if tc.wantErr == ErrNotFound.Error() && !errors.Is(err, ErrNotFound) {
				t.Errorf("%v is not ErrNotFound", err)
			}
		})
	}
	if _, err := newConn(&fakeNetlink{}).Get(Tuple{Proto: 1}); err == nil {
		t.Error("Get of an ICMP tuple: no error")
	}
	closed := &fakeNetlink{answer: func([]byte) [][]byte { return nil }}
	c := newConn(closed)
	c.Close()
	if _, err := c.Get(q); err == nil || !closed.closed {
		t.Errorf("Get after Close: %v", err)
	}
}

// echoKernel answers every request with one recorded entry under the
// request's sequence number, allocating nothing; safe for one caller at
// a time only (the Conn serialises).
type echoKernel struct {
	entry []byte // a whole message; its seq is rewritten
	seq   uint32
}

func (k *echoKernel) Send(req []byte) error { k.seq = seqOf(req); return nil }
func (k *echoKernel) Receive(b []byte) (int, error) {
	n := copy(b, k.entry)
	binary.NativeEndian.PutUint32(b[8:], k.seq)
	return n, nil
}
func (k *echoKernel) Close() error { return nil }

func TestGetAllocatesNothing(t *testing.T) {
	r := readRecording(t, "testdata/replies/masquerade-tcp6.txt")
	_, entry := recordedReply(t, "masquerade-tcp6")
	c := newConn(&echoKernel{entry: message(msgTypeNew, 0, entry)})
	q := Tuple{Proto: r.key.Proto, Src: r.key.Remote, Dst: r.key.Local}
	cl := labClassifier(c)
	if n := allocs.Least(3, 200, func() {
		if _, err := c.Get(q); err != nil {
			t.Fatal(err)
		}
		if class, _ := cl.Classify(r.key); class != CountedElsewhere {
			t.Fatalf("class %s", class)
		}
	}); n != 0 {
		t.Errorf("Get and Classify allocate %.1f times a call, want 0", n)
	}
}

// TestConcurrentGets: Gets from several goroutines on one Conn are
// serialised (the fake kernel is not safe for concurrent use: the race
// detector sees it if they are not) and each gets its own answer.
func TestConcurrentGets(t *testing.T) {
	_, entry := recordedReply(t, "masquerade-udp4")
	want, _ := ParseEntry(entry)
	c := newConn(&echoKernel{entry: message(msgTypeNew, 0, entry)})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if e, err := c.Get(want.Orig); err != nil || e != want {
					t.Errorf("Get = %+v, %v", e, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

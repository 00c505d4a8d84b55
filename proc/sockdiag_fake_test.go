package proc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNetlink answers each request with the datagrams answer returns for
// it, as mdlayher's nltest does: the SockDiag under test speaks to it as
// to the kernel.
type fakeNetlink struct {
	answer   func(req []byte) [][]byte
	queue    [][]byte
	requests int
	closed   bool
}

var _ netlinkConn = (*fakeNetlink)(nil)

// errFakeTimeout is what Receive returns with nothing queued, as the real
// socket's SO_RCVTIMEO would.
var errFakeTimeout = errors.New("fake netlink: no reply (timeout)")

func (f *fakeNetlink) Send(req []byte) error {
	if f.closed {
		return os.ErrClosed
	}
	f.requests++
	f.queue = append(f.queue, f.answer(bytes.Clone(req))...)
	return nil
}

func (f *fakeNetlink) Receive(b []byte) (int, error) {
	if f.closed {
		return 0, os.ErrClosed
	}
	if len(f.queue) == 0 {
		return 0, errFakeTimeout
	}
	n := copy(b, f.queue[0]) // a short buffer truncates, as recv(2) does
	f.queue = f.queue[1:]
	return n, nil
}

func (f *fakeNetlink) Close() error { f.closed = true; return nil }

// exchange is one request and the datagrams the kernel answered it with.
type exchange struct {
	request []byte
	replies [][]byte
}

// recording is one conversation recorded from a kernel into
// testdata/sockdiag/NAME.txt (TestRecordSockDiag writes them):
//
//	# what it is
//	probe | lookup PROTO LOCAL REMOTE | destroy
//	want DIAGSOCKET            (lookup: what the socket really is)
//	request HEX                (each followed by its replies)
//	reply HEX
//	event CLOSEDSOCKET         (destroy: what really closed, in order)
//	datagram HEX
type recording struct {
	comment       string
	kind          string // "probe", "lookup" or "destroy"
	proto         uint8
	local, remote netip.AddrPort
	want          string
	exchanges     []exchange
	events        []string
	datagrams     [][]byte
}

func (r *recording) write(path string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", r.comment)
	switch r.kind {
	case "lookup":
		fmt.Fprintf(&b, "lookup %s %v %v\nwant %s\n", protoWord(r.proto), r.local, r.remote, r.want)
	default:
		fmt.Fprintf(&b, "%s\n", r.kind)
	}
	for _, e := range r.exchanges {
		fmt.Fprintf(&b, "request %x\n", e.request)
		for _, rep := range e.replies {
			fmt.Fprintf(&b, "reply %x\n", rep)
		}
	}
	for _, ev := range r.events {
		fmt.Fprintf(&b, "event %s\n", ev)
	}
	for _, d := range r.datagrams {
		fmt.Fprintf(&b, "datagram %x\n", d)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func protoWord(p uint8) string {
	if p == ProtoUDP {
		return "udp"
	}
	return "tcp"
}

func readRecording(t testing.TB, path string) *recording {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &recording{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		word, rest, _ := strings.Cut(sc.Text(), " ")
		fail := func(err error) { t.Fatalf("%s:%d: %v", path, line, err) }
		unhex := func() []byte {
			b, err := hex.DecodeString(rest)
			if err != nil {
				fail(err)
			}
			return b
		}
		switch word {
		case "#":
			r.comment = rest
		case "probe", "destroy":
			r.kind = word
		case "lookup":
			r.kind = word
			f := strings.Fields(rest)
			if len(f) != 3 {
				fail(fmt.Errorf("lookup wants PROTO LOCAL REMOTE"))
			}
			r.proto = ProtoTCP
			if f[0] == "udp" {
				r.proto = ProtoUDP
			}
			if r.local, err = netip.ParseAddrPort(f[1]); err != nil {
				fail(err)
			}
			if r.remote, err = netip.ParseAddrPort(f[2]); err != nil {
				fail(err)
			}
		case "want":
			r.want = rest
		case "request":
			r.exchanges = append(r.exchanges, exchange{request: unhex()})
		case "reply":
			if len(r.exchanges) == 0 {
				fail(errors.New("reply before any request"))
			}
			e := &r.exchanges[len(r.exchanges)-1]
			e.replies = append(e.replies, unhex())
		case "event":
			r.events = append(r.events, rest)
		case "datagram":
			r.datagrams = append(r.datagrams, unhex())
		default:
			fail(fmt.Errorf("unknown line %q", word))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return r
}

// recordings reads testdata/sockdiag/*.txt of one kind.
func recordings(t testing.TB, kind string) map[string]*recording {
	t.Helper()
	paths, err := filepath.Glob("testdata/sockdiag/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*recording{}
	for _, p := range paths {
		if r := readRecording(t, p); r.kind == kind {
			out[strings.TrimSuffix(filepath.Base(p), ".txt")] = r
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s recordings in testdata/sockdiag (TestRecordSockDiag writes them)", kind)
	}
	return out
}

// seqOf and withSeq read and set a netlink message's sequence number.
func seqOf(msg []byte) uint32 { return binary.NativeEndian.Uint32(msg[8:]) }

func withSeq(msg []byte, seq uint32) []byte {
	msg = bytes.Clone(msg)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	return msg
}

// replay answers the requests of recorded exchanges, found by their bytes
// (sequence number aside), with the recorded replies renumbered to the
// request's sequence number; a request not recorded fails the test.
func replay(t testing.TB, exchanges ...exchange) func(req []byte) [][]byte {
	return func(req []byte) [][]byte {
		for _, e := range exchanges {
			if !bytes.Equal(withSeq(e.request, 0), withSeq(req, 0)) {
				continue
			}
			var out [][]byte
			for _, rep := range e.replies {
				out = append(out, renumber(rep, seqOf(e.request), seqOf(req)))
			}
			return out
		}
		t.Errorf("request not in the recording: %x", req)
		return nil
	}
}

// renumber gives the messages of a datagram answering request seq from
// the new request's seq.
func renumber(datagram []byte, from, to uint32) []byte {
	d := bytes.Clone(datagram)
	for b := d; len(b) >= nlmsgHeaderLen; {
		length := int(binary.NativeEndian.Uint32(b))
		if length < nlmsgHeaderLen || length > len(b) {
			break
		}
		if seqOf(b) == from {
			binary.NativeEndian.PutUint32(b[8:], to)
		}
		b = b[min(len(b), (length+3)&^3):]
	}
	return d
}

package conntrack

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

	"hogs/internal/flow"
)

// The addresses of the live test's namespaces (see TestLiveClassify): the
// host forwards between a container (10.90.1.2, fd90:1::2) and a remote
// (192.168.90.2, fd90:2::2) with masquerade out and port forwards in, and
// routes between the remote and a second remote (10.91.2.2) without NAT.
var (
	labHost = []netip.Addr{
		netip.MustParseAddr("10.90.1.1"), netip.MustParseAddr("192.168.90.1"), netip.MustParseAddr("10.91.2.1"),
		netip.MustParseAddr("fd90:1::1"), netip.MustParseAddr("fd90:2::1"),
	}
	labContainer = []netip.Addr{netip.MustParseAddr("10.90.1.2"), netip.MustParseAddr("fd90:1::2")}
)

// labNS is the namespace the keys of the lab are seen in.
const labNS = 4026530000

func member(set []netip.Addr) func(uint32, netip.Addr) bool {
	return func(ns uint32, a netip.Addr) bool {
		if ns != labNS {
			panic(fmt.Sprintf("predicate asked about namespace %d", ns))
		}
		for _, s := range set {
			if s == a {
				return true
			}
		}
		return a.IsLoopback()
	}
}

// labClassifier classifies as the live test does, asking table.
func labClassifier(table Getter) *Classifier {
	return NewClassifier(Config{
		Table:       func(uint32) Getter { return table },
		IsLocal:     member(labHost),
		IsContainer: member(labContainer),
	})
}

// exchange is one request and the datagrams the kernel answered it with.
type exchange struct {
	request []byte
	replies [][]byte
}

// recording is one classification recorded from a kernel into
// testdata/replies/NAME.txt (TestLiveClassify -record writes them):
//
//	# what it is
//	key PROTO LOCAL REMOTE     (the flow as seen in the host namespace)
//	class CLASS                (what Classify answered)
//	entry ENTRY | none         (what Lookup found, formatEntry)
//	request HEX                (each followed by its replies)
//	reply HEX
type recording struct {
	comment   string
	key       flow.Key
	class     string
	entry     string
	exchanges []exchange
}

func formatEntry(e Entry, found bool) string {
	if !found {
		return "none"
	}
	return fmt.Sprintf("%s %v->%v reply %v->%v status %#x id %d zone %d mark %d",
		flow.ProtoName(e.Orig.Proto), e.Orig.Src, e.Orig.Dst, e.Reply.Src, e.Reply.Dst, uint32(e.Status), e.ID, e.Zone, e.Mark)
}

func (r *recording) write(path string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\nkey %s %v %v\nclass %s\nentry %s\n", r.comment, flow.ProtoName(r.key.Proto), r.key.Local, r.key.Remote, r.class, r.entry)
	for _, e := range r.exchanges {
		fmt.Fprintf(&b, "request %x\n", e.request)
		for _, rep := range e.replies {
			fmt.Fprintf(&b, "reply %x\n", rep)
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func readRecording(t testing.TB, path string) *recording {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := &recording{key: flow.Key{NetNS: labNS}}
	sc := bufio.NewScanner(bytes.NewReader(data))
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
		case "key":
			f := strings.Fields(rest)
			if len(f) != 3 {
				fail(errors.New("key wants PROTO LOCAL REMOTE"))
			}
			r.key.Proto = flow.TCP
			if f[0] == "udp" {
				r.key.Proto = flow.UDP
			}
			if r.key.Local, err = netip.ParseAddrPort(f[1]); err != nil {
				fail(err)
			}
			if r.key.Remote, err = netip.ParseAddrPort(f[2]); err != nil {
				fail(err)
			}
		case "class":
			r.class = rest
		case "entry":
			r.entry = rest
		case "request":
			r.exchanges = append(r.exchanges, exchange{request: unhex()})
		case "reply":
			if len(r.exchanges) == 0 {
				fail(errors.New("reply before any request"))
			}
			e := &r.exchanges[len(r.exchanges)-1]
			e.replies = append(e.replies, unhex())
		default:
			fail(fmt.Errorf("unknown line %q", word))
		}
	}
	return r
}

// recordings reads testdata/replies/*.txt.
func recordings(t testing.TB) map[string]*recording {
	t.Helper()
	paths, err := filepath.Glob("testdata/replies/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no recordings in testdata/replies (TestLiveClassify -record writes them)")
	}
	out := map[string]*recording{}
	for _, p := range paths {
		out[strings.TrimSuffix(filepath.Base(p), ".txt")] = readRecording(t, p)
	}
	return out
}

// fakeNetlink answers each request with the datagrams answer returns for
// it: the Conn under test speaks to it as to the kernel.
type fakeNetlink struct {
	answer   func(req []byte) [][]byte
	queue    [][]byte
	requests int
	closed   bool
}

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
	n := copy(b, f.queue[0])
	f.queue = f.queue[1:]
	return n, nil
}

func (f *fakeNetlink) Close() error { f.closed = true; return nil }

func seqOf(msg []byte) uint32 { return binary.NativeEndian.Uint32(msg[8:]) }

func withSeq(msg []byte, seq uint32) []byte {
	msg = bytes.Clone(msg)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	return msg
}

// replay answers requests found among the recorded exchanges (sequence
// number aside) with the recorded replies renumbered to the request's; a
// request not recorded fails the test.
func replay(t testing.TB, exchanges []exchange) func(req []byte) [][]byte {
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

func renumber(datagram []byte, from, to uint32) []byte {
	d := bytes.Clone(datagram)
	for b := d; len(b) >= nlmsgHdrLen; {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			break
		}
		if seqOf(b) == from {
			binary.NativeEndian.PutUint32(b[8:], to)
		}
		b = b[min(len(b), align4(l)):]
	}
	return d
}

// TestRecordedReplies classifies the live test's flows again, the kernel
// replaced by its recorded answers: the requests are byte for byte what
// the kernel was asked, and class and entry what it answered.
func TestRecordedReplies(t *testing.T) {
	for name, r := range recordings(t) {
		t.Run(name, func(t *testing.T) {
			fake := &fakeNetlink{answer: replay(t, r.exchanges)}
			c := labClassifier(newConn(fake))
			class, err := c.Classify(r.key)
			if err != nil {
				t.Fatal(err)
			}
			if class.String() != r.class {
				t.Errorf("%s: class %q, recorded %q", r.comment, class, r.class)
			}
			if fake.requests != len(r.exchanges) {
				t.Errorf("%d requests, recorded %d", fake.requests, len(r.exchanges))
			}
			e, found, err := c.Lookup(r.key)
			if err != nil {
				t.Fatal(err)
			}
			if got := formatEntry(e, found); got != r.entry {
				t.Errorf("entry\n got %s\nwant %s", got, r.entry)
			}
		})
	}
}

package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"

	"hogs/internal/allocs"
)

// replayLookup runs a recorded lookup against a SockDiag whose kernel is
// the recording (after OpenSockDiag's recorded probe).
func replayLookup(t *testing.T, r *recording, extra ...exchange) (DiagSocket, error, *fakeNetlink) {
	t.Helper()
	probe := recordings(t, "probe")["probe"]
	fake := &fakeNetlink{answer: replay(t, append(append(append([]exchange(nil), probe.exchanges...), r.exchanges...), extra...)...)}
	d := newSockDiag(fake)
	if err := d.probe(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	s, err := d.Lookup(r.proto, r.local, r.remote)
	return s, err, fake
}

// TestSockDiagReplay replays each recorded lookup: the request must be
// the one the kernel was asked (byte for byte, but for the sequence
// number), and the reply must parse into what the socket really was
// (fstat, SO_COOKIE and the cgroup directory said so when recording):
// connected TCP, IPv6, IPv4 on a dual-stack listener, unconnected and
// connected UDP, no socket, not accepted yet, closed, TIME_WAIT.
func TestSockDiagReplay(t *testing.T) {
	for name, r := range recordings(t, "lookup") {
		t.Run(name, func(t *testing.T) {
			s, err, fake := replayLookup(t, r)
			if got := fmt.Sprintf("%+v", s); err != nil || got != r.want {
				t.Errorf("%s: %s, %v\nwant %s", r.comment, got, err, r.want)
			}
			if want := 2 + len(r.exchanges); fake.requests != want {
				t.Errorf("%d requests, want %d (the probe's two and the recorded ones)", fake.requests, want)
			}
		})
	}
}

// nlmsg builds one netlink message.
func nlmsg(typ, flags uint16, seq uint32, body []byte) []byte {
	b := make([]byte, nlmsgHeaderLen+len(body), nlmsgHeaderLen+len(body)+3)
	ne := binary.NativeEndian
	ne.PutUint32(b, uint32(len(b)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], seq)
	copy(b[nlmsgHeaderLen:], body)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// errorBody is an NLMSG_ERROR's body: the negative errno (the request
// that failed would follow; the parser does not read it).
func errorBody(errno syscall.Errno) []byte {
	return binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
}

// diagBody builds a struct inet_diag_msg for a socket with these ends,
// then the attributes (type, value) given.
func diagBody(state uint8, src, dst netip.AddrPort, inode uint32, cookie uint64, attrs ...any) []byte {
	b := make([]byte, inetDiagMsgLen)
	ne := binary.NativeEndian
	b[diagMsgFamily], b[diagMsgState] = afInet, state
	if src.Addr().Is6() && !src.Addr().Is4In6() || dst.Addr().Is6() {
		b[diagMsgFamily] = afInet6
	}
	binary.BigEndian.PutUint16(b[diagMsgSport:], src.Port())
	binary.BigEndian.PutUint16(b[diagMsgDport:], dst.Port())
	putAddr(b[diagMsgSrc:diagMsgSrc+16], src.Addr())
	putAddr(b[diagMsgDst:diagMsgDst+16], dst.Addr())
	ne.PutUint32(b[diagMsgCookie:], uint32(cookie))
	ne.PutUint32(b[diagMsgCookie+4:], uint32(cookie>>32))
	ne.PutUint32(b[diagMsgInode:], inode)
	for i := 0; i+1 < len(attrs); i += 2 {
		v := attrs[i+1].([]byte)
		a := make([]byte, nlaHeaderLen, nlaHeaderLen+len(v)+3)
		ne.PutUint16(a, uint16(nlaHeaderLen+len(v)))
		ne.PutUint16(a[2:], attrs[i].(uint16))
		a = append(a, v...)
		for len(a)%4 != 0 {
			a = append(a, 0)
		}
		b = append(b, a...)
	}
	return b
}

// reqSeq is the sequence number of a request.
func reqSeq(req []byte) uint32 { return binary.NativeEndian.Uint32(req[8:]) }

var (
	flowLocal  = netip.MustParseAddrPort("10.0.0.1:80")
	flowRemote = netip.MustParseAddrPort("10.0.0.2:40000")
)

// answerProbe answers OpenSockDiag's probe dumps with an empty dump, and
// passes other requests to answer.
func answerProbe(answer func(req []byte) [][]byte) func(req []byte) [][]byte {
	return func(req []byte) [][]byte {
		if binary.NativeEndian.Uint16(req[6:])&nlmFDump != 0 {
			return [][]byte{nlmsg(nlmsgDone, nlmFMulti, reqSeq(req), make([]byte, 4))}
		}
		return answer(req)
	}
}

// TestSockDiagReplies: how Lookup reads what a kernel may send, from
// hand-built replies: late answers to an earlier request passed over,
// several messages in one datagram, errors, malformed and truncated
// messages (an error, never a socket).
func TestSockDiagReplies(t *testing.T) {
	good := func(seq uint32) []byte {
		return nlmsg(sockDiagByFamily, 0, seq, diagBody(TCPEstablished, flowLocal, flowRemote, 9001, 77, uint16(inetDiagCgroup), binary.NativeEndian.AppendUint64(nil, 4242)))
	}
	want := DiagSocket{Inode: 9001, Cookie: 77, CgroupID: 4242, State: TCPEstablished}
	concat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		replies func(seq uint32) [][]byte
		want    DiagSocket
		err     error // errors.Is; nil: no error
	}{
		{"one message", func(seq uint32) [][]byte { return [][]byte{good(seq)} }, want, nil},
		{"a late reply first, same datagram", func(seq uint32) [][]byte {
			return [][]byte{concat(nlmsg(sockDiagByFamily, 0, seq-1, diagBody(TCPEstablished, flowLocal, flowRemote, 1, 1)), good(seq))}
		}, want, nil},
		{"a late reply first, own datagram", func(seq uint32) [][]byte {
			return [][]byte{nlmsg(nlmsgError, 0, seq-1, errorBody(syscall.ENOENT)), good(seq)}
		}, want, nil},
		{"ENOENT: no socket", func(seq uint32) [][]byte { return [][]byte{nlmsg(nlmsgError, 0, seq, errorBody(syscall.ENOENT))} }, DiagSocket{}, nil},
		{"EOPNOTSUPP", func(seq uint32) [][]byte { return [][]byte{nlmsg(nlmsgError, 0, seq, errorBody(syscall.EOPNOTSUPP))} }, DiagSocket{}, ErrSockDiagUnsupported},
		{"EINVAL", func(seq uint32) [][]byte { return [][]byte{nlmsg(nlmsgError, 0, seq, errorBody(syscall.EINVAL))} }, DiagSocket{}, ErrSockDiagUnsupported},
		{"EPERM", func(seq uint32) [][]byte { return [][]byte{nlmsg(nlmsgError, 0, seq, errorBody(syscall.EPERM))} }, DiagSocket{}, syscall.EPERM},
		{"positive error code", func(seq uint32) [][]byte { return [][]byte{nlmsg(nlmsgError, 0, seq, []byte{5, 0, 0, 0})} }, DiagSocket{}, ErrSockDiagMalformed},
		{"short error", func(seq uint32) [][]byte { return [][]byte{nlmsg(nlmsgError, 0, seq, []byte{1, 2})} }, DiagSocket{}, ErrSockDiagMalformed},
		{"length past the datagram", func(seq uint32) [][]byte {
			b := good(seq)
			binary.NativeEndian.PutUint32(b, uint32(len(b)+4))
			return [][]byte{b}
		}, DiagSocket{}, ErrSockDiagMalformed},
		{"length below a header", func(seq uint32) [][]byte {
			b := good(seq)
			binary.NativeEndian.PutUint32(b, 8)
			return [][]byte{b}
		}, DiagSocket{}, ErrSockDiagMalformed},
		{"short inet_diag_msg", func(seq uint32) [][]byte {
			return [][]byte{nlmsg(sockDiagByFamily, 0, seq, diagBody(TCPEstablished, flowLocal, flowRemote, 9001, 77)[:60])}
		}, DiagSocket{}, ErrSockDiagMalformed},
		{"attribute past the message", func(seq uint32) [][]byte {
			b := diagBody(TCPEstablished, flowLocal, flowRemote, 9001, 77, uint16(inetDiagCgroup), make([]byte, 8))
			binary.NativeEndian.PutUint16(b[inetDiagMsgLen:], 40)
			return [][]byte{nlmsg(sockDiagByFamily, 0, seq, b)}
		}, DiagSocket{}, ErrSockDiagMalformed},
		{"state 0", func(seq uint32) [][]byte {
			return [][]byte{nlmsg(sockDiagByFamily, 0, seq, diagBody(0, flowLocal, flowRemote, 9001, 77))}
		}, DiagSocket{}, ErrSockDiagMalformed},
		{"unknown family", func(seq uint32) [][]byte {
			b := diagBody(TCPEstablished, flowLocal, flowRemote, 9001, 77)
			b[diagMsgFamily] = 7
			return [][]byte{nlmsg(sockDiagByFamily, 0, seq, b)}
		}, DiagSocket{}, ErrSockDiagMalformed},
		{"trailing bytes", func(seq uint32) [][]byte {
			return [][]byte{concat(nlmsg(nlmsgError, 0, seq-1, errorBody(syscall.ENOENT)), []byte{1, 2, 3})}
		}, DiagSocket{}, ErrSockDiagMalformed},
		{"no reply", func(uint32) [][]byte { return nil }, DiagSocket{}, errFakeTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newSockDiag(&fakeNetlink{answer: answerProbe(func(req []byte) [][]byte { return tc.replies(reqSeq(req)) })})
			if err := d.probe(); err != nil {
				t.Fatal(err)
			}
			s, err := d.Lookup(ProtoTCP, flowLocal, flowRemote)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) || s != tc.want {
				t.Errorf("%+v, %v; want %+v, %v", s, err, tc.want, tc.err)
			}
		})
	}
}

// TestSockDiagTruncated: every recorded reply cut short (a datagram
// truncated by a short read, or by a broken sender) is an error, never a
// socket, whatever the cut.
func TestSockDiagTruncated(t *testing.T) {
	for name, r := range recordings(t, "lookup") {
		for i, e := range r.exchanges {
			for _, rep := range e.replies {
				for cut := 1; cut < len(rep); cut++ {
					s, done, err := parseDiagReply(rep[:cut], seqOf(e.request))
					if err == nil || !done || s != (DiagSocket{}) {
						t.Fatalf("%s exchange %d cut at %d of %d: %+v, done %v, %v; want an error", name, i, cut, len(rep), s, done, err)
					}
				}
			}
		}
	}
}

// TestSockDiagMultipart: a dump's messages (NLM_F_MULTI) spread over
// datagrams are not the answer; NLMSG_DONE ends it, and its error code,
// ENOENT for a protocol without a handler, makes the protocol unsupported.
func TestSockDiagMultipart(t *testing.T) {
	for _, tc := range []struct {
		name        string
		done        []byte
		unsupported bool
	}{{"empty done", make([]byte, 4), false}, {"done without body", nil, false}, {"ENOENT", errorBody(syscall.ENOENT), true}} {
		fake := &fakeNetlink{answer: func(req []byte) [][]byte {
			seq := reqSeq(req)
			m := nlmsg(sockDiagByFamily, nlmFMulti, seq, diagBody(TCPListen, flowLocal, netip.MustParseAddrPort("0.0.0.0:0"), 1, 1))
			return [][]byte{append(m, m...), m, nlmsg(nlmsgDone, nlmFMulti, seq, tc.done)}
		}}
		d := newSockDiag(fake)
		if err := d.probe(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(fake.queue) != 0 {
			t.Errorf("%s: %d datagrams left unread", tc.name, len(fake.queue))
		}
		_, err := d.Lookup(ProtoUDP, flowLocal, flowRemote)
		if got := errors.Is(err, ErrSockDiagUnsupported); got != tc.unsupported {
			t.Errorf("%s: lookup after the probe: %v, want unsupported %v", tc.name, err, tc.unsupported)
		}
	}
}

// TestSockDiagUnsupportedRecorded: the kernel's recorded answer to a dump
// of a protocol it has no handler for (253), given to the UDP probe,
// makes UDP lookups fail with ErrSockDiagUnsupported, without asking the
// kernel; TCP lookups still go through.
func TestSockDiagUnsupportedRecorded(t *testing.T) {
	probes := recordings(t, "probe")
	unsupported := probes["probe-unsupported"].exchanges[0]
	tcp4 := recordings(t, "lookup")["tcp4-client"]
	ok := replay(t, append(append([]exchange(nil), probes["probe"].exchanges...), tcp4.exchanges...)...)
	fake := &fakeNetlink{answer: func(req []byte) [][]byte {
		if req[nlmsgHeaderLen+1] == ProtoUDP && binary.NativeEndian.Uint16(req[6:])&nlmFDump != 0 {
			return [][]byte{renumber(unsupported.replies[0], seqOf(unsupported.request), reqSeq(req))}
		}
		return ok(req)
	}}
	d := newSockDiag(fake)
	if err := d.probe(); err != nil {
		t.Fatal(err)
	}
	sent := fake.requests
	if _, err := d.Lookup(ProtoUDP, flowLocal, flowRemote); !errors.Is(err, ErrSockDiagUnsupported) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("UDP lookup: %v, want ErrSockDiagUnsupported (ENOENT)", err)
	}
	if fake.requests != sent {
		t.Errorf("the UDP lookup asked the kernel")
	}
	if s, err := d.Lookup(ProtoTCP, tcp4.local, tcp4.remote); err != nil || fmt.Sprintf("%+v", s) != tcp4.want {
		t.Errorf("TCP lookup: %+v, %v; want %s", s, err, tcp4.want)
	}
}

// TestSockDiagLookupAllocatesNothing: the allocation gate of a lookup
// (the fake's own copies aside: it is given a reply built once).
func TestSockDiagLookupAllocatesNothing(t *testing.T) {
	var reply []byte
	fake := &fakeNetlink{}
	fake.answer = func(req []byte) [][]byte {
		binary.NativeEndian.PutUint32(reply[8:], reqSeq(req))
		return nil
	}
	d := newSockDiag(&preparedNetlink{fake: fake, reply: &reply})
	reply = nlmsg(sockDiagByFamily, 0, 0, diagBody(TCPEstablished, flowLocal, flowRemote, 9001, 77, uint16(inetDiagCgroup), make([]byte, 8)))
	if n := allocs.Least(5, 100, func() {
		if s, err := d.Lookup(ProtoTCP, flowLocal, flowRemote); err != nil || s.Inode != 9001 {
			t.Fatal(s, err)
		}
	}); n != 0 {
		t.Errorf("a lookup allocates %v times, want 0", n)
	}
}

// preparedNetlink answers every request with the one reply it holds,
// renumbered, without allocating.
type preparedNetlink struct {
	fake  *fakeNetlink
	reply *[]byte
}

var _ netlinkConn = (*preparedNetlink)(nil)

func (p *preparedNetlink) Send(req []byte) error { p.fake.answer(req); return nil }
func (p *preparedNetlink) Receive(b []byte) (int, error) {
	return copy(b, *p.reply), nil
}
func (p *preparedNetlink) Close() error { return nil }

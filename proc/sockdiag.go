package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"hogs/internal/flow"
)

// SockDiag looks sockets up by their exact addresses through a netlink
// NETLINK_SOCK_DIAG socket: one request and one reply per socket, instead
// of reading and parsing every row of /proc/net/tcp (which costs the kernel
// about a millisecond even when almost empty, and a microsecond per
// socket). It answers for the network namespace it was opened in. Not safe
// for concurrent use.
//
// The conversation goes through a netlinkConn: the kernel's socket
// (OpenSockDiag, Linux only) or, in tests, a fake answering from replies
// recorded on a real kernel.
type SockDiag struct {
	conn netlinkConn
	seq  uint32
	req  [nlmsgHeaderLen + inetDiagReqLen]byte
	buf  []byte
	// unsupported[i] is set when the kernel has no inet_diag handler for
	// diagProtos[i]: lookups of that protocol fail with
	// ErrSockDiagUnsupported instead of reading as "no such socket".
	unsupported [len(diagProtos)]error
}

// netlinkConn is one netlink socket's conversation with the kernel: Send
// writes one request message, Receive reads one datagram of replies into b
// (truncating it to len(b), as recv(2) does) and fails after a timeout
// rather than block for good.
type netlinkConn interface {
	Send(req []byte) error
	Receive(b []byte) (int, error)
	Close() error
}

// Layouts and numbers from linux/netlink.h, linux/sock_diag.h and
// linux/inet_diag.h; defined here, not taken from x/sys/unix, so that the
// parser builds (and is fuzzed) on every GOOS.
const (
	nlmsgHeaderLen = 16 // struct nlmsghdr
	nlmsgError     = 2  // NLMSG_ERROR
	nlmsgDone      = 3  // NLMSG_DONE
	nlmFRequest    = 0x1
	nlmFMulti      = 0x2
	nlmFDump       = 0x300 // NLM_F_ROOT|NLM_F_MATCH

	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	inetDiagReqLen   = 56 // struct inet_diag_req_v2
	inetDiagMsgLen   = 72 // struct inet_diag_msg
	diagNoCookie     = 0xffffffff

	afInet  = 2  // AF_INET
	afInet6 = 10 // AF_INET6 (Linux's number)

	nlaHeaderLen     = 4  // struct nlattr
	inetDiagInfo     = 2  // INET_DIAG_INFO: struct tcp_info for TCP
	inetDiagProtocol = 10 // INET_DIAG_PROTOCOL: u8, in destroy events
	inetDiagCgroup   = 21 // INET_DIAG_CGROUP_ID: u64, sent unasked (5.7+)
	nlaTypeMask      = 0x3fff
	tcpInfoAckedAt   = 120 // tcpi_bytes_acked in struct tcp_info
	tcpInfoRecvAt    = 128 // tcpi_bytes_received
	tcpInfoBytesEnd  = tcpInfoRecvAt + 8
)

// Offsets in struct inet_diag_msg.
const (
	diagMsgFamily = 0
	diagMsgState  = 1
	diagMsgSport  = 4 // inet_diag_sockid starts here, ports big-endian
	diagMsgDport  = 6
	diagMsgSrc    = 8
	diagMsgDst    = 24
	diagMsgCookie = 44
	diagMsgUID    = 64
	diagMsgInode  = 68
)

// diagProtos are the protocols a SockDiag answers for, in the order of
// its unsupported table.
var diagProtos = [...]uint8{ProtoTCP, ProtoUDP}

// ErrSockDiagUnsupported: the kernel has no inet_diag for this protocol.
var ErrSockDiagUnsupported = errors.New("proc: sock_diag not supported")

// ErrSockDiagMalformed: a reply that does not parse (a length running past
// the datagram, a message too short for its type): its contents are not
// trusted.
var ErrSockDiagMalformed = errors.New("proc: malformed sock_diag reply")

// ErrLinuxOnly: what needs netlink fails so on other systems.
var ErrLinuxOnly = errors.New("proc: sock_diag is Linux only")

// DiagSocket is what sock_diag says about the socket of one flow.
type DiagSocket struct {
	// Inode identifies the flow's own socket in /proc/PID/fd; 0 when there
	// is none (see State) or it holds no inode: a connection not accepted
	// yet, or in TIME_WAIT.
	Inode uint64
	// UID owns the socket (as seen from the reader's user namespace).
	UID uint32
	// Cookie is the kernel's number for the socket (SO_COOKIE), unique
	// while the system runs, also carried by socket-destroy events.
	Cookie uint64
	// CgroupID is the cgroup v2 id of the process that created the socket
	// (the inode of its cgroup directory); 0 where the kernel does not say.
	CgroupID uint64
	// State is the flow's own socket's TCP state (TCPEstablished, ...;
	// UDP: TCPClose unconnected, TCPEstablished connected); 0 when no
	// socket has the flow's addresses any more (or never had).
	State uint8
	// Listener, for a TCP flow whose own socket has no inode (before
	// accept(), never accepted, closed), is the inode of the socket
	// listening on its local address and port (a wildcard bind included):
	// the process holding it owns the flow provisionally. 0 otherwise.
	Listener uint64
}

// Gone reports that no socket has the flow's addresses: the connection
// closed (or never was here).
func (s DiagSocket) Gone() bool { return s.State == 0 }

// AwaitingAccept reports a TCP connection the kernel has set up (or is
// setting up) that no process has accepted yet: a request socket, or one
// in the listener's accept queue (established; close-wait if the peer has
// already finished sending). A socket without an inode in any other
// state was closed by its process.
func (s DiagSocket) AwaitingAccept() bool {
	return s.Inode == 0 && (s.State == TCPSynRecv || s.State == TCPEstablished || s.State == TCPCloseWait)
}

// newSockDiag wraps an open netlink conversation.
func newSockDiag(conn netlinkConn) *SockDiag {
	return &SockDiag{conn: conn, buf: make([]byte, diagBufferSize)}
}

// diagBufferSize holds any one reply: a message with its attributes is
// well under a kilobyte; the kernel sends one per datagram at most a page.
const diagBufferSize = 8192

// Close closes the netlink socket.
func (d *SockDiag) Close() error { return d.conn.Close() }

// probe asks, for each protocol, for a dump of sockets in no state: a
// kernel that has the protocol's inet_diag handler answers with an empty
// dump, one without it with an error. Asking for one missing socket could
// not tell them apart: both answer ENOENT.
func (d *SockDiag) probe() error {
	for i, proto := range diagProtos {
		_, err := d.exchange(afInet, proto, nlmFRequest|nlmFDump, 0, netip.AddrPort{}, netip.AddrPort{})
		var errno syscall.Errno
		switch {
		case err == nil:
		case errors.As(err, &errno):
			d.unsupported[i] = fmt.Errorf("%w: %s: %w", ErrSockDiagUnsupported, flow.ProtoName(proto), errno)
		default:
			return err
		}
	}
	return nil
}

// Lookup finds the socket of a flow: proto is ProtoTCP or ProtoUDP, local
// and remote its ends as this host sees them. A flow with no socket is
// not an error: the result says Gone. A protocol the kernel has no
// sock_diag for returns an error wrapping ErrSockDiagUnsupported.
func (d *SockDiag) Lookup(proto uint8, local, remote netip.AddrPort) (DiagSocket, error) {
	for i, p := range diagProtos {
		if p == proto && d.unsupported[i] != nil {
			return DiagSocket{}, d.unsupported[i]
		}
	}
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	family := uint8(afInet)
	if local.Addr().Is6() || remote.Addr().Is6() {
		family = afInet6
	}
	// TCP's lookup takes id.src as the socket's own end; UDP's (the
	// lookup of an arriving datagram) takes id.src as the sender: the
	// remote end.
	src, dst := local, remote
	if proto == ProtoUDP {
		src, dst = remote, local
	}
	s, err := d.exchange(family, proto, nlmFRequest, 0, src, dst)
	if err == nil && s.State == 0 && family == afInet {
		// An IPv6 socket serving IPv4 (dual-stack, v4-mapped addresses).
		family = afInet6
		src, dst = mapped(src), mapped(dst)
		s, err = d.exchange(family, proto, nlmFRequest, 0, src, dst)
	}
	if err != nil || proto != ProtoTCP {
		return s, err
	}
	if s.State == TCPListen && remote.Port() != 0 {
		// The kernel's lookup (inet_lookup) tries the listeners when no
		// connection matches: this connection is gone, this is the
		// socket listening where it arrived.
		return DiagSocket{Listener: s.Inode}, nil
	}
	if s.Inode != 0 {
		return s, nil
	}
	if s.State == 0 {
		return s, nil
	}
	// Not accepted yet (or TIME_WAIT): find the listener by asking for a
	// connection from nowhere to the flow's local end.
	l, err := d.exchange(family, proto, nlmFRequest, 0, src, netip.AddrPortFrom(unspecified(family), 0))
	if err == nil && l.State == TCPListen {
		s.Listener = l.Inode
	}
	return s, err
}

func mapped(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4() {
		return netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())
	}
	return ap
}

func unspecified(family uint8) netip.Addr {
	if family == afInet {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// exchange sends one request and reads replies up to the one answering it.
func (d *SockDiag) exchange(family, proto uint8, flags uint16, states uint32, src, dst netip.AddrPort) (DiagSocket, error) {
	if flags&nlmFDump == 0 {
		states = 0xffffffff // an exact lookup: any state
	}
	d.seq++
	seq := d.seq
	req := buildDiagRequest(d.req[:], seq, family, proto, flags, states, src, dst)
	if err := d.conn.Send(req); err != nil {
		return DiagSocket{}, fmt.Errorf("sock_diag request: %w", err)
	}
	for {
		n, err := d.conn.Receive(d.buf)
		if err != nil {
			return DiagSocket{}, fmt.Errorf("sock_diag reply: %w", err)
		}
		s, done, err := parseDiagReply(d.buf[:n], seq)
		if err != nil || done {
			return s, err
		}
	}
}

// buildDiagRequest writes a SOCK_DIAG_BY_FAMILY request (struct nlmsghdr,
// then struct inet_diag_req_v2) into b, which must hold
// nlmsgHeaderLen+inetDiagReqLen bytes, and returns it.
func buildDiagRequest(b []byte, seq uint32, family, proto uint8, flags uint16, states uint32, src, dst netip.AddrPort) []byte {
	r := b[:nlmsgHeaderLen+inetDiagReqLen]
	clear(r)
	ne := binary.NativeEndian
	ne.PutUint32(r[0:], uint32(len(r)))
	ne.PutUint16(r[4:], sockDiagByFamily)
	ne.PutUint16(r[6:], flags)
	ne.PutUint32(r[8:], seq)
	q := r[nlmsgHeaderLen:]
	q[0], q[1] = family, proto
	// idiag_ext stays 0: a lookup needs no tcp_info; the cgroup id comes
	// unasked.
	ne.PutUint32(q[4:], states)
	id := q[8:]
	binary.BigEndian.PutUint16(id[0:], src.Port())
	binary.BigEndian.PutUint16(id[2:], dst.Port())
	putAddr(id[4:20], src.Addr())
	putAddr(id[20:36], dst.Addr())
	ne.PutUint32(id[40:], diagNoCookie)
	ne.PutUint32(id[44:], diagNoCookie)
	return r
}

// putAddr writes an address as inet_diag_sockid holds it: 4 bytes for
// IPv4 (the rest zero), 16 for IPv6, network order. The zero Addr writes
// nothing.
func putAddr(b []byte, a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		copy(b, v[:])
		return
	}
	if a.Is6() {
		v := a.As16()
		copy(b, v[:])
	}
}

// parseDiagReply reads one datagram of replies to request seq. done is
// true once the answer is complete: the socket (or an empty result for "no
// such socket"), an error the kernel sent, or the end of a dump. Messages
// answering other requests (late replies to a lookup that timed out) are
// passed over. A malformed datagram returns ErrSockDiagMalformed and no
// socket.
func parseDiagReply(b []byte, seq uint32) (s DiagSocket, done bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHeaderLen {
			return DiagSocket{}, true, fmt.Errorf("%w: %d bytes left after the last message", ErrSockDiagMalformed, len(b))
		}
		length := int(ne.Uint32(b[0:]))
		if length < nlmsgHeaderLen || length > len(b) {
			return DiagSocket{}, true, fmt.Errorf("%w: message length %d in %d bytes", ErrSockDiagMalformed, length, len(b))
		}
		typ, flags, mseq := ne.Uint16(b[4:]), ne.Uint16(b[6:]), ne.Uint32(b[8:])
		body := b[nlmsgHeaderLen:length]
		b = b[min(len(b), (length+3)&^3):]
		if mseq != seq {
			continue
		}
		switch typ {
		case nlmsgError:
			if len(body) < 4 {
				return DiagSocket{}, true, fmt.Errorf("%w: error message of %d bytes", ErrSockDiagMalformed, len(body))
			}
			return DiagSocket{}, true, diagErrno(int32(ne.Uint32(body)))
		case nlmsgDone:
			// A dump's end carries its error, if any: ENOENT there means
			// no handler for the protocol (not "no such socket").
			if len(body) >= 4 {
				if e := int32(ne.Uint32(body)); e < 0 {
					return DiagSocket{}, true, fmt.Errorf("%w: %w", ErrSockDiagUnsupported, syscall.Errno(-e))
				}
			}
			return DiagSocket{}, true, nil
		case sockDiagByFamily:
			m, err := parseDiagMsg(body)
			if err != nil {
				return DiagSocket{}, true, err
			}
			if flags&nlmFMulti != 0 {
				// Part of a dump: the answer is complete at NLMSG_DONE.
				continue
			}
			return m.socket(), true, nil
		}
	}
	return DiagSocket{}, false, nil
}

// diagErrno turns a netlink error code (a negative errno, 0 for success)
// into the lookup's result: ENOENT is "no such socket", not an error.
func diagErrno(code int32) error {
	errno := syscall.Errno(-code)
	switch {
	case code == 0, errno == errENOENT:
		return nil
	case code > 0:
		return fmt.Errorf("%w: positive error code %d", ErrSockDiagMalformed, code)
	case errno == errEINVAL || errno == errEOPNOTSUPP || errno == errEPROTONOSUPPORT:
		return fmt.Errorf("%w: %w", ErrSockDiagUnsupported, errno)
	}
	return fmt.Errorf("sock_diag: %w", errno)
}

// Linux's errno numbers, which the kernel sends whatever GOOS reads them.
const (
	errENOENT          syscall.Errno = 2
	errEINVAL          syscall.Errno = 22
	errEPROTONOSUPPORT syscall.Errno = 93
	errEOPNOTSUPP      syscall.Errno = 95
)

// diagMsg is a parsed struct inet_diag_msg with the attributes hogs reads.
type diagMsg struct {
	family, state, proto uint8 // proto: from INET_DIAG_PROTOCOL, 0 if absent
	src, dst             netip.AddrPort
	uid                  uint32
	inode, cookie        uint64
	cgroupID             uint64
	// From INET_DIAG_INFO's struct tcp_info, when it is there (hasTCPInfo).
	bytesAcked, bytesReceived uint64
	hasTCPInfo                bool
}

// socket is what a lookup reports of the message.
func (m *diagMsg) socket() DiagSocket {
	return DiagSocket{Inode: m.inode, UID: m.uid, Cookie: m.cookie, CgroupID: m.cgroupID, State: m.state}
}

// parseDiagMsg reads a struct inet_diag_msg and the attributes after it.
func parseDiagMsg(body []byte) (diagMsg, error) {
	if len(body) < inetDiagMsgLen {
		return diagMsg{}, fmt.Errorf("%w: sock_diag message of %d bytes, want %d", ErrSockDiagMalformed, len(body), inetDiagMsgLen)
	}
	ne := binary.NativeEndian
	m := diagMsg{
		family: body[diagMsgFamily],
		state:  body[diagMsgState],
		uid:    ne.Uint32(body[diagMsgUID:]),
		inode:  uint64(ne.Uint32(body[diagMsgInode:])),
		cookie: uint64(ne.Uint32(body[diagMsgCookie:])) | uint64(ne.Uint32(body[diagMsgCookie+4:]))<<32,
	}
	sport, dport := binary.BigEndian.Uint16(body[diagMsgSport:]), binary.BigEndian.Uint16(body[diagMsgDport:])
	switch m.family {
	case afInet:
		m.src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[diagMsgSrc:diagMsgSrc+4])), sport)
		m.dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[diagMsgDst:diagMsgDst+4])), dport)
	case afInet6:
		m.src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[diagMsgSrc:diagMsgSrc+16])), sport)
		m.dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[diagMsgDst:diagMsgDst+16])), dport)
	default:
		return diagMsg{}, fmt.Errorf("%w: address family %d", ErrSockDiagMalformed, m.family)
	}
	if m.state == 0 {
		// No TCP state is 0: a message that says so cannot be trusted.
		return diagMsg{}, fmt.Errorf("%w: socket state 0", ErrSockDiagMalformed)
	}
	err := walkAttrs(body[inetDiagMsgLen:], func(typ uint16, v []byte) {
		switch {
		case typ == inetDiagCgroup && len(v) >= 8:
			m.cgroupID = ne.Uint64(v)
		case typ == inetDiagProtocol && len(v) >= 1:
			m.proto = v[0]
		case typ == inetDiagInfo && len(v) >= tcpInfoBytesEnd:
			m.bytesAcked = ne.Uint64(v[tcpInfoAckedAt:])
			m.bytesReceived = ne.Uint64(v[tcpInfoRecvAt:])
			m.hasTCPInfo = true
		}
	})
	if err != nil {
		return diagMsg{}, err
	}
	return m, nil
}

// walkAttrs calls fn for each netlink attribute (struct nlattr, then its
// value, padded to 4 bytes) in b.
func walkAttrs(b []byte, fn func(typ uint16, v []byte)) error {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlaHeaderLen {
			return fmt.Errorf("%w: %d bytes after the last attribute", ErrSockDiagMalformed, len(b))
		}
		length := int(ne.Uint16(b[0:]))
		if length < nlaHeaderLen || length > len(b) {
			return fmt.Errorf("%w: attribute length %d in %d bytes", ErrSockDiagMalformed, length, len(b))
		}
		fn(ne.Uint16(b[2:])&nlaTypeMask, b[nlaHeaderLen:length])
		b = b[min(len(b), (length+3)&^3):]
	}
	return nil
}

package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// SockDiag looks sockets up by their exact addresses through a netlink
// NETLINK_SOCK_DIAG socket: one request and one reply per socket, instead
// of reading and parsing every row of /proc/net/tcp (which costs the kernel
// about a millisecond even when almost empty, and a microsecond per
// socket). It answers for the network namespace it was opened in.
type SockDiag struct {
	fd  int
	seq atomic.Uint32
	req [nlmsgHeaderLen + inetDiagReqLen]byte
	buf []byte
}

// Layouts from linux/netlink.h and linux/inet_diag.h.
const (
	nlmsgHeaderLen   = 16
	inetDiagReqLen   = 56 // struct inet_diag_req_v2
	inetDiagMsgLen   = 72 // struct inet_diag_msg
	sockDiagByFamily = 20
	diagNoCookie     = 0xffffffff
)

// ErrSockDiagUnsupported: the kernel has no inet_diag for this protocol.
var ErrSockDiagUnsupported = errors.New("proc: sock_diag not supported")

// OpenSockDiag opens the netlink socket in the calling thread's network
// namespace.
func OpenSockDiag() (*SockDiag, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("opening sock_diag netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding sock_diag netlink socket: %w", err)
	}
	// A reply that takes longer than a second is a kernel in trouble:
	// give up on that lookup rather than stall the resolver.
	tv := unix.Timeval{Sec: 1}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return &SockDiag{fd: fd, buf: make([]byte, 8192)}, nil
}

// Close closes the netlink socket.
func (d *SockDiag) Close() error { return unix.Close(d.fd) }

// Lookup finds the socket of a flow: proto is ProtoTCP or ProtoUDP, local
// and remote its ends as this host sees them. It returns the socket's inode
// and owner uid; inode 0 with a nil error means no such socket (or one
// that owns no inode yet: a connection not accepted, TIME_WAIT).
func (d *SockDiag) Lookup(proto uint8, local, remote netip.AddrPort) (inode uint64, uid uint32, err error) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	family := uint8(unix.AF_INET)
	if local.Addr().Is6() || remote.Addr().Is6() {
		family = unix.AF_INET6
	}
	// TCP's lookup takes id.src as the socket's own end; UDP's (the
	// lookup of an arriving datagram) takes id.src as the sender: the
	// remote end.
	src, dst := local, remote
	if proto == ProtoUDP {
		src, dst = remote, local
	}
	inode, uid, err = d.query(family, proto, src, dst)
	if err == nil && inode == 0 && family == unix.AF_INET {
		// An IPv6 socket serving IPv4 (dual-stack, v4-mapped addresses).
		inode, uid, err = d.query(unix.AF_INET6, proto, mapped(src), mapped(dst))
	}
	return inode, uid, err
}

func mapped(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4() {
		return netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())
	}
	return ap
}

func (d *SockDiag) query(family, proto uint8, src, dst netip.AddrPort) (uint64, uint32, error) {
	seq := d.seq.Add(1)
	r := d.req[:]
	clear(r)
	ne := binary.NativeEndian
	ne.PutUint32(r[0:], uint32(len(r)))
	ne.PutUint16(r[4:], sockDiagByFamily)
	ne.PutUint16(r[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(r[8:], seq)
	q := r[nlmsgHeaderLen:]
	q[0], q[1] = family, proto
	ne.PutUint32(q[4:], 0xffffffff) // all states
	id := q[8:]
	binary.BigEndian.PutUint16(id[0:], src.Port())
	binary.BigEndian.PutUint16(id[2:], dst.Port())
	putAddr(id[4:20], src.Addr())
	putAddr(id[20:36], dst.Addr())
	ne.PutUint32(id[40:], diagNoCookie)
	ne.PutUint32(id[44:], diagNoCookie)
	if err := unix.Sendto(d.fd, r, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, 0, fmt.Errorf("sock_diag request: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(d.fd, d.buf, 0)
		if err != nil {
			return 0, 0, fmt.Errorf("sock_diag reply: %w", err)
		}
		for msg := d.buf[:n]; len(msg) >= nlmsgHeaderLen; {
			length := int(ne.Uint32(msg[0:]))
			if length < nlmsgHeaderLen || length > len(msg) {
				return 0, 0, fmt.Errorf("sock_diag reply: bad message length %d", length)
			}
			typ, mseq := ne.Uint16(msg[4:]), ne.Uint32(msg[8:])
			body := msg[nlmsgHeaderLen:length]
			msg = msg[(length+3)&^3:]
			if mseq != seq {
				continue // a late answer to an earlier request
			}
			switch typ {
			case unix.NLMSG_ERROR:
				if len(body) < 4 {
					return 0, 0, errors.New("sock_diag reply: short error")
				}
				errno := -int32(ne.Uint32(body))
				switch unix.Errno(errno) {
				case 0, unix.ENOENT:
					return 0, 0, nil // no such socket
				case unix.EINVAL, unix.EOPNOTSUPP, unix.EPROTONOSUPPORT:
					return 0, 0, fmt.Errorf("%w: %v", ErrSockDiagUnsupported, unix.Errno(errno))
				}
				return 0, 0, fmt.Errorf("sock_diag: %w", os.NewSyscallError("sock_diag", unix.Errno(errno)))
			case sockDiagByFamily:
				if len(body) < inetDiagMsgLen {
					return 0, 0, errors.New("sock_diag reply: short message")
				}
				return uint64(ne.Uint32(body[68:])), ne.Uint32(body[64:]), nil
			case unix.NLMSG_DONE:
				return 0, 0, nil
			}
		}
	}
}

// putAddr writes an address as inet_diag_sockid holds it: 4 bytes for
// IPv4 (the rest zero), 16 for IPv6, network order.
func putAddr(b []byte, a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		copy(b, v[:])
		return
	}
	v := a.As16()
	copy(b, v[:])
}

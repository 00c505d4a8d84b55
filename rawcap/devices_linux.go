//go:build linux

package rawcap

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Netlink reads the interface list of the network namespace it was opened
// in, over NETLINK_ROUTE sockets opened once by OpenNetlink. A netlink
// socket belongs to the namespace of the thread that created it, so later
// calls may run on any thread and still see that namespace; nothing here
// reads /sys or /proc, which show the mount namespace's view instead.
//
// Its methods are safe for concurrent use.
type Netlink struct {
	// mu serializes dumps: they share the query socket, seq and buf.
	mu        sync.Mutex
	query     *os.File
	queryConn syscall.RawConn
	seq       uint32
	buf       []byte
	// retries counts dumps that Devices repeated because a concurrent
	// change interrupted them (for tests).
	retries int

	// events is subscribed to link and address notifications; watch reads
	// it and signals changes.
	events    *os.File
	changes   chan struct{}
	watchDone chan struct{}

	// knownMu guards known: the links of the last Devices, by ifindex
	// (their Addrs left out). A link notification that says what known
	// says already is not a change: a container host sends one per
	// bridge port when its operational state settles, and each would
	// cost a dump of every link.
	knownMu sync.Mutex
	known   map[int]Device

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Dump tuning.
const (
	// dumpAttempts is how often Devices tries for a dump that no
	// concurrent change interrupted (NLM_F_DUMP_INTR).
	dumpAttempts = 8
	// dumpRetryDelay is the pause before the second attempt; it doubles
	// with each further one.
	dumpRetryDelay = time.Millisecond
	// initialRecvBufSize is the first size of the dump receive buffer, and
	// eventBufSize the fixed one of the notification reader. The kernel
	// fills dump messages up to 32 KiB; the dump reader grows its buffer if
	// a message is ever larger.
	initialRecvBufSize = 32 << 10
	eventBufSize       = 32 << 10
)

// nlaTypeMask strips the nested and byte-order flags from an attribute's
// type.
const nlaTypeMask = ^uint16(unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)

// errMalformed reports a netlink message that does not parse.
var errMalformed = errors.New("malformed netlink message")

// OpenNetlink opens the netlink sockets, in the network namespace of the
// calling thread: one for dumps, one subscribed to link and address
// changes (see Changes).
func OpenNetlink() (*Netlink, error) {
	query, queryConn, err := openRouteSocket(0)
	if err != nil {
		return nil, err
	}
	events, eventsConn, err := openRouteSocket(unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR)
	if err != nil {
		query.Close()
		return nil, err
	}
	n := &Netlink{
		query:     query,
		queryConn: queryConn,
		buf:       make([]byte, initialRecvBufSize),
		events:    events,
		changes:   make(chan struct{}, 1),
		watchDone: make(chan struct{}),
	}
	go n.watch(eventsConn)
	return n, nil
}

// openRouteSocket opens a NETLINK_ROUTE socket in the calling thread's
// network namespace, subscribed to the given multicast groups. The socket
// is non-blocking and registered with the runtime poller, so that closing
// the file wakes a reader blocked on it (netlink sockets do not support
// shutdown).
func openRouteSocket(groups uint32) (*os.File, syscall.RawConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, nil, fmt.Errorf("netlink: %w", os.NewSyscallError("socket", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("netlink: %w", os.NewSyscallError("bind", err))
	}
	f := os.NewFile(uintptr(fd), "netlink-route")
	conn, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("netlink: %w", err)
	}
	return f, conn, nil
}

// Close closes the sockets; a Devices call in progress fails, and the
// Changes channel is closed. Calling it again does nothing and returns the
// first call's result.
func (n *Netlink) Close() error {
	n.closeOnce.Do(func() {
		n.closed.Store(true)
		eventsErr := n.events.Close()
		<-n.watchDone
		n.closeErr = errors.Join(n.query.Close(), eventsErr)
	})
	return n.closeErr
}

// Changes returns a channel that receives a value whenever a link or
// address of the namespace appears, disappears or changes, and also when
// notifications were lost because the socket overflowed. Signals coalesce:
// the channel holds at most one, so a reader that calls Devices after each
// receive never misses the latest state. A link notification that says
// nothing the last Devices did not (a bridge port's operational state
// settling) is not signalled. The channel is closed by Close
// (or if the notification socket fails).
func (n *Netlink) Changes() <-chan struct{} { return n.changes }

// watch reads notifications until the events socket is closed.
func (n *Netlink) watch(conn syscall.RawConn) {
	defer close(n.watchDone)
	defer close(n.changes)
	buf := make([]byte, eventBufSize)
	for {
		var changed bool
		var recvErr error
		err := conn.Read(func(fd uintptr) bool {
			for {
				// A message larger than buf is truncated (MSG_TRUNC
				// gives its length): then it counts as a change.
				m, from, err := unix.Recvfrom(int(fd), buf, unix.MSG_TRUNC)
				switch err {
				case nil:
					changed = fromKernel(from) && n.news(buf[:min(m, len(buf))], m > len(buf))
				case unix.EINTR:
					continue
				case unix.EAGAIN:
					return false
				case unix.ENOBUFS:
					// Notifications were dropped: something changed.
					changed = true
				default:
					recvErr = err
				}
				return true
			}
		})
		if err != nil || recvErr != nil {
			return
		}
		if changed {
			select {
			case n.changes <- struct{}{}:
			default:
			}
		}
	}
}

// setKnown records the links of a Devices result.
func (n *Netlink) setKnown(devs []Device) {
	known := make(map[int]Device, len(devs))
	for _, d := range devs {
		d.Addrs = nil
		known[d.Index] = d
	}
	n.knownMu.Lock()
	n.known = known
	n.knownMu.Unlock()
}

// news reports whether a notification (one datagram, truncated when
// cut) may change what Devices returns: anything but an RTM_NEWLINK of a
// link whose fields the last Devices holds already, or a bridge's
// (AF_BRIDGE) notification of a port, does.
func (n *Netlink) news(b []byte, cut bool) bool {
	if cut {
		return true
	}
	n.knownMu.Lock()
	defer n.knownMu.Unlock()
	seen := false
	for len(b) > 0 {
		if len(b) < unix.NLMSG_HDRLEN {
			return true
		}
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return true
		}
		if typ != unix.RTM_NEWLINK {
			return true
		}
		body := b[unix.NLMSG_HDRLEN:l]
		if len(body) > 0 && body[0] == unix.AF_BRIDGE {
			// A bridge port's state (the bridge's own notification,
			// without the link's kind): what Devices holds of the port
			// (its master, up) comes in an AF_UNSPEC one as well.
			seen = true
			b = b[min(nlAlign(l), len(b)):]
			continue
		}
		d, err := parseLink(body)
		if err != nil {
			return true
		}
		if k, ok := n.known[d.Index]; !ok || !sameLink(k, d) {
			return true
		}
		seen = true
		b = b[min(nlAlign(l), len(b)):]
	}
	return !seen
}

// sameLink reports whether two links agree in every field but Addrs.
func sameLink(a, b Device) bool {
	a.Addrs, b.Addrs = nil, nil
	return a.Index == b.Index && a.Name == b.Name && a.Up == b.Up && a.Loopback == b.Loopback &&
		a.HWType == b.HWType && a.Kind == b.Kind && a.Master == b.Master && a.Link == b.Link &&
		a.PeerElsewhere == b.PeerElsewhere
}

// fromKernel reports whether a netlink message came from the kernel rather
// than from another process addressing this socket.
func fromKernel(from unix.Sockaddr) bool {
	sa, ok := from.(*unix.SockaddrNetlink)
	return ok && sa.Pid == 0
}

// Devices dumps the namespace's links, then its addresses, and returns the
// devices with their addresses, sorted by Index. A dump that a concurrent
// change interrupts is retried a few times before Devices gives up with an
// error.
func (n *Netlink) Devices() ([]Device, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delay := dumpRetryDelay
	for attempt := 1; ; attempt++ {
		if n.closed.Load() {
			return nil, fmt.Errorf("netlink: %w", os.ErrClosed)
		}
		devs, interrupted, err := n.dumpDevices()
		if err != nil {
			if n.closed.Load() {
				return nil, fmt.Errorf("netlink: %w", os.ErrClosed)
			}
			return nil, err
		}
		if !interrupted {
			n.setKnown(devs)
			return devs, nil
		}
		if attempt == dumpAttempts {
			return nil, fmt.Errorf("netlink: interface dump interrupted by concurrent changes %d times in a row", attempt)
		}
		n.retries++
		time.Sleep(delay)
		delay *= 2
	}
}

// dumpDevices makes one attempt at Devices, reporting whether the kernel
// flagged either dump as interrupted.
func (n *Netlink) dumpDevices() (devs []Device, interrupted bool, err error) {
	position := make(map[int]int) // ifindex → position in devs
	linksInterrupted, err := n.dump(unix.RTM_GETLINK, unix.SizeofIfInfomsg, func(msgType uint16, body []byte) error {
		if msgType != unix.RTM_NEWLINK {
			return nil
		}
		d, err := parseLink(body)
		if err != nil {
			return err
		}
		if _, dup := position[d.Index]; !dup {
			position[d.Index] = len(devs)
			devs = append(devs, d)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("netlink link dump: %w", err)
	}
	addrsInterrupted, err := n.dump(unix.RTM_GETADDR, unix.SizeofIfAddrmsg, func(msgType uint16, body []byte) error {
		if msgType != unix.RTM_NEWADDR {
			return nil
		}
		index, prefix, ok, err := parseAddr(body)
		if err != nil || !ok {
			return err
		}
		// An address of a link that appeared after the link dump waits for
		// the next refresh, which the change notification triggers.
		if i, found := position[index]; found {
			devs[i].Addrs = append(devs[i].Addrs, prefix)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("netlink address dump: %w", err)
	}
	slices.SortFunc(devs, func(a, b Device) int { return cmp.Compare(a.Index, b.Index) })
	return devs, linksInterrupted || addrsInterrupted, nil
}

// dump sends a dump request of type msgType for all address families (its
// family header, familyHeaderLen bytes, zeroed: AF_UNSPEC) and calls handle
// with the type and body of each message of the answer. It reads the answer
// to its end even when handle fails, so that the kernel's dump state is
// finished before the next request, and returns handle's first error. It
// reports whether the kernel flagged the answer with NLM_F_DUMP_INTR.
func (n *Netlink) dump(msgType uint16, familyHeaderLen int, handle func(msgType uint16, body []byte) error) (interrupted bool, err error) {
	n.seq++
	seq := n.seq
	req := make([]byte, unix.NLMSG_HDRLEN+familyHeaderLen)
	binary.NativeEndian.PutUint32(req[0:4], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:6], msgType)
	binary.NativeEndian.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:12], seq)
	if err := n.send(req); err != nil {
		return false, err
	}

	reply := dumpReply{seq: seq, handle: handle}
	for {
		data, from, err := n.recv()
		if err != nil {
			return false, err
		}
		if !fromKernel(from) {
			continue
		}
		done, err := reply.add(data)
		if err != nil {
			return false, err
		}
		if done {
			return reply.interrupted, reply.handleErr
		}
	}
}

// dumpReply follows the answer to one dump request across the datagrams
// that carry it.
type dumpReply struct {
	seq    uint32                                  // the request's sequence number
	handle func(msgType uint16, body []byte) error // called for each data message

	interrupted bool  // a message carried NLM_F_DUMP_INTR
	handleErr   error // handle's first error; later messages are skipped
}

// add processes one datagram. done reports that it held the end of the
// answer (NLMSG_DONE, or an NLMSG_ERROR acknowledgement); err is the dump's
// failure: the kernel's error code, or a message that does not parse.
// Messages of other sequence numbers are skipped: they are the tail of an
// earlier exchange.
func (r *dumpReply) add(data []byte) (done bool, err error) {
	for len(data) > 0 {
		if len(data) < unix.NLMSG_HDRLEN {
			return false, errMalformed
		}
		msgLen := int(binary.NativeEndian.Uint32(data[0:4]))
		if msgLen < unix.NLMSG_HDRLEN || msgLen > len(data) {
			return false, errMalformed
		}
		typ := binary.NativeEndian.Uint16(data[4:6])
		flags := binary.NativeEndian.Uint16(data[6:8])
		seq := binary.NativeEndian.Uint32(data[8:12])
		body := data[unix.NLMSG_HDRLEN:msgLen]
		data = data[min(nlAlign(msgLen), len(data)):]

		if seq != r.seq {
			continue
		}
		if flags&unix.NLM_F_DUMP_INTR != 0 {
			r.interrupted = true
		}
		switch typ {
		case unix.NLMSG_NOOP:
		case unix.NLMSG_DONE:
			// Since Linux 4.x the body carries the dump's result.
			if len(body) >= 4 {
				if code := int32(binary.NativeEndian.Uint32(body)); code < 0 {
					return true, syscall.Errno(-code)
				}
			}
			return true, nil
		case unix.NLMSG_ERROR:
			if len(body) < 4 {
				return false, errMalformed
			}
			if code := int32(binary.NativeEndian.Uint32(body)); code < 0 {
				return true, syscall.Errno(-code)
			}
			return true, nil // an acknowledgement ends the exchange too
		case unix.NLMSG_OVERRUN:
			return false, errors.New("data lost (NLMSG_OVERRUN)")
		default:
			if r.handleErr == nil {
				r.handleErr = r.handle(typ, body)
			}
		}
	}
	return false, nil
}

// send writes one request to the kernel.
func (n *Netlink) send(req []byte) error {
	kernel := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	var sendErr error
	err := n.queryConn.Write(func(fd uintptr) bool {
		for {
			sendErr = unix.Sendto(int(fd), req, 0, kernel)
			switch sendErr {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			return true
		}
	})
	if err == nil {
		err = sendErr
	}
	if err != nil {
		return os.NewSyscallError("sendto", err)
	}
	return nil
}

// recv reads one datagram (which holds one or more messages) into n.buf,
// growing it when the datagram is larger, and returns it with its sender.
func (n *Netlink) recv() ([]byte, unix.Sockaddr, error) {
	var (
		size    int
		from    unix.Sockaddr
		recvErr error
	)
	err := n.queryConn.Read(func(fd uintptr) bool {
		for {
			// Peek with MSG_TRUNC to learn the datagram's full size.
			size, _, recvErr = unix.Recvfrom(int(fd), n.buf, unix.MSG_PEEK|unix.MSG_TRUNC)
			switch recvErr {
			case nil:
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			default:
				return true
			}
			if size > len(n.buf) {
				n.buf = make([]byte, size)
			}
			size, from, recvErr = unix.Recvfrom(int(fd), n.buf, 0)
			if recvErr == unix.EINTR {
				continue // the datagram is still queued
			}
			return true
		}
	})
	if err == nil {
		err = recvErr
	}
	if err != nil {
		return nil, nil, os.NewSyscallError("recvfrom", err)
	}
	return n.buf[:size], from, nil
}

// parseLink decodes the body of an RTM_NEWLINK message.
func parseLink(body []byte) (Device, error) {
	if len(body) < unix.SizeofIfInfomsg {
		return Device{}, errMalformed
	}
	flags := binary.NativeEndian.Uint32(body[8:12])
	d := Device{
		HWType:   binary.NativeEndian.Uint16(body[2:4]),
		Index:    int(int32(binary.NativeEndian.Uint32(body[4:8]))),
		Up:       flags&unix.IFF_UP != 0,
		Loopback: flags&unix.IFF_LOOPBACK != 0,
	}
	var link int
	var linkInOtherNetns bool
	err := walkAttrs(body[unix.SizeofIfInfomsg:], func(typ uint16, val []byte) error {
		var err error
		switch typ {
		case unix.IFLA_IFNAME:
			d.Name = cString(val)
		case unix.IFLA_MASTER:
			d.Master, err = attrIndex(val)
		case unix.IFLA_LINK:
			link, err = attrIndex(val)
		case unix.IFLA_LINK_NETNSID:
			linkInOtherNetns = true
		case unix.IFLA_LINKINFO:
			err = walkAttrs(val, func(typ uint16, val []byte) error {
				if typ == unix.IFLA_INFO_KIND {
					d.Kind = cString(val)
				}
				return nil
			})
		}
		return err
	})
	if err != nil {
		return Device{}, err
	}
	switch d.Kind {
	case "veth", "vxcan", "netkit":
		// IFLA_LINK names the peer, a sibling rather than a parent.
		d.PeerElsewhere = linkInOtherNetns
	default:
		if link != d.Index && !linkInOtherNetns {
			d.Link = link
		}
	}
	return d, nil
}

// parseAddr decodes the body of an RTM_NEWADDR message. ok is false for
// address families other than IPv4 and IPv6.
func parseAddr(body []byte) (index int, prefix netip.Prefix, ok bool, err error) {
	if len(body) < unix.SizeofIfAddrmsg {
		return 0, netip.Prefix{}, false, errMalformed
	}
	family, prefixLen := body[0], int(body[1])
	index = int(int32(binary.NativeEndian.Uint32(body[4:8])))
	var local, address []byte
	err = walkAttrs(body[unix.SizeofIfAddrmsg:], func(typ uint16, val []byte) error {
		switch typ {
		case unix.IFA_LOCAL:
			local = val
		case unix.IFA_ADDRESS:
			address = val
		}
		return nil
	})
	if err != nil {
		return 0, netip.Prefix{}, false, err
	}
	raw := local
	if raw == nil {
		raw = address
	}
	var addr netip.Addr
	switch {
	case family == unix.AF_INET && len(raw) == 4:
		addr = netip.AddrFrom4([4]byte(raw))
	case family == unix.AF_INET6 && len(raw) == 16:
		addr = netip.AddrFrom16([16]byte(raw))
	default:
		return 0, netip.Prefix{}, false, nil
	}
	return index, netip.PrefixFrom(addr, prefixLen), true, nil
}

// walkAttrs calls fn with the type (without flags) and value of each
// netlink attribute in b.
func walkAttrs(b []byte, fn func(typ uint16, val []byte) error) error {
	for len(b) >= unix.SizeofRtAttr {
		attrLen := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4]) & nlaTypeMask
		if attrLen < unix.SizeofRtAttr || attrLen > len(b) {
			return errMalformed
		}
		if err := fn(typ, b[unix.SizeofRtAttr:attrLen]); err != nil {
			return err
		}
		b = b[min(nlAlign(attrLen), len(b)):]
	}
	return nil
}

// attrIndex decodes a u32 ifindex attribute.
func attrIndex(val []byte) (int, error) {
	if len(val) < 4 {
		return 0, errMalformed
	}
	return int(int32(binary.NativeEndian.Uint32(val))), nil
}

// cString returns the NUL-terminated string at the start of b.
func cString(b []byte) string {
	if i := slices.Index(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// nlAlign rounds a netlink message or attribute length up to the 4-byte
// alignment of the next one.
func nlAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

package netns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// RTNL is an rtnetlink socket in the namespace it was opened in. Its
// methods are serialised.
type RTNL struct {
	mu  sync.Mutex
	fd  int
	seq uint32
	buf []byte
	// watching: WatchAddrs subscribed the socket to address changes.
	watching bool
}

// OpenRTNL opens an rtnetlink socket in the calling thread's namespace.
func OpenRTNL() (*RTNL, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netns: rtnetlink socket: %w", err)
	}
	return newRTNL(fd)
}

// OpenRTNLIn opens an rtnetlink socket inside namespace nsFD.
func OpenRTNLIn(nsFD int) (*RTNL, error) {
	fd, err := SocketIn(nsFD, unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	return newRTNL(fd)
}

func newRTNL(fd int) (*RTNL, error) {
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netns: binding rtnetlink socket: %w", err)
	}
	// Answers to this socket's own requests only; a stuck kernel must not
	// hang a refresh.
	tv := unix.Timeval{Sec: 2}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netns: rtnetlink receive timeout: %w", err)
	}
	return &RTNL{fd: fd, buf: make([]byte, 64<<10)}, nil
}

// Close closes the socket.
func (r *RTNL) Close() error { return unix.Close(r.fd) }

// request sends one message of type typ with payload and calls fn with
// every reply payload of that type until the kernel says it is done (a
// dump's NLMSG_DONE, or the one answer of a plain request).
func (r *RTNL) request(typ uint16, flags uint16, payload []byte, replyType uint16, fn func([]byte)) error {
	r.seq++
	seq := r.seq
	msg := make([]byte, nlmsgHdrLen+len(payload))
	binary.NativeEndian.PutUint32(msg, uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|flags)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	copy(msg[nlmsgHdrLen:], payload)
	if err := unix.Sendto(r.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netns: rtnetlink send: %w", err)
	}
	dump := flags&unix.NLM_F_DUMP != 0
	for {
		n, _, err := unix.Recvfrom(r.fd, r.buf, 0)
		if err != nil {
			return fmt.Errorf("netns: rtnetlink receive: %w", err)
		}
		var done bool
		var rerr error
		walkMessages(r.buf[:n], func(m Message) bool {
			if m.Seq != seq {
				return true // a stale answer to an earlier, timed-out request
			}
			switch m.Type {
			case unix.NLMSG_DONE:
				done = true
				return false
			case unix.NLMSG_ERROR:
				done = true
				if len(m.Payload) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(m.Payload)); code != 0 {
						rerr = unix.Errno(-code)
					}
				}
				return false
			case replyType:
				fn(m.Payload)
				if !dump {
					done = true
					return false
				}
			}
			return true
		})
		if rerr != nil {
			return fmt.Errorf("netns: rtnetlink: %w", rerr)
		}
		if done {
			return nil
		}
	}
}

// Links lists the links of the socket's namespace.
func (r *RTNL) Links() ([]Link, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var links []Link
	req := make([]byte, ifinfomsgLen) // struct ifinfomsg, family AF_UNSPEC
	err := r.request(unix.RTM_GETLINK, unix.NLM_F_DUMP, req, unix.RTM_NEWLINK, func(b []byte) {
		if l, ok := ParseLink(b); ok {
			links = append(links, l)
		}
	})
	return links, err
}

// ErrNoNSID reports that the socket's namespace has assigned no id to a
// namespace (no link of it points there).
var ErrNoNSID = errors.New("netns: no namespace id assigned")

// NSID returns the id the socket's namespace knows namespace nsFD by (the
// IFLA_LINK_NETNSID of its links that point there).
func (r *RTNL) NSID(nsFD int) (int32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	req := make([]byte, rtgenmsgLen+8)
	req[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint16(req[rtgenmsgLen:], 8)
	binary.NativeEndian.PutUint16(req[rtgenmsgLen+2:], netnsaFD)
	binary.NativeEndian.PutUint32(req[rtgenmsgLen+4:], uint32(nsFD))
	id := int32(-1)
	err := r.request(unix.RTM_GETNSID, 0, req, unix.RTM_NEWNSID, func(b []byte) {
		id, _ = ParseNSID(b)
	})
	if err != nil {
		return -1, err
	}
	if id < 0 {
		return -1, ErrNoNSID
	}
	return id, nil
}

// Peer is where the far end of a veth lives.
type Peer struct {
	// NetNS is the inode of the peer's namespace.
	NetNS uint32
	// Index is the peer's ifindex inside that namespace.
	Index int32
}

// Peers maps the ifindex of each link in r's namespace whose peer lives in
// another namespace found by the last Scan to that peer. Namespace ids are
// asked of the kernel only when a link names an id not known yet, and are
// remembered while the namespace exists; a Scanner's Peers must always be
// given the same RTNL (ids are local to its namespace). Peers in
// namespaces no Scan found (or that cannot be opened) are left out.
func (s *Scanner) Peers(r *RTNL) (map[int32]Peer, error) {
	links, err := r.Links()
	if err != nil {
		return nil, err
	}
	return s.PeersOf(r, links), nil
}

// PeersOf is Peers for links that r listed (r.Links).
func (s *Scanner) PeersOf(r *RTNL, links []Link) map[int32]Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	byID := make(map[int32]uint32, len(s.nsids))
	for inode, id := range s.nsids {
		byID[id] = inode
	}
	missing := false
	for _, l := range links {
		if _, ok := byID[l.PeerNSID]; l.PeerNSID >= 0 && !ok {
			missing = true
		}
	}
	if missing {
		for inode, ns := range s.current {
			if _, ok := s.nsids[inode]; ok || ns.Self {
				continue
			}
			fd, err := s.openLocked(inode)
			if err != nil {
				continue
			}
			// Namespaces without an id are asked again next time: a veth
			// made later assigns one.
			if id, err := r.NSID(fd); err == nil {
				s.nsids[inode] = id
				byID[id] = inode
			}
		}
	}
	peers := make(map[int32]Peer)
	for _, l := range links {
		if l.PeerNSID < 0 || l.PeerIndex == 0 {
			continue
		}
		if inode, ok := byID[l.PeerNSID]; ok {
			peers[l.Index] = Peer{NetNS: inode, Index: l.PeerIndex}
		}
	}
	return peers
}

// Addr is an address of a link.
type Addr struct {
	Prefix netip.Prefix
	Index  int32 // the link's
}

// Addrs lists the IPv4 and IPv6 addresses of the socket's namespace.
func (r *RTNL) Addrs() ([]Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var addrs []Addr
	req := make([]byte, ifaddrmsgLen) // struct ifaddrmsg, family AF_UNSPEC
	err := r.request(unix.RTM_GETADDR, unix.NLM_F_DUMP, req, unix.RTM_NEWADDR, func(b []byte) {
		if p, index, ok := ParseAddr(b); ok {
			addrs = append(addrs, Addr{Prefix: p, Index: index})
		}
	})
	return addrs, err
}

// WatchAddrs subscribes the socket to the namespace's address changes
// (RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR): AddrsChanged then tells
// whether any came.
func (r *RTNL) WatchAddrs() error {
	return r.watch("addresses", unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR)
}

// WatchLinks subscribes the socket to the namespace's link changes and
// namespace id assignments (RTNLGRP_LINK, RTNLGRP_NSID): AddrsChanged then
// tells whether any came. Such a socket is for watching only: a request's
// answer read on it would swallow notifications.
func (r *RTNL) WatchLinks() error {
	return r.watch("links", unix.RTNLGRP_LINK, unix.RTNLGRP_NSID)
}

func (r *RTNL) watch(what string, groups ...int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range groups {
		if err := unix.SetsockoptInt(r.fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, g); err != nil {
			return fmt.Errorf("netns: watching %s: %w", what, err)
		}
	}
	r.watching = true
	return nil
}

// Pending reports, without reading them, which of rs have notifications
// waiting (pending[i] for rs[i]; true also for a socket that is not
// watching or that poll finds in error): one poll for them all, so that
// only those asked AddrsChanged cost a read. pending is reused if long
// enough.
func Pending(rs []*RTNL, pending []bool) []bool {
	pending = append(pending[:0], make([]bool, len(rs))...)
	fds := make([]unix.PollFd, len(rs))
	for i, r := range rs {
		fds[i] = unix.PollFd{Fd: int32(r.fd), Events: unix.POLLIN}
	}
	for {
		_, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			for i := range pending {
				pending[i] = true
			}
			return pending
		}
		break
	}
	for i, r := range rs {
		pending[i] = fds[i].Revents != 0 || !r.watching
	}
	return pending
}

// AddrsChanged reads, without waiting, the notifications that came since
// the last call and reports whether any did (an overflow of the socket's
// buffer counts as a change). Without WatchAddrs it reports true.
func (r *RTNL) AddrsChanged() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.watching {
		return true
	}
	changed := false
	for {
		n, _, err := unix.Recvfrom(r.fd, r.buf, unix.MSG_DONTWAIT)
		if err != nil {
			return changed || err == unix.ENOBUFS
		}
		if n > 0 {
			changed = true
		}
	}
}

package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// DestroyWatcher receives the kernel's socket-destroy notifications
// (sock_diag's SKNLGRP_INET_TCP_DESTROY, _UDP_, and their INET6
// variants): one event for each TCP or UDP socket freed in the network
// namespace it was opened in, with its ends, cookie and, for TCP, its
// final byte counters. A flow whose socket is gone need never be searched
// for again, and its end is known exactly. Not safe for concurrent use,
// except Close, which ends a Next waiting in another goroutine.
type DestroyWatcher struct {
	conn    netlinkConn
	buf     []byte
	pending []byte // the unread messages of the last datagram
	lost    uint64
}

// ClosedSocket is one socket-destroy event.
type ClosedSocket struct {
	Proto uint8 // ProtoTCP or ProtoUDP
	// Local and Remote are the socket's ends (Remote unspecified, port 0,
	// for an unconnected UDP socket); IPv4 over a dual-stack IPv6 socket
	// shows as IPv4-mapped addresses.
	Local, Remote netip.AddrPort
	// Cookie is the socket's number, as in DiagSocket.Cookie.
	Cookie uint64
	// UID and Inode are what the kernel reports: by the time a socket is
	// freed it has left its file (inode 0) and Linux fills neither in
	// destroy events; they are kept so that a kernel that does is seen.
	UID   uint32
	Inode uint64
	State uint8 // the TCP state it ended in (TCPClose, normally)
	// BytesAcked and BytesReceived are tcp_info's tcpi_bytes_acked and
	// tcpi_bytes_received: sequence space, so the payload plus one or two
	// for the FINs;
	// HasByteCounts is false for UDP, which has no such counters.
	BytesAcked, BytesReceived uint64
	HasByteCounts             bool
}

// ErrEventsLost: the kernel dropped destroy events because hogs read them
// too slowly (ENOBUFS on the netlink socket). Watching goes on.
var ErrEventsLost = errors.New("proc: socket-destroy events lost (receive buffer overrun)")

// The sock_diag multicast groups (linux/sock_diag.h), as a bind mask.
const (
	groupInetTCPDestroy  = 1
	groupInetUDPDestroy  = 2
	groupInet6TCPDestroy = 3
	groupInet6UDPDestroy = 4
	destroyGroups        = 1<<(groupInetTCPDestroy-1) | 1<<(groupInetUDPDestroy-1) |
		1<<(groupInet6TCPDestroy-1) | 1<<(groupInet6UDPDestroy-1)
)

// newDestroyWatcher reads events from an open, subscribed conversation.
func newDestroyWatcher(conn netlinkConn) *DestroyWatcher {
	return &DestroyWatcher{conn: conn, buf: make([]byte, destroyBufferSize)}
}

// destroyBufferSize is a read: the kernel puts one event per datagram
// (under 400 bytes with tcp_info), so a page is plenty.
const destroyBufferSize = 8192

// Next returns the next closed socket, waiting for one. An error wrapping
// ErrEventsLost says events were dropped before this point (call Next
// again); one wrapping ErrSockDiagMalformed a datagram it could not read
// (passed over; call Next again); any other error ends the watch (Close
// was called, or the socket failed).
func (w *DestroyWatcher) Next() (ClosedSocket, error) {
	for {
		if len(w.pending) == 0 {
			n, err := w.conn.Receive(w.buf)
			if err != nil {
				if isNoBufs(err) {
					w.lost++
					return ClosedSocket{}, fmt.Errorf("%w: %w", ErrEventsLost, err)
				}
				return ClosedSocket{}, fmt.Errorf("socket-destroy events: %w", err)
			}
			w.pending = w.buf[:n]
		}
		ev, ok, rest, err := nextDestroyed(w.pending)
		w.pending = rest
		if err != nil || ok {
			return ev, err
		}
	}
}

// Lost counts the times the kernel reported dropped events.
func (w *DestroyWatcher) Lost() uint64 { return w.lost }

// Close stops watching.
func (w *DestroyWatcher) Close() error { return w.conn.Close() }

// nextDestroyed reads the first message of b: ok with the event if it is
// one, and the rest of b. A malformed message drops the whole rest (its
// length cannot be trusted to find the next one).
func nextDestroyed(b []byte) (ev ClosedSocket, ok bool, rest []byte, err error) {
	ne := binary.NativeEndian
	if len(b) < nlmsgHeaderLen {
		return ClosedSocket{}, false, nil, fmt.Errorf("%w: %d bytes left after the last message", ErrSockDiagMalformed, len(b))
	}
	length := int(ne.Uint32(b[0:]))
	if length < nlmsgHeaderLen || length > len(b) {
		return ClosedSocket{}, false, nil, fmt.Errorf("%w: message length %d in %d bytes", ErrSockDiagMalformed, length, len(b))
	}
	typ := ne.Uint16(b[4:])
	body, rest := b[nlmsgHeaderLen:length], b[min(len(b), (length+3)&^3):]
	if typ != sockDiagByFamily {
		return ClosedSocket{}, false, rest, nil
	}
	m, err := parseDiagMsg(body)
	if err != nil {
		return ClosedSocket{}, false, rest, err
	}
	if m.proto != ProtoTCP && m.proto != ProtoUDP {
		// UDP-Lite, or no INET_DIAG_PROTOCOL: not a flow hogs counts.
		return ClosedSocket{}, false, rest, nil
	}
	return ClosedSocket{
		Proto: m.proto, Local: m.src, Remote: m.dst, Cookie: m.cookie, UID: m.uid, Inode: m.inode, State: m.state,
		BytesAcked: m.bytesAcked, BytesReceived: m.bytesReceived, HasByteCounts: m.hasTCPInfo,
	}, true, rest, nil
}

package kevents

import (
	"encoding/binary"
	"net/netip"
)

// The byte layouts the programs and user space share. Both sides are
// written here, so they are kept in one place.

// Address families as the kernel numbers them.
const (
	afInet  = 2
	afInet6 = 10
)

// A flow key (48 bytes) finds a TCP connection:
//
//	0  u32  network namespace inode
//	4  u16  remote port, network order (skc_dport as stored)
//	6  u16  local port, host order
//	8  u8   protocol (6)
//	9  u8   address family of the socket (2 or 10)
//	10      zero
//	16 [16] local address (IPv4: the first 4 bytes)
//	32 [16] remote address
const (
	flowKeySize     = 48
	flowKeyNetNS    = 0
	flowKeyRport    = 4
	flowKeyLport    = 6
	flowKeyProto    = 8
	flowKeyFamily   = 9
	flowKeyLaddr    = 16
	flowKeyRaddr    = 32
	flowKeyAddrSize = 16
)

// A port key (8 bytes) finds a listening TCP socket or a UDP socket by
// its local port:
//
//	0  u32  network namespace inode
//	4  u16  local port, host order
//	6  u8   protocol
//	7       zero
const (
	portKeySize  = 8
	portKeyNetNS = 0
	portKeyPort  = 4
	portKeyProto = 6
)

// A record (64 bytes) says who owned a socket:
//
//	0  u32  tgid
//	4  u32  uid
//	8  u64  cgroup v2 id
//	16 u64  the process's start, ns since boot (task start_boottime)
//	24 u64  when it was recorded (or last seen, UDP), CLOCK_MONOTONIC ns
//	32 u64  when the socket closed (0: open), CLOCK_MONOTONIC ns
//	40 u32  flags (recordPassive, recordUDP)
//	44      zero
//	48 [16] comm of the thread, NUL-padded
const (
	recordSize    = 64
	recordTGID    = 0
	recordUID     = 4
	recordCgroup  = 8
	recordStart   = 16
	recordSeen    = 24
	recordClosed  = 32
	recordFlags   = 40
	recordComm    = 48
	recordCommLen = 16
)

// Record flags.
const (
	// recordPassive marks a connection accepted from a listener: its
	// owner is the listener's until user space learns better.
	recordPassive = 1
	// recordUDP marks a UDP port's record, refreshed by sends and receives.
	recordUDP = 2
)

// record is a decoded record.
type record struct {
	TGID, UID uint32
	Cgroup    uint64
	StartNS   uint64
	Seen      uint64
	Closed    uint64
	Flags     uint32
	Comm      [recordCommLen]byte // NUL-padded
}

// CommName is the comm up to its first NUL.
func (r *record) CommName() string {
	n := 0
	for n < len(r.Comm) && r.Comm[n] != 0 {
		n++
	}
	return string(r.Comm[:n])
}

// decodeRecord decodes a record's bytes; false when b is not one.
func decodeRecord(b []byte, r *record) bool {
	if len(b) != recordSize {
		return false
	}
	ne := binary.NativeEndian
	r.TGID = ne.Uint32(b[recordTGID:])
	r.UID = ne.Uint32(b[recordUID:])
	r.Cgroup = ne.Uint64(b[recordCgroup:])
	r.StartNS = ne.Uint64(b[recordStart:])
	r.Seen = ne.Uint64(b[recordSeen:])
	r.Closed = ne.Uint64(b[recordClosed:])
	r.Flags = ne.Uint32(b[recordFlags:])
	copy(r.Comm[:], b[recordComm:recordComm+recordCommLen])
	return true
}

// encodeRecord is decodeRecord's inverse, for tests and fakes.
func encodeRecord(r record, b []byte) {
	clear(b[:recordSize])
	ne := binary.NativeEndian
	ne.PutUint32(b[recordTGID:], r.TGID)
	ne.PutUint32(b[recordUID:], r.UID)
	ne.PutUint64(b[recordCgroup:], r.Cgroup)
	ne.PutUint64(b[recordStart:], r.StartNS)
	ne.PutUint64(b[recordSeen:], r.Seen)
	ne.PutUint64(b[recordClosed:], r.Closed)
	ne.PutUint32(b[recordFlags:], r.Flags)
	copy(b[recordComm:recordComm+recordCommLen], r.Comm[:])
}

// flowKey fills b (flowKeySize bytes) with the key of a connection of
// protocol proto in namespace netns, as a socket of family family records
// it: an IPv4 address seen by an IPv6 socket is v4-mapped. False when the
// addresses do not fit the family.
func flowKey(b []byte, netns uint32, proto uint8, family uint8, local, remote netip.AddrPort) bool {
	clear(b[:flowKeySize])
	ne := binary.NativeEndian
	ne.PutUint32(b[flowKeyNetNS:], netns)
	binary.BigEndian.PutUint16(b[flowKeyRport:], remote.Port())
	ne.PutUint16(b[flowKeyLport:], local.Port())
	b[flowKeyProto] = proto
	b[flowKeyFamily] = family
	la, ra := local.Addr(), remote.Addr()
	switch family {
	case afInet:
		la, ra = la.Unmap(), ra.Unmap()
		if !la.Is4() || !ra.Is4() {
			return false
		}
		l4, r4 := la.As4(), ra.As4()
		copy(b[flowKeyLaddr:], l4[:])
		copy(b[flowKeyRaddr:], r4[:])
	case afInet6:
		if !la.IsValid() || !ra.IsValid() {
			return false
		}
		l6, r6 := la.As16(), ra.As16()
		copy(b[flowKeyLaddr:], l6[:])
		copy(b[flowKeyRaddr:], r6[:])
	default:
		return false
	}
	return true
}

// portKey fills b (portKeySize bytes) with the key of local port port of
// protocol proto in namespace netns.
func portKey(b []byte, netns uint32, proto uint8, port uint16) {
	clear(b[:portKeySize])
	binary.NativeEndian.PutUint32(b[portKeyNetNS:], netns)
	binary.NativeEndian.PutUint16(b[portKeyPort:], port)
	b[portKeyProto] = proto
}

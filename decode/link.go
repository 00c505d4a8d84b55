package decode

import "encoding/binary"

// Link-layer headers, as far as the decoder reads them.
//
// Ethernet II: destination and source MAC, then the EtherType.
//
//	| destination (6) | source (6) | EtherType (2) |
//
// An 802.1Q or 802.1ad tag follows the EtherType that announced it: the tag
// control information (priority 3 bits, drop eligible 1, VLAN ID 12), then
// the EtherType of what follows.
//
//	| PCP, DEI, VLAN ID (2) | EtherType (2) |
//
// Linux cooked capture v1 (LINKTYPE_LINUX_SLL):
//
//	| packet type (2) | ARPHRD type (2) | address length (2) | address (8) | protocol (2) |
//
// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2):
//
//	| protocol (2) | reserved (2) | interface index (4) | ARPHRD type (2) | packet type (1) | address length (1) | address (8) |
//
// BSD loopback (LINKTYPE_NULL): the address family as a 32-bit word in the
// byte order of the host that wrote it.
const (
	ethernetEtherType = 12
	ethernetHeaderLen = 14

	vlanTCI       = 0
	vlanEtherType = 2
	vlanTagLen    = 4
	vlanIDMask    = 0x0fff

	sllPacketType = 0
	sllProtocol   = 14
	sllHeaderLen  = 16

	sll2Protocol   = 0
	sll2PacketType = 10
	sll2HeaderLen  = 20

	nullHeaderLen = 4
)

// EtherTypes the link-layer walk recognises.
const (
	etherTypeIPv4    = 0x0800
	etherTypeIPv6    = 0x86dd
	etherTypeVLAN    = 0x8100 // 802.1Q
	etherTypeQinQ    = 0x88a8 // 802.1ad
	etherTypeQinQOld = 0x9100 // pre-standard double tagging
)

// Linux packet types (sll_pkttype) as cooked-capture headers write them.
const (
	pktHost      = 0
	pktBroadcast = 1
	pktMulticast = 2
	pktOtherHost = 3
	pktOutgoing  = 4
)

// BSD address families of IP: AF_INET everywhere; AF_INET6 on Linux,
// NetBSD and OpenBSD, FreeBSD, Darwin.
const (
	afInet         = 2
	afInet6Linux   = 10
	afInet6BSD     = 24
	afInet6FreeBSD = 28
	afInet6Darwin  = 30
)

// linkFacts are what a link header says about its frame: the EtherType of
// the payload (after any VLAN tags), the outermost VLAN ID with FlagVLAN,
// FlagTruncated where the header was cut short, and the direction.
type linkFacts struct {
	etherType, vlan uint16
	flags           Flags
	dir             Direction
}

// decodeFrame reads the link header of frame and hands what follows to the
// IP decoders; an IPv4 header goes to the fast path first.
func decodeFrame(link LinkType, frame []byte, p *Packet) {
	var (
		l   linkFacts
		off int // of the network header
	)
	switch link {
	case LinkEthernet:
		if len(frame) < ethernetHeaderLen {
			p.setLinkOnly(linkFacts{flags: FlagTruncated})
			return
		}
		l.etherType, off = be16(frame, ethernetEtherType), ethernetHeaderLen
	case LinkLinuxSLL:
		if len(frame) < sllHeaderLen {
			p.setLinkOnly(linkFacts{flags: FlagTruncated})
			return
		}
		l.dir = directionOf(be16(frame, sllPacketType))
		l.etherType, off = be16(frame, sllProtocol), sllHeaderLen
	case LinkLinuxSLL2:
		if len(frame) < sll2HeaderLen {
			p.setLinkOnly(linkFacts{flags: FlagTruncated})
			return
		}
		l.dir = directionOf(uint16(frame[sll2PacketType]))
		l.etherType, off = be16(frame, sll2Protocol), sll2HeaderLen
	case LinkRaw, LinkRawAlt, LinkIPv4, LinkIPv6:
		// The version nibble decides, and must match the link type where
		// that names a version.
		if len(frame) == 0 {
			p.setLinkOnly(linkFacts{flags: FlagTruncated})
			return
		}
		switch v := frame[0] >> 4; {
		case v == 4 && link != LinkIPv6:
			if !decodeIPv4Plain(frame, 0, l, p) {
				decodeIPv4(frame, 0, l, p)
			}
		case v == 6 && link != LinkIPv4:
			decodeIPv6(frame, 0, l, p)
		default:
			p.setLinkOnly(l)
		}
		return
	case LinkNull:
		if len(frame) < nullHeaderLen {
			p.setLinkOnly(linkFacts{flags: FlagTruncated})
			return
		}
		family := binary.LittleEndian.Uint32(frame[0:nullHeaderLen])
		if family > 0xffff {
			family = binary.BigEndian.Uint32(frame[0:nullHeaderLen])
		}
		switch family {
		case afInet:
			if !decodeIPv4Plain(frame, nullHeaderLen, l, p) {
				decodeIPv4(frame, nullHeaderLen, l, p)
			}
		case afInet6Linux, afInet6BSD, afInet6FreeBSD, afInet6Darwin:
			decodeIPv6(frame, nullHeaderLen, l, p)
		default:
			p.setLinkOnly(l)
		}
		return
	default:
		p.setLinkOnly(l)
		return
	}
	for l.etherType == etherTypeVLAN || l.etherType == etherTypeQinQ || l.etherType == etherTypeQinQOld {
		if len(frame)-off < vlanTagLen {
			l.flags |= FlagTruncated
			p.setLinkOnly(l)
			return
		}
		if l.flags&FlagVLAN == 0 {
			l.flags |= FlagVLAN
			l.vlan = be16(frame, off+vlanTCI) & vlanIDMask
		}
		l.etherType = be16(frame, off+vlanEtherType)
		off += vlanTagLen
	}
	switch l.etherType {
	case etherTypeIPv4:
		if !decodeIPv4Plain(frame, off, l, p) {
			decodeIPv4(frame, off, l, p)
		}
	case etherTypeIPv6:
		decodeIPv6(frame, off, l, p)
	default:
		p.setLinkOnly(l)
	}
}

// setLinkOnly writes p for a frame without an IP header the decoder could
// read: only the link layer's facts.
func (p *Packet) setLinkOnly(l linkFacts) {
	*p = Packet{}
	p.EtherType, p.VLAN, p.Flags, p.Direction = l.etherType, l.vlan, l.flags, l.dir
}

// directionOf maps a cooked capture's packet type to a Direction.
func directionOf(pktType uint16) Direction {
	switch pktType {
	case pktOutgoing:
		return DirOut
	case pktHost, pktBroadcast, pktMulticast, pktOtherHost:
		return DirIn
	}
	return DirUnknown
}

// be16 reads the big-endian 16-bit field at off in b.
func be16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off : off+2]) }

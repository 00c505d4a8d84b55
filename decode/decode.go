package decode

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// EtherTypes the link-layer walk recognises.
const (
	etherTypeIPv4    = 0x0800
	etherTypeIPv6    = 0x86dd
	etherTypeVLAN    = 0x8100 // 802.1Q
	etherTypeQinQ    = 0x88a8 // 802.1ad
	etherTypeQinQOld = 0x9100 // pre-standard double tagging
)

// Linux packet types (sll_pkttype) as written in cooked-capture headers.
const (
	pktHost      = 0
	pktBroadcast = 1
	pktMulticast = 2
	pktOtherHost = 3
	pktOutgoing  = 4
)

// Header sizes.
const (
	ethernetHeaderLen = 14
	vlanTagLen        = 4
	sllHeaderLen      = 16
	sll2HeaderLen     = 20
	nullHeaderLen     = 4
	ipv4MinHeaderLen  = 20
	ipv6HeaderLen     = 40
	portsLen          = 4 // source and destination port of TCP and UDP
	udpHeaderLen      = 8
	tcpFlagsEnd       = 14 // the flags byte is the 14th of a TCP header
)

// Decode fills p with the summary of frame, captured on a link of type link.
// Every field of p is overwritten. See the package documentation for the
// contract.
//
// The commonest frames are decoded here without a call, with constant
// offsets: Ethernet II and Linux cooked captures (v1) carrying IPv4 without
// options, a fragment or not, and Ethernet II carrying IPv6 without
// extension headers, where the IP length field covers a whole TCP header and
// the capture holds one; and Ethernet frames that carry no IP, told by their
// EtherType alone. Other cooked captures, VLAN-tagged frames and raw IP take
// a plain-header decoder (decodeIPv4Plain, decodeIPv6Plain) where they can,
// every other frame the general one (decodeLink, decodeIPv4, decodeIPv6). All
// give the same results as the general decoder would.
func Decode(link LinkType, frame []byte, p *Packet) {
	const netOff, tOff4, tOff6 = ethernetHeaderLen, ethernetHeaderLen + ipv4MinHeaderLen, ethernetHeaderLen + ipv6HeaderLen
	if link == LinkEthernet && len(frame) >= netOff+ipv4MinHeaderLen+tcpFlagsEnd {
		etherType := binary.LittleEndian.Uint16(frame[12:14]) // bytes swapped
		if etherType == etherTypeIPv4LE {
			// One load for the header up to the fragment field.
			h := binary.LittleEndian.Uint64(frame[netOff : netOff+8])
			totalLen := bits.ReverseBytes16(uint16(h >> 16))
			if uint8(h) == 0x45 && totalLen >= ipv4MinHeaderLen+tcpFlagsEnd {
				// Version 4, IHL 5.
				p.Src, p.Dst = netip.AddrFrom4([4]byte(frame[netOff+12:netOff+16])), netip.AddrFrom4([4]byte(frame[netOff+16:netOff+20]))
				ports, tcpFlags, w3 := transportFast(frame[tOff4:tOff4+tcpFlagsEnd], frame[netOff+9], linkWord(etherTypeIPv4, 0, 0)|ipWord(0, IPv4, 0))
				offs := uint64(netOff | tOff4<<32)
				if h&ipv4FragMask != 0 {
					ports, tcpFlags, w3, offs = ipv4Fragment(h, ports, tcpFlags, w3, offs)
				}
				p.put(ports|uint64(totalLen)<<32, offs, w3, uint16(tcpFlags))
				return
			}
			decodeIPv4(frame, netOff, linkWord(etherTypeIPv4, 0, 0), DirUnknown, p)
			return
		}
		if etherType == etherTypeIPv6LE {
			if len(frame) >= netOff+ipv6HeaderLen+tcpFlagsEnd {
				payloadLen := binary.BigEndian.Uint16(frame[netOff+4 : netOff+6])
				if proto := frame[netOff+6]; frame[netOff]>>4 == 6 && payloadLen >= tcpFlagsEnd && !isExtHeader(proto) {
					p.Src, p.Dst = netip.AddrFrom16([16]byte(frame[netOff+8:netOff+24])), netip.AddrFrom16([16]byte(frame[netOff+24:netOff+40]))
					ports, tcpFlags, w3 := transportFast(frame[tOff6:tOff6+tcpFlagsEnd], proto, linkWord(etherTypeIPv6, 0, 0)|ipWord(0, IPv6, 0))
					p.put(ports|uint64(ipv6HeaderLen+uint32(payloadLen))<<32, netOff|tOff6<<32, w3, uint16(tcpFlags))
					return
				}
			}
			decodeIPv6(frame, netOff, linkWord(etherTypeIPv6, 0, 0), DirUnknown, p)
			return
		}
		if !isVLANLE(etherType) {
			*p = Packet{EtherType: bits.ReverseBytes16(etherType)} // no IP
			return
		}
		decodeLink(link, frame, p) // VLAN tags
		return
	}
	switch link {
	case LinkRaw:
		decodeRawFast(frame, p)
	case LinkEthernet:
		// Shorter than the fast paths above need: no IP, told by the
		// EtherType as above, or the general decoder.
		if len(frame) >= ethernetHeaderLen {
			if etherType := binary.LittleEndian.Uint16(frame[12:14]); etherType != etherTypeIPv4LE && etherType != etherTypeIPv6LE && !isVLANLE(etherType) {
				*p = Packet{EtherType: bits.ReverseBytes16(etherType)} // no IP
				return
			}
		}
		decodeLink(link, frame, p)
	case LinkLinuxSLL:
		const netOff, tOff4 = sllHeaderLen, sllHeaderLen + ipv4MinHeaderLen
		if len(frame) >= netOff+ipv4MinHeaderLen+tcpFlagsEnd && binary.LittleEndian.Uint16(frame[14:16]) == etherTypeIPv4LE {
			// IPv4 without options as on Ethernet above, with the direction.
			h := binary.LittleEndian.Uint64(frame[netOff : netOff+8])
			totalLen := bits.ReverseBytes16(uint16(h >> 16))
			if uint8(h) == 0x45 && totalLen >= ipv4MinHeaderLen+tcpFlagsEnd {
				p.Src, p.Dst = netip.AddrFrom4([4]byte(frame[netOff+12:netOff+16])), netip.AddrFrom4([4]byte(frame[netOff+16:netOff+20]))
				ports, tcpFlags, w3 := transportFast(frame[tOff4:tOff4+tcpFlagsEnd], frame[netOff+9], linkWord(etherTypeIPv4, 0, 0)|ipWord(0, IPv4, 0))
				offs := uint64(netOff | tOff4<<32)
				if h&ipv4FragMask != 0 {
					ports, tcpFlags, w3, offs = ipv4Fragment(h, ports, tcpFlags, w3, offs)
				}
				dir := directionOf(binary.BigEndian.Uint16(frame[0:2]))
				p.put(ports|uint64(totalLen)<<32, offs, w3, uint16(tcpFlags)|uint16(dir)<<8)
				return
			}
		}
		decodeCooked(frame, p)
	default:
		decodeLink(link, frame, p)
	}
}

// decodeCooked decodes a Linux cooked capture (v1): packet type (2), ARPHRD
// type (2), address length (2), address (8), protocol (2). IPv4 and IPv6 go
// to their decoders directly, the rest to decodeLink.
func decodeCooked(frame []byte, p *Packet) {
	if len(frame) < sllHeaderLen {
		decodeLink(LinkLinuxSLL, frame, p)
		return
	}
	dir := directionOf(binary.BigEndian.Uint16(frame[0:2]))
	switch etherType := binary.BigEndian.Uint16(frame[14:16]); etherType {
	case etherTypeIPv4:
		if !decodeIPv4Plain(frame, sllHeaderLen, linkWord(etherTypeIPv4, 0, 0), dir, p) {
			decodeIPv4(frame, sllHeaderLen, linkWord(etherTypeIPv4, 0, 0), dir, p)
		}
	case etherTypeIPv6:
		if !decodeIPv6Plain(frame, sllHeaderLen, linkWord(etherTypeIPv6, 0, 0), dir, p) {
			decodeIPv6(frame, sllHeaderLen, linkWord(etherTypeIPv6, 0, 0), dir, p)
		}
	case etherTypeVLAN, etherTypeQinQ, etherTypeQinQOld:
		decodeLink(LinkLinuxSLL, frame, p)
	default:
		*p = Packet{EtherType: etherType, Direction: dir}
	}
}

// Header fields as little-endian loads read them, the big-endian field's bytes
// swapped: the EtherTypes, and in the 8 bytes from the start of an IPv4
// header (version/IHL first, fragment field last) the fragment field's
// more-fragments bit and offset (0x3fff), and its offset alone (0x1fff).
const (
	etherTypeIPv4LE    = 0x0008
	etherTypeIPv6LE    = 0xdd86
	etherTypeVLANLE    = 0x0081
	etherTypeQinQLE    = 0xa888
	etherTypeQinQOldLE = 0x0091
	ipv4FragMask       = 0xff3f << 48
	ipv4OffsetMask     = 0xff1f << 48
)

// isVLANLE reports whether etherType, as a little-endian load reads it, is
// one of a VLAN tag's.
func isVLANLE(etherType uint16) bool {
	return etherType == etherTypeVLANLE || etherType == etherTypeQinQLE || etherType == etherTypeQinQOldLE
}

// transportFast reads the ports and TCP flags of a TCP or UDP header that is
// whole in both the datagram and the capture: b holds 14 bytes of it. Other
// protocols have neither. It returns the ports as put's first word has them,
// and put's third word: base (linkWord|ipWord(0, family, 0)) with the
// protocol and the flags it earns. For TCP and UDP that word is a constant
// where base is one, so the fast paths spend no instruction building it.
func transportFast(b []byte, proto uint8, base uint64) (ports uint64, tcpFlags uint8, w3 uint64) {
	switch proto {
	case ProtoTCP:
		return uint64(portsOf(b[0:portsLen])), b[tcpFlagsEnd-1], base | tcpWord
	case ProtoUDP:
		return uint64(portsOf(b[0:portsLen])), 0, base | udpWord
	}
	return 0, 0, base | uint64(proto)<<56
}

// Parts of put's third word as ipWord builds them, spelled out as constants
// to keep transportFast and ipv4Fragment within the inlining budget:
// tcpWord = ipWord(FlagPorts|FlagTCPFlags, 0, ProtoTCP), udpWord =
// ipWord(FlagPorts, 0, ProtoUDP), and the flags of the ports (portsWord), of
// a fragment (fragWord) and of a later fragment (laterFragWord).
const (
	tcpWord       = uint64(FlagPorts|FlagTCPFlags)<<32 | uint64(ProtoTCP)<<56
	udpWord       = uint64(FlagPorts)<<32 | uint64(ProtoUDP)<<56
	portsWord     = uint64(FlagPorts|FlagTCPFlags) << 32
	fragWord      = uint64(FlagFragment) << 32
	laterFragWord = uint64(FlagFragment|FlagLaterFragment) << 32
)

// ipv4Fragment qualifies what transportFast read from a fragment, whose
// IPv4 header starts with the 8 bytes h (read little-endian), and put's
// offsets word offs: the fragment is flagged, and a later fragment has no
// ports, TCP flags or transport offset.
func ipv4Fragment(h, ports uint64, tcpFlags uint8, w3, offs uint64) (uint64, uint8, uint64, uint64) {
	if h&ipv4OffsetMask != 0 {
		return 0, 0, w3&^portsWord | laterFragWord, offs & 0xffffffff
	}
	return ports, tcpFlags, w3 | fragWord, offs
}

// DecodeIP fills p from a frame that starts at the IP header, as packet
// sockets of type SOCK_DGRAM and tun devices deliver them. It is Decode with
// LinkRaw.
func DecodeIP(frame []byte, p *Packet) {
	decodeRawFast(frame, p)
}

// decodeRawFast decodes a raw-IP frame (what live capture delivers): a
// plain IPv4 or IPv6 header by the plain-header decoders, any other IP
// header by the general ones (decodeIPv4, decodeIPv6) directly, anything
// else by decodeLink.
func decodeRawFast(frame []byte, p *Packet) {
	if len(frame) > 0 {
		switch frame[0] >> 4 {
		case 4:
			if !decodeIPv4Plain(frame, 0, 0, DirUnknown, p) {
				decodeIPv4(frame, 0, 0, DirUnknown, p)
			}
			return
		case 6:
			if len(frame) <= 6 || isExtHeader(frame[6]) || !decodeIPv6Plain(frame, 0, 0, DirUnknown, p) {
				decodeIPv6(frame, 0, 0, DirUnknown, p)
			}
			return
		}
	}
	decodeLink(LinkRaw, frame, p)
}

// The fields of Packet from SrcPort on are laid out as four words (see
// Packet): ports and IPLen; NetOffset and TransportOffset; EtherType, VLAN,
// Flags, Family and Proto; TCPFlags and Direction. put writes each word's
// fields from one value, which the compiler turns into one store per word:
// ten stores for the whole Packet with the addresses. The third word is
// built in two parts, the link layer's (linkWord) and the IP layer's
// (ipWord, or constants equal to its results: see tcpWord), or'ed together.

// portsOf returns the source and destination port at the start of a TCP or
// UDP header (4 bytes) as put wants them: the source port in the low half.
func portsOf(b []byte) uint32 {
	return bits.RotateLeft32(binary.BigEndian.Uint32(b), 16)
}

// linkWord is the link layer's part of Packet's third word.
func linkWord(etherType, vlan uint16, flags Flags) uint64 {
	return uint64(etherType) | uint64(vlan)<<16 | uint64(flags)<<32
}

// ipWord is the IP layer's part of Packet's third word.
func ipWord(flags Flags, family Family, proto uint8) uint64 {
	return uint64(flags)<<32 | uint64(family)<<48 | uint64(proto)<<56
}

// put writes every field of p after the addresses, from the four words:
// w1 = ports | IPLen<<32 (ports as portsOf returns them), w2 = NetOffset |
// TransportOffset<<32, w3 = linkWord|ipWord, w4 = TCPFlags | Direction<<8.
func (p *Packet) put(w1, w2, w3 uint64, w4 uint16) {
	p.SrcPort, p.DstPort, p.IPLen = uint16(w1), uint16(w1>>16), uint32(w1>>32)
	p.NetOffset, p.TransportOffset = uint32(w2), uint32(w2>>32)
	p.EtherType, p.VLAN, p.Flags, p.Family, p.Proto = uint16(w3), uint16(w3>>16), Flags(w3>>32), Family(w3>>48), uint8(w3>>56)
	p.TCPFlags, p.Direction = uint8(w4), Direction(w4>>8)
}

// notIP writes a Packet without IP: only the link layer's facts, from its
// linkWord and direction.
//
//go:noinline
func (p *Packet) notIP(link uint64, dir Direction) {
	p.Src, p.Dst = netip.Addr{}, netip.Addr{}
	p.put(0, 0, link, uint16(dir)<<8)
}

// decodeLink reads the link header of the frames Decode does not take
// itself, then the network header after it.
func decodeLink(link LinkType, frame []byte, p *Packet) {
	var (
		off       int
		etherType uint16
		dir       Direction
	)
	switch link {
	case LinkEthernet:
		if len(frame) < ethernetHeaderLen {
			p.notIP(linkWord(0, 0, FlagTruncated), DirUnknown)
			return
		}
		etherType, off = binary.BigEndian.Uint16(frame[12:14]), ethernetHeaderLen
	case LinkLinuxSLL:
		// Packet type (2), ARPHRD type (2), address length (2), address
		// (8), protocol (2).
		if len(frame) < sllHeaderLen {
			p.notIP(linkWord(0, 0, FlagTruncated), DirUnknown)
			return
		}
		dir = directionOf(binary.BigEndian.Uint16(frame[0:2]))
		etherType, off = binary.BigEndian.Uint16(frame[14:16]), sllHeaderLen
	case LinkLinuxSLL2:
		// Protocol (2), reserved (2), interface index (4), ARPHRD type
		// (2), packet type (1), address length (1), address (8).
		if len(frame) < sll2HeaderLen {
			p.notIP(linkWord(0, 0, FlagTruncated), DirUnknown)
			return
		}
		dir = directionOf(uint16(frame[10]))
		etherType, off = binary.BigEndian.Uint16(frame[0:2]), sll2HeaderLen
	case LinkRaw, LinkRawAlt, LinkIPv4, LinkIPv6:
		// Raw IP: the version nibble decides, and must match the link
		// type where that names a version.
		if len(frame) == 0 {
			p.notIP(linkWord(0, 0, FlagTruncated), DirUnknown)
			return
		}
		switch v := frame[0] >> 4; {
		case v == 4 && link != LinkIPv6:
			decodeIPv4(frame, 0, 0, DirUnknown, p)
		case v == 6 && link != LinkIPv4:
			decodeIPv6(frame, 0, 0, DirUnknown, p)
		default:
			p.notIP(0, DirUnknown)
		}
		return
	case LinkNull:
		// BSD loopback: the address family as a 32-bit word in the byte
		// order of the host that wrote it.
		if len(frame) < nullHeaderLen {
			p.notIP(linkWord(0, 0, FlagTruncated), DirUnknown)
			return
		}
		family := binary.LittleEndian.Uint32(frame[0:4])
		if family > 0xffff {
			family = binary.BigEndian.Uint32(frame[0:4])
		}
		switch family {
		case 2: // AF_INET everywhere
			decodeIPv4(frame, nullHeaderLen, 0, DirUnknown, p)
		case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			decodeIPv6(frame, nullHeaderLen, 0, DirUnknown, p)
		default:
			p.notIP(0, DirUnknown)
		}
		return
	default:
		p.notIP(0, DirUnknown)
		return
	}
	// The EtherType at off, after any number of VLAN tags. The outermost tag
	// gives the VLAN ID.
	var vlan uint16
	var flags Flags
	for etherType == etherTypeVLAN || etherType == etherTypeQinQ || etherType == etherTypeQinQOld {
		if len(frame)-off < vlanTagLen {
			p.notIP(linkWord(etherType, vlan, flags|FlagTruncated), dir)
			return
		}
		tag := frame[off : off+vlanTagLen : off+vlanTagLen]
		if flags&FlagVLAN == 0 {
			flags |= FlagVLAN
			vlan = binary.BigEndian.Uint16(tag[0:2]) & 0x0fff
		}
		etherType = binary.BigEndian.Uint16(tag[2:4])
		off += vlanTagLen
	}
	switch etherType {
	case etherTypeIPv4:
		if !decodeIPv4Plain(frame, off, linkWord(etherType, vlan, flags), dir, p) {
			decodeIPv4(frame, off, linkWord(etherType, vlan, flags), dir, p)
		}
	case etherTypeIPv6:
		if !decodeIPv6Plain(frame, off, linkWord(etherType, vlan, flags), dir, p) {
			decodeIPv6(frame, off, linkWord(etherType, vlan, flags), dir, p)
		}
	default:
		p.notIP(linkWord(etherType, vlan, flags), dir)
	}
}

// decodeIPv4Plain decodes the IPv4 header at off (at most len(frame)) and
// writes p, as decodeIPv4 would, if it is a plain one: without options,
// total length at least 20+14 bytes, at least that much captured (a fragment
// or not). It reports whether it did; if not, p is untouched.
func decodeIPv4Plain(frame []byte, off int, link uint64, dir Direction, p *Packet) bool {
	if len(frame)-off < ipv4MinHeaderLen+tcpFlagsEnd {
		return false
	}
	ip := frame[off : off+ipv4MinHeaderLen+tcpFlagsEnd : off+ipv4MinHeaderLen+tcpFlagsEnd]
	h := binary.LittleEndian.Uint64(ip[0:8])
	totalLen := bits.ReverseBytes16(uint16(h >> 16))
	if uint8(h) != 0x45 || totalLen < ipv4MinHeaderLen+tcpFlagsEnd {
		return false
	}
	p.Src, p.Dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	ports, tcpFlags, w3 := transportFast(ip[ipv4MinHeaderLen:ipv4MinHeaderLen+tcpFlagsEnd], ip[9], link|ipWord(0, IPv4, 0))
	offs := uint64(off) | uint64(off+ipv4MinHeaderLen)<<32
	if h&ipv4FragMask != 0 {
		ports, tcpFlags, w3, offs = ipv4Fragment(h, ports, tcpFlags, w3, offs)
	}
	p.put(ports|uint64(totalLen)<<32, offs, w3, uint16(tcpFlags)|uint16(dir)<<8)
	return true
}

// decodeIPv6Plain decodes the IPv6 header at off (at most len(frame)) and
// writes p, as decodeIPv6 would, if it is a plain one: no extension header,
// payload length covering a whole TCP header (14 bytes) or UDP header (8),
// or not 0 for other protocols, and that much captured. It reports whether
// it did; if not, p is untouched.
func decodeIPv6Plain(frame []byte, off int, link uint64, dir Direction, p *Packet) bool {
	if len(frame)-off < ipv6HeaderLen+udpHeaderLen {
		return false
	}
	ip := frame[off:]
	payloadLen := int(binary.BigEndian.Uint16(ip[4:6]))
	proto := ip[6]
	need := 1 // a payload length of 0 is a jumbogram's or BIG TCP's
	switch proto {
	case ProtoTCP:
		need = tcpFlagsEnd
	case ProtoUDP:
		need = udpHeaderLen
	}
	if ip[0]>>4 != 6 || payloadLen < need || len(ip) < ipv6HeaderLen+need || isExtHeader(proto) {
		return false
	}
	p.Src, p.Dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	var (
		ports    uint32
		tcpFlags uint8
		flags    uint64
	)
	switch proto {
	case ProtoTCP:
		ports, tcpFlags, flags = portsOf(ip[ipv6HeaderLen:ipv6HeaderLen+portsLen]), ip[ipv6HeaderLen+tcpFlagsEnd-1], ipWord(FlagPorts|FlagTCPFlags, 0, 0)
	case ProtoUDP:
		ports, flags = portsOf(ip[ipv6HeaderLen:ipv6HeaderLen+portsLen]), ipWord(FlagPorts, 0, 0)
	}
	p.put(uint64(ports)|uint64(ipv6HeaderLen+payloadLen)<<32, uint64(off)|uint64(off+ipv6HeaderLen)<<32,
		link|flags|ipWord(0, IPv6, proto), uint16(tcpFlags)|uint16(dir)<<8)
	return true
}

// decodeIPv4 reads the IPv4 header at off (at most len(frame)) and writes p;
// link is the link layer's linkWord and dir its direction.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	|         Identification        |Flags|      Fragment Offset    |
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	|                       Source Address                          |
//	|                    Destination Address                        |
//	|                    Options                    |    Padding    |
func decodeIPv4(frame []byte, off int, link uint64, dir Direction, p *Packet) {
	ip := frame[off:]
	if len(ip) < ipv4MinHeaderLen {
		p.notIP(link|linkWord(0, 0, FlagTruncated), dir)
		return
	}
	versionIHL := ip[0]
	if versionIHL-0x45 > 0x4f-0x45 {
		p.notIP(link, dir) // not version 4, or IHL below 5: not an IPv4 header we can trust
		return
	}
	ihl := int(versionIHL&0x0f) << 2
	totalLen := int(binary.BigEndian.Uint16(ip[2:4]))
	fragField := binary.BigEndian.Uint16(ip[6:8])
	proto := ip[9]
	p.Src, p.Dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	var flags Flags
	ipLen := uint32(totalLen)
	if totalLen == 0 {
		// Segmentation offload: the kernel hands over a super-packet
		// whose length field was left for the NIC to fill in.
		flags, ipLen = FlagZeroLength, uint32(len(ip))
	}
	if fragField&0x3fff != 0 { // more-fragments or an offset
		flags |= FlagFragment
	}
	var (
		ports    uint32
		tcpFlags uint8
		tOff     int
	)
	switch {
	case fragField&0x1fff != 0: // an offset: a later fragment, no ports
		flags |= FlagLaterFragment
	case ihl > len(ip):
		flags |= FlagTruncated
	default:
		// The datagram ends at its total length, except under
		// segmentation offload (0) and for a bogus length shorter than the
		// header: then the capture is all there is to go by. cut says the
		// capture may have ended before the datagram did.
		end, cut := len(ip), true
		if totalLen >= ihl && totalLen <= end {
			end, cut = totalLen, false
		}
		tOff = off + ihl
		var tf Flags
		ports, tcpFlags, tf = transport(ip[ihl:end], proto, cut)
		flags |= tf
	}
	p.put(uint64(ports)|uint64(ipLen)<<32, uint64(off)|uint64(tOff)<<32, link|ipWord(flags, IPv4, proto), uint16(tcpFlags)|uint16(dir)<<8)
}

// decodeIPv6 reads the IPv6 header at off (at most len(frame)), walks its
// extension headers and writes p; link is the link layer's linkWord and dir
// its direction.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	|                     Source Address (16)                       |
//	|                  Destination Address (16)                     |
func decodeIPv6(frame []byte, off int, link uint64, dir Direction, p *Packet) {
	ip := frame[off:]
	if len(ip) < ipv6HeaderLen {
		p.notIP(link|linkWord(0, 0, FlagTruncated), dir)
		return
	}
	if ip[0]>>4 != 6 {
		p.notIP(link, dir)
		return
	}
	payloadLen := int(binary.BigEndian.Uint16(ip[4:6]))
	p.Src, p.Dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	var flags Flags
	if payloadLen == 0 {
		flags = FlagZeroLength // jumbogram or BIG TCP
	}
	end, cut := len(ip), true
	if payloadLen != 0 && ipv6HeaderLen+payloadLen <= end {
		end, cut = ipv6HeaderLen+payloadLen, false
	}
	var (
		ports    uint32
		tcpFlags uint8
		tOff     int
	)
	proto, pos := ip[6], ipv6HeaderLen
	for n := 0; ; n++ {
		if !isExtHeader(proto) {
			if pos > end {
				// The last extension header claims more than there is.
				flags |= truncatedIf(cut)
				break
			}
			tOff = off + pos
			var tf Flags
			ports, tcpFlags, tf = transport(ip[pos:end], proto, cut)
			flags |= tf
			break
		}
		if n == MaxExtHeaders {
			flags |= FlagExtLimit
			break
		}
		// Every extension header starts with next header (1) and length
		// (1); the fragment header has a fixed 8 bytes and carries the
		// fragment offset in its bytes 2-3.
		if end-pos < 8 {
			flags |= truncatedIf(cut)
			break
		}
		ext := ip[pos : pos+8 : pos+8]
		hdrLen := 8
		if proto == protoFragment {
			flags |= FlagFragment
			if binary.BigEndian.Uint16(ext[2:4])&0xfff8 != 0 {
				flags |= FlagLaterFragment
				proto = ext[0]
				break
			}
		} else {
			hdrLen = (int(ext[1]) + 1) * 8
		}
		proto = ext[0]
		pos += hdrLen
	}
	p.put(uint64(ports)|uint64(ipv6HeaderLen+payloadLen)<<32, uint64(off)|uint64(tOff)<<32, link|ipWord(flags, IPv6, proto), uint16(tcpFlags)|uint16(dir)<<8)
}

// isExtHeader reports whether an IPv6 next-header value is an extension
// header the decoder walks past.
func isExtHeader(next uint8) bool {
	switch next {
	case protoHopByHop, protoRouting, protoDestOpts, protoFragment:
		return true
	}
	return false
}

// transport reads the ports (and TCP flags) from the transport header at the
// start of seg, the captured part of the datagram's payload, and returns them
// with the flags they earn. cut tells whether the capture may have ended
// before the datagram did; when it did not, a header too short for its fields
// is malformed, not truncated.
func transport(seg []byte, proto uint8, cut bool) (ports uint32, tcpFlags uint8, flags Flags) {
	need := portsLen
	switch proto {
	case ProtoTCP:
		need = tcpFlagsEnd
	case ProtoUDP:
	default:
		return 0, 0, 0
	}
	if len(seg) >= portsLen {
		ports, flags = portsOf(seg[0:portsLen]), FlagPorts
	}
	if len(seg) < need {
		return ports, 0, flags | truncatedIf(cut)
	}
	if need == tcpFlagsEnd {
		tcpFlags, flags = seg[tcpFlagsEnd-1], flags|FlagTCPFlags
	}
	return ports, tcpFlags, flags
}

func truncatedIf(cut bool) Flags {
	if cut {
		return FlagTruncated
	}
	return 0
}

func directionOf(pktType uint16) Direction {
	switch pktType {
	case pktOutgoing:
		return DirOut
	case pktHost, pktBroadcast, pktMulticast, pktOtherHost:
		return DirIn
	}
	return DirUnknown
}

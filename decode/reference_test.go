package decode

// This file keeps the decoder as it was before the fast paths were written:
// one straightforward walk that zeroes the Packet and fills in what it finds.
// It is the reference the optimised decoder must agree with, field for field,
// on every input (TestDecodeMatchesReference, FuzzDecode).

import (
	"encoding/binary"
	"net/netip"
)

// refDecode fills p with the summary of frame, captured on a link of type link.
// Every field of p is overwritten. See the package documentation for the
// contract.
func refDecode(link LinkType, frame []byte, p *Packet) {
	*p = Packet{}
	switch link {
	case LinkEthernet:
		if len(frame) < ethernetHeaderLen {
			p.Flags |= FlagTruncated
			return
		}
		etherType := binary.BigEndian.Uint16(frame[12:14])
		if etherType == etherTypeIPv4 { // the hot path, one call shorter
			p.EtherType = etherType
			refDecodeIPv4(frame, ethernetHeaderLen, p)
			return
		}
		refDecodeEtherType(frame, ethernetHeaderLen, etherType, p)
	case LinkRaw, LinkRawAlt:
		refDecodeRawIP(frame, p)
	case LinkIPv4:
		if len(frame) > 0 && frame[0]>>4 == 4 {
			refDecodeIPv4(frame, 0, p)
		} else {
			p.Flags |= refTruncatedIfEmpty(frame)
		}
	case LinkIPv6:
		if len(frame) > 0 && frame[0]>>4 == 6 {
			refDecodeIPv6(frame, 0, p)
		} else {
			p.Flags |= refTruncatedIfEmpty(frame)
		}
	case LinkLinuxSLL:
		refDecodeSLL(frame, p)
	case LinkLinuxSLL2:
		refDecodeSLL2(frame, p)
	case LinkNull:
		refDecodeNull(frame, p)
	}
}

func refTruncatedIfEmpty(frame []byte) Flags {
	if len(frame) == 0 {
		return FlagTruncated
	}
	return 0
}

func refDecodeRawIP(frame []byte, p *Packet) {
	if len(frame) == 0 {
		p.Flags |= FlagTruncated
		return
	}
	switch frame[0] >> 4 {
	case 4:
		refDecodeIPv4(frame, 0, p)
	case 6:
		refDecodeIPv6(frame, 0, p)
	}
}

// refDecodeEtherType dispatches on the link layer's payload type at off,
// stripping VLAN tags first.
func refDecodeEtherType(frame []byte, off int, etherType uint16, p *Packet) {
	for etherType == etherTypeVLAN || etherType == etherTypeQinQ || etherType == etherTypeQinQOld {
		if len(frame)-off < vlanTagLen {
			p.EtherType = etherType
			p.Flags |= FlagTruncated
			return
		}
		tag := frame[off : off+vlanTagLen : off+vlanTagLen]
		if p.Flags&FlagVLAN == 0 {
			p.Flags |= FlagVLAN
			p.VLAN = binary.BigEndian.Uint16(tag[0:2]) & 0x0fff
		}
		etherType = binary.BigEndian.Uint16(tag[2:4])
		off += vlanTagLen
	}
	p.EtherType = etherType
	switch etherType {
	case etherTypeIPv4:
		refDecodeIPv4(frame, off, p)
	case etherTypeIPv6:
		refDecodeIPv6(frame, off, p)
	}
}

// refDecodeSLL reads a Linux cooked capture v1 header:
// packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2).
func refDecodeSLL(frame []byte, p *Packet) {
	if len(frame) < sllHeaderLen {
		p.Flags |= FlagTruncated
		return
	}
	p.Direction = refDirectionOf(binary.BigEndian.Uint16(frame[0:2]))
	refDecodeEtherType(frame, sllHeaderLen, binary.BigEndian.Uint16(frame[14:16]), p)
}

// refDecodeSLL2 reads a Linux cooked capture v2 header: protocol (2), reserved
// (2), interface index (4), ARPHRD type (2), packet type (1), address length
// (1), address (8).
func refDecodeSLL2(frame []byte, p *Packet) {
	if len(frame) < sll2HeaderLen {
		p.Flags |= FlagTruncated
		return
	}
	p.Direction = refDirectionOf(uint16(frame[10]))
	refDecodeEtherType(frame, sll2HeaderLen, binary.BigEndian.Uint16(frame[0:2]), p)
}

func refDirectionOf(pktType uint16) Direction {
	switch pktType {
	case pktOutgoing:
		return DirOut
	case pktHost, pktBroadcast, pktMulticast, pktOtherHost:
		return DirIn
	}
	return DirUnknown
}

// refDecodeNull reads the BSD loopback header: the address family as a 32-bit
// word in the byte order of the host that wrote it.
func refDecodeNull(frame []byte, p *Packet) {
	if len(frame) < nullHeaderLen {
		p.Flags |= FlagTruncated
		return
	}
	family := binary.LittleEndian.Uint32(frame[0:4])
	if family > 0xffff {
		family = binary.BigEndian.Uint32(frame[0:4])
	}
	switch family {
	case 2: // AF_INET everywhere
		refDecodeIPv4(frame, nullHeaderLen, p)
	case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin
		refDecodeIPv6(frame, nullHeaderLen, p)
	}
}

// refDecodeIPv4 reads the IPv4 header at off.
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
//
// off is at most len(frame); so for decodeIPv6.
func refDecodeIPv4(frame []byte, off int, p *Packet) {
	ip := frame[off:]
	if len(ip) < ipv4MinHeaderLen {
		p.Flags |= FlagTruncated
		return
	}
	versionIHL := ip[0]
	ihl := int(versionIHL&0x0f) << 2
	if versionIHL>>4 != 4 || ihl < ipv4MinHeaderLen {
		return // not an IPv4 header we can trust: not IP
	}
	p.Family = IPv4
	p.NetOffset = uint32(off)
	totalLen := int(binary.BigEndian.Uint16(ip[2:4]))
	p.IPLen = uint32(totalLen)
	if totalLen == 0 {
		// Segmentation offload: the kernel hands over a super-packet
		// whose length field was left for the NIC to fill in.
		p.Flags |= FlagZeroLength
		p.IPLen = uint32(len(ip))
	}
	p.Proto = ip[9]
	p.Src = netip.AddrFrom4([4]byte(ip[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(ip[16:20]))
	fragField := binary.BigEndian.Uint16(ip[6:8])
	if fragField&0x3fff != 0 { // more-fragments or an offset
		p.Flags |= FlagFragment
		if fragField&0x1fff != 0 {
			p.Flags |= FlagLaterFragment
			return
		}
	}
	if ihl > len(ip) {
		p.Flags |= FlagTruncated
		return
	}
	// The datagram ends at its total length, except under segmentation
	// offload (0) and for a bogus length shorter than the header: then the
	// capture is all there is to go by. cut says the capture may have ended
	// before the datagram did.
	end, cut := len(ip), true
	if totalLen >= ihl && totalLen <= end {
		end, cut = totalLen, false
	}
	p.TransportOffset = uint32(off + ihl)
	// The hot path, a whole TCP header, inline: it saves a call per packet.
	if seg := ip[ihl:end]; len(seg) >= tcpFlagsEnd && p.Proto == ProtoTCP {
		p.SrcPort = binary.BigEndian.Uint16(seg[0:2])
		p.DstPort = binary.BigEndian.Uint16(seg[2:4])
		p.TCPFlags = seg[13]
		p.Flags |= FlagPorts | FlagTCPFlags
		return
	}
	refDecodeTransport(ip[ihl:end], cut, p)
}

// refDecodeIPv6 reads the IPv6 header at off and walks its extension headers.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	|                     Source Address (16)                       |
//	|                  Destination Address (16)                     |
func refDecodeIPv6(frame []byte, off int, p *Packet) {
	ip := frame[off:]
	if len(ip) < ipv6HeaderLen {
		p.Flags |= FlagTruncated
		return
	}
	if ip[0]>>4 != 6 {
		return
	}
	p.Family = IPv6
	p.NetOffset = uint32(off)
	payloadLen := int(binary.BigEndian.Uint16(ip[4:6]))
	p.IPLen = ipv6HeaderLen + uint32(payloadLen)
	if payloadLen == 0 {
		p.Flags |= FlagZeroLength // jumbogram or BIG TCP
	}
	p.Src = netip.AddrFrom16([16]byte(ip[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(ip[24:40]))
	end, cut := len(ip), true
	if payloadLen != 0 && ipv6HeaderLen+payloadLen <= end {
		end, cut = ipv6HeaderLen+payloadLen, false
	}
	next := ip[6]
	pos := ipv6HeaderLen
	for n := 0; ; n++ {
		switch next {
		case protoHopByHop, protoRouting, protoDestOpts, protoFragment:
		default:
			p.Proto = next
			if pos > end {
				// The last extension header claims more than there is.
				p.Flags |= refTruncatedIf(cut)
				return
			}
			p.TransportOffset = uint32(off + pos)
			refDecodeTransport(ip[pos:end], cut, p)
			return
		}
		if n == MaxExtHeaders {
			p.Proto = next
			p.Flags |= FlagExtLimit
			return
		}
		// Every extension header starts with next header (1) and length
		// (1); the fragment header has a fixed 8 bytes and carries the
		// fragment offset in its bytes 2-3.
		if end-pos < 8 {
			p.Proto = next
			p.Flags |= refTruncatedIf(cut)
			return
		}
		ext := ip[pos : pos+8 : pos+8]
		hdrLen := 8
		if next == protoFragment {
			fragField := binary.BigEndian.Uint16(ext[2:4])
			p.Flags |= FlagFragment
			if fragField&0xfff8 != 0 {
				p.Flags |= FlagLaterFragment
				p.Proto = ext[0]
				return
			}
		} else {
			hdrLen = (int(ext[1]) + 1) * 8
		}
		next = ext[0]
		pos += hdrLen
	}
}

// refDecodeTransport reads the ports (and TCP flags) from the transport header
// at the start of seg, the captured part of the datagram's payload. cut tells
// whether the capture may have ended before the datagram did; when it did
// not, a header too short for its fields is malformed, not truncated.
func refDecodeTransport(seg []byte, cut bool, p *Packet) {
	need := portsLen
	switch p.Proto {
	case ProtoTCP:
		need = tcpFlagsEnd
	case ProtoUDP:
	default:
		return
	}
	if len(seg) < portsLen {
		p.Flags |= refTruncatedIf(cut)
		return
	}
	p.SrcPort = binary.BigEndian.Uint16(seg[0:2])
	p.DstPort = binary.BigEndian.Uint16(seg[2:4])
	p.Flags |= FlagPorts
	if need == tcpFlagsEnd {
		if len(seg) < tcpFlagsEnd {
			p.Flags |= refTruncatedIf(cut)
			return
		}
		p.TCPFlags = seg[13]
		p.Flags |= FlagTCPFlags
	}
}

func refTruncatedIf(cut bool) Flags {
	if cut {
		return FlagTruncated
	}
	return 0
}

package decode

import "net/netip"

// IPv6 header (RFC 8200, section 3), offsets in bytes on the right:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |  0
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |  4
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     Source Address (16)                       |  8
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Destination Address (16)                     | 24
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv6VersionTC     = 0
	ipv6PayloadLength = 4
	ipv6NextHeader    = 6
	ipv6SrcAddr       = 8
	ipv6DstAddr       = 24
	ipv6HeaderLen     = 40
)

// IPv6 extension headers (RFC 8200, section 4) the decoder walks all start
// with the next header and, except the fragment header, the header's length
// in 8-byte units not counting the first 8. The fragment header (section
// 4.5) is 8 bytes; its offset counts 8-byte units, in the top 13 bits of
// bytes 2-3.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Next Header  |  Hdr Ext Len  |   (hop-by-hop, routing,       |  0
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+    destination options)       +
//	|  Next Header  |   Reserved    |      Fragment Offset    |Res|M|  0 (fragment)
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         Identification                        |  4 (fragment)
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv6ExtNextHeader  = 0
	ipv6ExtLength      = 1
	ipv6FragOffset     = 2
	ipv6ExtUnit        = 8 // the smallest extension header, and the unit of its length
	ipv6FragOffsetMask = 0xfff8
)

// IPv6 extension headers the decoder walks past.
const (
	protoHopByHop uint8 = 0
	protoRouting  uint8 = 43
	protoFragment uint8 = 44
	protoDestOpts uint8 = 60
)

// ipv6Header is an IPv6 header; its accessors need ipv6HeaderLen bytes.
type ipv6Header []byte

func (h ipv6Header) version() uint8     { return h[ipv6VersionTC] >> 4 }
func (h ipv6Header) payloadLength() int { return int(be16(h, ipv6PayloadLength)) }
func (h ipv6Header) nextHeader() uint8  { return h[ipv6NextHeader] }
func (h ipv6Header) src() netip.Addr {
	return netip.AddrFrom16([16]byte(h[ipv6SrcAddr : ipv6SrcAddr+16]))
}
func (h ipv6Header) dst() netip.Addr {
	return netip.AddrFrom16([16]byte(h[ipv6DstAddr : ipv6DstAddr+16]))
}

// ipv6ExtHeader is an extension header; its accessors need ipv6ExtUnit bytes.
type ipv6ExtHeader []byte

func (h ipv6ExtHeader) nextHeader() uint8  { return h[ipv6ExtNextHeader] }
func (h ipv6ExtHeader) len() int           { return (int(h[ipv6ExtLength]) + 1) * ipv6ExtUnit }
func (h ipv6ExtHeader) fragOffset() uint16 { return be16(h, ipv6FragOffset) & ipv6FragOffsetMask }

// decodeIPv6 reads the IPv6 header at off (at most len(frame)), walks its
// extension headers and writes p; l is what the link header said.
func decodeIPv6(frame []byte, off int, l linkFacts, p *Packet) {
	ip := ipv6Header(frame[off:])
	if len(ip) < ipv6HeaderLen {
		l.flags |= FlagTruncated
		p.setLinkOnly(l)
		return
	}
	if ip.version() != 6 {
		p.setLinkOnly(l)
		return
	}
	flags := l.flags
	payloadLen := ip.payloadLength()
	if payloadLen == 0 {
		flags |= FlagZeroLength // jumbogram or BIG TCP
	}
	// As for IPv4: the datagram ends at its length where the capture holds
	// it all; cut says the capture may have ended first.
	end, cut := len(ip), true
	if payloadLen != 0 && ipv6HeaderLen+payloadLen <= end {
		end, cut = ipv6HeaderLen+payloadLen, false
	}
	var (
		t    transportFacts
		tOff int
	)
	next, pos := ip.nextHeader(), ipv6HeaderLen
walk:
	for n := 0; ; n++ {
		switch {
		case !isExtHeader(next):
			if pos > end {
				// The last extension header claims more than there is.
				flags |= truncatedIf(cut)
				break walk
			}
			tOff = off + pos
			t = transport(ip[pos:end], next, cut)
			break walk
		case n == MaxExtHeaders:
			flags |= FlagExtLimit
			break walk
		case end-pos < ipv6ExtUnit:
			flags |= truncatedIf(cut)
			break walk
		}
		ext := ipv6ExtHeader(ip[pos : pos+ipv6ExtUnit])
		hdrLen := ext.len()
		if next == protoFragment {
			flags |= FlagFragment
			hdrLen = ipv6ExtUnit
			if ext.fragOffset() != 0 {
				flags |= FlagLaterFragment // no transport header here
				next = ext.nextHeader()
				break walk
			}
		}
		next = ext.nextHeader()
		pos += hdrLen
	}
	p.Src, p.Dst = ip.src(), ip.dst()
	p.SrcPort, p.DstPort, p.TCPFlags = t.srcPort, t.dstPort, t.tcpFlags
	p.IPLen = ipv6HeaderLen + uint32(payloadLen)
	p.NetOffset, p.TransportOffset = uint32(off), uint32(tOff)
	p.EtherType, p.VLAN, p.Direction = l.etherType, l.vlan, l.dir
	p.Flags, p.Family, p.Proto = flags|t.flags, IPv6, next
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

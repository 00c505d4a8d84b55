package decode

import "net/netip"

// IPv4 header (RFC 791, section 3.1), offsets in bytes on the right:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |  0
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |  4
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |  8
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          | 12
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        | 16
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    | 20
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// IHL counts 32-bit words. Flags are reserved, don't fragment (DF) and more
// fragments (MF); the fragment offset counts 8-byte units.
const (
	ipv4VersionIHL   = 0
	ipv4TotalLength  = 2
	ipv4FlagsFragOff = 6
	ipv4Protocol     = 9
	ipv4SrcAddr      = 12
	ipv4DstAddr      = 16
	ipv4MinHeaderLen = 20

	ipv4MoreFragments  = 0x2000 // in the flags/fragment-offset field
	ipv4FragOffsetMask = 0x1fff

	// ipv4VersionIHLPlain is the first byte of a header without options:
	// version 4, IHL 5 words.
	ipv4VersionIHLPlain = 4<<4 | ipv4MinHeaderLen/4
)

// ipv4Header is an IPv4 header; its accessors need ipv4MinHeaderLen bytes.
type ipv4Header []byte

func (h ipv4Header) version() uint8      { return h[ipv4VersionIHL] >> 4 }
func (h ipv4Header) headerLen() int      { return int(h[ipv4VersionIHL]&0x0f) * 4 }
func (h ipv4Header) totalLength() int    { return int(be16(h, ipv4TotalLength)) }
func (h ipv4Header) moreFragments() bool { return be16(h, ipv4FlagsFragOff)&ipv4MoreFragments != 0 }
func (h ipv4Header) fragOffset() uint16  { return be16(h, ipv4FlagsFragOff) & ipv4FragOffsetMask }
func (h ipv4Header) protocol() uint8     { return h[ipv4Protocol] }
func (h ipv4Header) src() netip.Addr     { return netip.AddrFrom4([4]byte(h[ipv4SrcAddr : ipv4SrcAddr+4])) }
func (h ipv4Header) dst() netip.Addr     { return netip.AddrFrom4([4]byte(h[ipv4DstAddr : ipv4DstAddr+4])) }

// decodeIPv4 reads the IPv4 header at off (at most len(frame)) and writes
// p; l is what the link header said.
func decodeIPv4(frame []byte, off int, l linkFacts, p *Packet) {
	ip := ipv4Header(frame[off:])
	if len(ip) < ipv4MinHeaderLen {
		l.flags |= FlagTruncated
		p.setLinkOnly(l)
		return
	}
	ihl := ip.headerLen()
	if ip.version() != 4 || ihl < ipv4MinHeaderLen {
		p.setLinkOnly(l) // not an IPv4 header we can trust: not IP
		return
	}
	flags := l.flags
	totalLen := ip.totalLength()
	ipLen := uint32(totalLen)
	if totalLen == 0 {
		// Segmentation offload: the kernel hands over a super-packet
		// whose length field was left for the NIC to fill in.
		flags |= FlagZeroLength
		ipLen = uint32(len(ip))
	}
	if ip.moreFragments() || ip.fragOffset() != 0 {
		flags |= FlagFragment
	}
	var (
		t    transportFacts
		tOff int
	)
	switch {
	case ip.fragOffset() != 0:
		flags |= FlagLaterFragment // no transport header here
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
		t = transport(ip[ihl:end], ip.protocol(), cut)
	}
	p.Src, p.Dst = ip.src(), ip.dst()
	p.SrcPort, p.DstPort, p.TCPFlags = t.srcPort, t.dstPort, t.tcpFlags
	p.IPLen = ipLen
	p.NetOffset, p.TransportOffset = uint32(off), uint32(tOff)
	p.EtherType, p.VLAN, p.Direction = l.etherType, l.vlan, l.dir
	p.Flags, p.Family, p.Proto = flags|t.flags, IPv4, ip.protocol()
}

// decodeIPv4Plain is the fast path, for the packets live capture delivers
// most (raw IP, as a SOCK_DGRAM packet socket's ring holds it): an IPv4
// header without options, not a later fragment, whose total length and
// capture both hold what the decoder reads after it (the ports of TCP and
// UDP, TCP's flags). For such a header at off, after a link header that said
// l, it writes p exactly as decodeIPv4 would and reports true; for any other
// it leaves p alone.
func decodeIPv4Plain(frame []byte, off int, l linkFacts, p *Packet) bool {
	ip := ipv4Header(frame[off:])
	if len(ip) < ipv4MinHeaderLen || ip[ipv4VersionIHL] != ipv4VersionIHLPlain {
		return false
	}
	proto := ip.protocol()
	flags, end := l.flags, ipv4MinHeaderLen
	switch proto {
	case ProtoTCP:
		flags, end = flags|FlagPorts|FlagTCPFlags, ipv4MinHeaderLen+tcpFlagsEnd
	case ProtoUDP:
		flags, end = flags|FlagPorts, ipv4MinHeaderLen+portsEnd
	}
	totalLen := ip.totalLength()
	if len(ip) < end || totalLen < end || ip.fragOffset() != 0 {
		return false
	}
	if ip.moreFragments() {
		flags |= FlagFragment // the first fragment: it has the ports
	}
	var (
		srcPort, dstPort uint16
		tcpFlags         uint8
	)
	if end > ipv4MinHeaderLen {
		t := transportHeader(ip[ipv4MinHeaderLen:end])
		srcPort, dstPort = t.srcPort(), t.dstPort()
		if proto == ProtoTCP {
			tcpFlags = t.tcpFlags()
		}
	}
	p.Src, p.Dst = ip.src(), ip.dst()
	p.SrcPort, p.DstPort, p.TCPFlags = srcPort, dstPort, tcpFlags
	p.IPLen = uint32(totalLen)
	p.NetOffset, p.TransportOffset = uint32(off), uint32(off+ipv4MinHeaderLen)
	p.EtherType, p.VLAN, p.Direction = l.etherType, l.vlan, l.dir
	p.Flags, p.Family, p.Proto = flags, IPv4, proto
	return true
}

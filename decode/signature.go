package decode

import "encoding/binary"

// FlowSignature tells the flows of plain IPv4 TCP and UDP packets apart by
// their raw header bytes: two frames with the same signature decode to the
// same addresses, ports and protocol. A capture loop that has decoded one
// packet of a flow can recognise the next ones of that flow by signature,
// without decoding them.
type FlowSignature struct {
	// addrs holds the source and destination address, ports the source
	// and destination port, each loaded as the bytes lie: signatures are
	// only compared, so byte order does not matter.
	addrs uint64
	ports uint32
	proto uint8
}

// IPv4FlowSignature returns the signature of a raw-IP frame (LinkRaw) that
// holds a plain IPv4 header (no options, not a fragment) of a TCP or UDP
// packet whose ports were captured and lie within the IP packet; ok is
// false for any other frame, which has to be decoded. For the frames it
// accepts, Decode finds IPv4, the protocol, both addresses and ports, as
// the fuzzer checks (FuzzDecode).
func IPv4FlowSignature(frame []byte) (sig FlowSignature, ok bool) {
	const end = ipv4MinHeaderLen + portsEnd
	if len(frame) < end || frame[ipv4VersionIHL] != ipv4VersionIHLPlain {
		return sig, false
	}
	ip := ipv4Header(frame)
	proto := ip.protocol()
	if (proto != ProtoTCP && proto != ProtoUDP) || ip.moreFragments() || ip.fragOffset() != 0 || ip.totalLength() < end {
		return sig, false
	}
	return FlowSignature{
		addrs: binary.LittleEndian.Uint64(frame[ipv4SrcAddr : ipv4DstAddr+4]),
		ports: binary.LittleEndian.Uint32(frame[ipv4MinHeaderLen+srcPort : end]),
		proto: proto,
	}, true
}

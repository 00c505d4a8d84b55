package decode

import "encoding/binary"

// DecodeIPv4Paths decodes the IPv4 header at off in frame twice, after a
// made-up VLAN-tagged, outgoing link header: by the fast path into fast, and
// by the general decoder into general. It reports whether the fast path
// took the header (else it left fast alone).
func DecodeIPv4Paths(frame []byte, off int, fast, general *Packet) (taken bool) {
	l := linkFacts{etherType: etherTypeIPv4, vlan: 42, flags: FlagVLAN, dir: DirOut}
	decodeIPv4(frame, off, l, general)
	return decodeIPv4Plain(frame, off, l, fast)
}

// SignatureOf builds the flow signature of a decoded IPv4 packet from its
// fields, as IPv4FlowSignature reads it from the header bytes.
func SignatureOf(p *Packet) FlowSignature {
	src, dst := p.Src.As4(), p.Dst.As4()
	var ports [4]byte
	binary.BigEndian.PutUint16(ports[0:2], p.SrcPort)
	binary.BigEndian.PutUint16(ports[2:4], p.DstPort)
	return FlowSignature{
		addrs: uint64(binary.LittleEndian.Uint32(src[:])) | uint64(binary.LittleEndian.Uint32(dst[:]))<<32,
		ports: binary.LittleEndian.Uint32(ports[:]),
		proto: p.Proto,
	}
}

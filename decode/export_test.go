package decode

import "encoding/binary"

// ReferenceDecode is the straightforward decoder the fast one must match.
var ReferenceDecode = refDecode

// SignatureOf builds the flow signature of a decoded IPv4 packet from its
// fields, as IPv4FlowSignature reads it from the header bytes.
func SignatureOf(p *Packet) FlowSignature {
	src, dst := p.Src.As4(), p.Dst.As4()
	var a [8]byte
	copy(a[:4], src[:])
	copy(a[4:], dst[:])
	var ports [4]byte
	binary.BigEndian.PutUint16(ports[0:2], p.SrcPort)
	binary.BigEndian.PutUint16(ports[2:4], p.DstPort)
	return FlowSignature{binary.LittleEndian.Uint64(a[:]), uint64(binary.LittleEndian.Uint32(ports[:])) | uint64(p.Proto)<<32}
}

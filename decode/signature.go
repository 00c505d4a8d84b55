package decode

import (
	"encoding/binary"
	"math/bits"
)

// FlowSignature tells the flows of plain IPv4 TCP and UDP packets apart by
// their raw header bytes: two frames with the same signature decode to the
// same addresses, ports and protocol. A capture loop that has decoded one
// packet of a flow can recognise the next ones of that flow by signature,
// without decoding them.
type FlowSignature struct{ addrs, portsProto uint64 }

// IPv4FlowSignature returns the signature of a raw-IP frame (LinkRaw) that
// holds a plain IPv4 header (no options, not a fragment) of a TCP or UDP
// packet whose ports were captured and lie within the IP packet; ok is
// false for any other frame, which has to be decoded. For the frames it
// accepts, Decode finds IPv4, the protocol, both addresses and ports, as
// the fuzzer checks (FuzzDecode).
func IPv4FlowSignature(frame []byte) (sig FlowSignature, ok bool) {
	if len(frame) < ipv4MinHeaderLen+portsLen {
		return sig, false
	}
	h := binary.LittleEndian.Uint64(frame[0:8])
	proto := frame[9]
	if uint8(h) != 0x45 || h&ipv4FragMask != 0 || (proto != ProtoTCP && proto != ProtoUDP) ||
		bits.ReverseBytes16(uint16(h>>16)) < ipv4MinHeaderLen+portsLen {
		return sig, false
	}
	return FlowSignature{binary.LittleEndian.Uint64(frame[12:20]), uint64(binary.LittleEndian.Uint32(frame[20:24])) | uint64(proto)<<32}, true
}

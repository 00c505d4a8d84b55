package decode

// TCP header (RFC 9293, section 3.1) up to the flags, the last field the
// decoder reads; a UDP header (RFC 768) starts with the same two ports.
// Offsets in bytes on the right:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Source Port          |       Destination Port        |  0
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Sequence Number                        |  4
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Acknowledgment Number                      |  8
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Data |       |C|E|U|A|P|R|S|F|                               |
//	| Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             | 12
//	|       |       |R|E|G|K|H|T|N|N|                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	srcPort     = 0
	dstPort     = 2
	portsEnd    = 4 // all the decoder reads of a UDP header
	tcpFlags    = 13
	tcpFlagsEnd = 14 // all the decoder reads of a TCP header
)

// transportHeader is a TCP or UDP header: srcPort and dstPort need portsEnd
// bytes, tcpFlags tcpFlagsEnd.
type transportHeader []byte

func (h transportHeader) srcPort() uint16 { return be16(h, srcPort) }
func (h transportHeader) dstPort() uint16 { return be16(h, dstPort) }
func (h transportHeader) tcpFlags() uint8 { return h[tcpFlags] }

// transportFacts are what a TCP or UDP header gave: the ports (with
// FlagPorts), TCP's flags (with FlagTCPFlags), and FlagTruncated where the
// capture ended before them.
type transportFacts struct {
	srcPort, dstPort uint16
	tcpFlags         uint8
	flags            Flags
}

// transport reads the ports (and TCP flags) of a proto header at the start
// of seg, the captured part of the datagram's payload. cut tells whether the
// capture may have ended before the datagram did; when it did not, a header
// too short for its fields is malformed, not truncated.
func transport(seg []byte, proto uint8, cut bool) (t transportFacts) {
	if proto != ProtoTCP && proto != ProtoUDP {
		return t
	}
	if len(seg) < portsEnd {
		t.flags = truncatedIf(cut)
		return t
	}
	h := transportHeader(seg)
	t.srcPort, t.dstPort, t.flags = h.srcPort(), h.dstPort(), FlagPorts
	if proto == ProtoTCP {
		if len(seg) < tcpFlagsEnd {
			t.flags |= truncatedIf(cut)
		} else {
			t.tcpFlags, t.flags = h.tcpFlags(), t.flags|FlagTCPFlags
		}
	}
	return t
}

func truncatedIf(cut bool) Flags {
	if cut {
		return FlagTruncated
	}
	return 0
}

package conntable

import (
	"net/netip"

	"hogs/decode"
	"hogs/internal/flow"
)

// KeyOf orients a decoded TCP or UDP packet from this host's point of
// view: for a packet this host sent, the source is local; for one it
// received, the destination is. Where the capture did not record the
// direction (capture files), the end with the higher port is taken as the
// local one, as a client's ephemeral port usually is. ok is false for
// packets without ports (not TCP/UDP, later fragments, cut short). The
// key is written to *k (a returned flow.Key would be copied on every packet);
// without ports *k is left alone.
func KeyOf(p *decode.Packet, dir decode.Direction, k *flow.Key) (out bool, ok bool) {
	if !p.Has(decode.FlagPorts) {
		return false, false
	}
	src := netip.AddrPortFrom(p.Src, p.SrcPort)
	dst := netip.AddrPortFrom(p.Dst, p.DstPort)
	switch dir {
	case decode.DirOut:
		out = true
	case decode.DirIn:
		out = false
	default:
		out = p.SrcPort > p.DstPort || (p.SrcPort == p.DstPort && src.Addr().Less(dst.Addr()))
	}
	if out {
		*k = flow.Key{Local: src, Remote: dst, Proto: p.Proto}
	} else {
		*k = flow.Key{Local: dst, Remote: src, Proto: p.Proto}
	}
	return out, true
}

// IsReset reports whether p is a TCP segment with RST set: a local end
// that sends only those has no socket for the flow.
func IsReset(p *decode.Packet) bool {
	return p.Proto == decode.ProtoTCP && p.Has(decode.FlagTCPFlags) && p.TCPFlags&decode.TCPRst != 0
}

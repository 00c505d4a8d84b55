// Package flow names what the rest of hogs talks about: a flow's identity
// (Key: protocol, local and remote address and port, network namespace),
// the packet and byte Counter, and the Owner a flow's traffic belongs to
// with what is shown about it (Process). It is a leaf: the connection
// table, the attributors and the views all import it, it imports none of
// them, so "owner" means one thing everywhere.
package flow

import "net/netip"

// IP protocol numbers of the transports hogs counts.
const (
	TCP uint8 = 6
	UDP uint8 = 17
)

// ProtoName is "tcp", "udp", or the protocol number in decimal.
func ProtoName(p uint8) string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	const digits = "0123456789"
	if p < 10 {
		return digits[p : p+1]
	}
	if p < 100 {
		return string([]byte{digits[p/10], digits[p%10]})
	}
	return string([]byte{digits[p/100], digits[p/10%10], digits[p%10]})
}

// Key identifies a flow from this host's point of view.
type Key struct {
	Local, Remote netip.AddrPort
	Proto         uint8
	// NetNS tells network namespaces apart (0: the monitor's own).
	NetNS uint32
}

// Counter is a packet and byte count.
type Counter struct {
	Packets, Bytes uint64
}

// Add returns the sum of c and o.
func (c Counter) Add(o Counter) Counter {
	return Counter{Packets: c.Packets + o.Packets, Bytes: c.Bytes + o.Bytes}
}

// Since is what c gained over an earlier count prev; a counter that went
// backwards (it cannot, but a caller's bookkeeping may be off) gains 0.
func (c Counter) Since(prev Counter) Counter {
	return Counter{Packets: c.Packets - min(prev.Packets, c.Packets), Bytes: c.Bytes - min(prev.Bytes, c.Bytes)}
}

package conntable

import (
	"time"

	"hogs/internal/flow"
)

// RetryBase is the wait before a flow LookupCandidates handed out is
// offered again; it doubles with each lookup, up to 64 times.
const RetryBase = int64(time.Second)

// worthLookup reports whether unresolved flow f can have a local socket
// (see LookupCandidates), and whether it has packets both ways.
func worthLookup(f *entry) (worth, bothWays bool) {
	answeredBoth := f.state&answered != 0 && f.recv.Packets > 0 && f.sent.Packets > 0
	return canHaveSocket(f.key.Proto, f.state, f.recv.Packets), answeredBoth
}

// canHaveSocket reports whether an unresolved flow of proto, with state's
// answered and opened bits, that received recv packets can have a local
// socket.
func canHaveSocket(proto, state uint8, recv uint64) bool {
	switch {
	case state&answered == 0:
		// A UDP server that only receives (syslog) never answers; a
		// flood's one-packet flow (answered, if at all, by ICMP) is not
		// one.
		return proto == flow.UDP && recv >= 2
	case state&opened != 0 || proto != flow.TCP:
		return true
	}
	// A connection to this host has its socket once the handshake is
	// done: the peer answered the SYN-ACK. A SYN flood's never are.
	return recv >= 2
}

// lookupClass orders the flows worth a lookup: the connections this host
// opened (0), then those with packets both ways (1), then the rest (2).
func lookupClass(f *entry) int {
	_, both := worthLookup(f)
	switch {
	case f.state&opened != 0:
		return 0
	case both:
		return 1
	}
	return 2
}

// LookupCandidates appends to dst the keys of at most max unresolved
// flows worth a socket lookup at now, and marks them looked up: each is
// offered again after RetryBase, doubling with each lookup. The
// connections this host opened come first, then flows with packets both
// ways, then the rest. Not worth a lookup is a flow whose local end never
// sent anything but TCP resets (a SYN to a closed port, a SYN flood's
// packets, a UDP packet answered by ICMP), unless it is UDP that received
// more than once (a receive-only server), and a TCP connection the peer
// opened until the peer answers the SYN-ACK (a SYN flood on a listening
// port). It returns dst, the backlog (flows worth a lookup and due, left
// for a later call), and how many unresolved flows were not worth one. It
// visits only the flows worth a lookup, not the table: once per class
// that has flows due and room left.
func (t *Table) LookupCandidates(dst []flow.Key, max int, now int64) (keys []flow.Key, backlog, hopeless int) {
	var due [3]int
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		s.worthy = keepIf(s.worthy, isUnresolved)
		hopeless += s.unknown[UnknownTCP].flows + s.unknown[UnknownUDP].flows - len(s.worthy)
		for _, f := range s.worthy {
			if f.retryAt <= now {
				due[lookupClass(f)]++
			}
		}
		s.mu.Unlock()
	}
	for class := range due {
		for i := 0; i < len(t.shards) && due[class] > 0 && len(dst) < max; i++ {
			s := &t.shards[i]
			s.mu.Lock()
			for _, f := range s.worthy {
				if len(dst) == max {
					break
				}
				if f.retryAt <= now && lookupClass(f) == class {
					dst = append(dst, f.key)
					f.retryAt = now + RetryBase<<min(f.lookups, 6)
					f.lookups = min(f.lookups+1, 6)
					due[class]--
				}
			}
			s.mu.Unlock()
		}
		backlog += due[class]
	}
	return dst, backlog, hopeless
}

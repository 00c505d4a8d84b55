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
	bothWays = f.recv.Packets > 0 && f.sent.Packets > 0
	switch {
	case f.state&answered == 0:
		// A UDP server that only receives (syslog) never answers; a
		// flood's one-packet flow (answered, if at all, by ICMP) is not
		// one.
		return f.key.Proto == flow.UDP && f.recv.Packets >= 2, false
	case f.state&opened != 0 || f.key.Proto != flow.TCP:
		return true, bothWays
	}
	// A connection to this host has its socket once the handshake is
	// done: the peer answered the SYN-ACK. A SYN flood's never are.
	return f.recv.Packets >= 2, bothWays
}

// LookupCandidates appends to dst the keys of at most max unresolved
// flows worth a socket lookup at now, and marks them looked up: each is
// offered again after RetryBase, doubling with each lookup. Flows with
// packets both ways come first. Not worth a lookup is a flow whose local
// end never sent anything but TCP resets (a SYN to a closed port, a SYN
// flood's packets, a UDP packet answered by ICMP), unless it is UDP that
// received more than once (a receive-only server), and a TCP connection
// the peer opened until the peer answers the SYN-ACK (a SYN flood on a
// listening port). It returns dst, the
// backlog (flows worth a lookup and due, left for a later call), and how
// many unresolved flows were not worth one. It visits only the flows worth
// a lookup, not the table.
func (t *Table) LookupCandidates(dst []flow.Key, max int, now int64) (keys []flow.Key, backlog, hopeless int) {
	take := func(f *entry) {
		dst = append(dst, f.key)
		f.retryAt = now + RetryBase<<min(f.lookups, 6)
		f.lookups = min(f.lookups+1, 6)
	}
	// First the flows with packets both ways, then, if there is room,
	// the rest.
	oneWay := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		s.worthy = keepIf(s.worthy, isUnresolved)
		hopeless += s.unknown[UnknownTCP].flows + s.unknown[UnknownUDP].flows - len(s.worthy)
		for _, f := range s.worthy {
			_, both := worthLookup(f)
			switch {
			case f.retryAt > now:
			case !both:
				oneWay++
			case len(dst) < max:
				take(f)
			default:
				backlog++
			}
		}
		s.mu.Unlock()
	}
	for i := 0; i < len(t.shards) && oneWay > 0 && len(dst) < max; i++ {
		s := &t.shards[i]
		s.mu.Lock()
		for _, f := range s.worthy {
			if len(dst) >= max {
				break
			}
			if _, both := worthLookup(f); !both && f.retryAt <= now {
				take(f)
				oneWay--
			}
		}
		s.mu.Unlock()
	}
	return dst, backlog + oneWay, hopeless
}

package conntable

import "hogs/internal/flow"

// notablePackets is how many packets make an unresolved flow notable: a
// Snapshot lists the largest unresolved flows from among the notable ones
// once there are too many to visit (fullDetailFlows). A flood's flows have
// one or two packets.
const notablePackets = 8

// unknownSum is what a shard's unresolved flows of one protocol add up to,
// kept as packets come, so that a Snapshot need not visit them. Its rates
// average over RateWindow once such traffic has been seen for that long
// (from first), not over each flow's own life as a flow's rates do.
type unknownSum struct {
	sent, recv flow.Counter
	// everSent and everRecv count all that arrived while its flow had no
	// owner: they never decrease (sent and recv lose what a flow takes
	// along when it gets an owner).
	everSent, everRecv flow.Counter
	flows              int
	buckets            [buckets]bucket
	first              int64
	seen               bool
	// cur is the bucket of the second from curStart, as entry.cur.
	cur      *bucket
	curStart int64
}

// unknownIndex is the index of a protocol's unresolved traffic in
// Snapshot.Unknown: UDP's, or TCP's for every other.
func unknownIndex(proto uint8) int {
	if proto == flow.UDP {
		return UnknownUDP
	}
	return UnknownTCP
}

// countUnknown adds what unresolved flow f just counted (sent, recv, at
// now) to the shard's sums, and puts f on the lists it now belongs to.
// The caller holds s.mu.
func (s *shard) countUnknown(f *entry, sent, recv flow.Counter, now int64) {
	s.addUnknown(unknownIndex(f.key.Proto), sent, recv, now)
	s.track(f)
}

// addUnknown adds what an unresolved flow of protocol index i (UnknownTCP,
// UnknownUDP) just counted to the shard's sums. The caller holds s.mu.
func (s *shard) addUnknown(i int, sent, recv flow.Counter, now int64) {
	u := &s.unknown[i]
	if !u.seen {
		u.first, u.seen = now, true
	}
	u.sent = u.sent.Add(sent)
	u.recv = u.recv.Add(recv)
	u.everSent = u.everSent.Add(sent)
	u.everRecv = u.everRecv.Add(recv)
	b := u.cur
	if b == nil || uint64(now-u.curStart) >= 1e9 {
		b = bucketOf(&u.buckets, now)
		u.cur, u.curStart = b, floorSecond(now)
	}
	b.sent += sent.Bytes
	b.recv += recv.Bytes
}

// track puts unresolved flow f on the worthy and notable lists once it
// belongs there. The caller holds s.mu.
func (s *shard) track(f *entry) {
	if f.owner != flow.Unresolved {
		return
	}
	if f.state&inWorthy == 0 {
		if worth, _ := worthLookup(f); worth {
			f.state |= inWorthy
			s.worthy = append(s.worthy, f)
		}
	}
	if f.state&inNotable == 0 && f.sent.Packets+f.recv.Packets >= notablePackets {
		f.state |= inNotable
		s.notable = append(s.notable, f)
	}
}

// leaveUnknown takes unresolved flow f out of the shard's sums as it
// leaves the table or gets an owner; with owned, its bytes also leave the
// rates (they count for the owner now), else its recent bytes stay in
// them. The caller holds s.mu.
func (s *shard) leaveUnknown(f *entry, owned bool) {
	u := &s.unknown[unknownIndex(f.key.Proto)]
	u.flows--
	u.sent = u.sent.Since(f.sent)
	u.recv = u.recv.Since(f.recv)
	if !owned {
		return
	}
	for i := range f.buckets {
		fb, ub := &f.buckets[i], &u.buckets[i]
		if fb.second == ub.second {
			ub.sent -= min(ub.sent, fb.sent)
			ub.recv -= min(ub.recv, fb.recv)
		}
	}
}

// removeLocked takes flow f, under key k, out of the shard (expiry,
// eviction); the caller retires its totals. The caller holds s.mu.
func (s *shard) removeLocked(k packedKey, f *entry) {
	f.gone.Store(true)
	delete(s.flows, k)
	if f.owner == flow.Unresolved {
		s.leaveUnknown(f, false)
	}
}

// isUnresolved reports whether f is in the table without an owner.
func isUnresolved(f *entry) bool { return f.owner == flow.Unresolved && !f.gone.Load() }

// keepIf drops from list, in place, the flows keep rejects.
func keepIf(list []*entry, keep func(*entry) bool) []*entry {
	kept := list[:0]
	for _, f := range list {
		if keep(f) {
			kept = append(kept, f)
		}
	}
	clear(list[len(kept):])
	return kept
}

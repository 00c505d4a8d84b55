package conntable

import (
	"encoding/binary"
	"net/netip"

	"hogs/internal/flow"
)

// Probation: once a shard holds an eighth of its cap (probationShare), a
// new flow whose first packet was received (or was a reset this host
// sent) gets no entry. It waits in a
// fixed array of slots, one per hash of its key: a flood's flows then cost
// no allocation, no map insertion and no eviction of an entry, and the
// garbage collector never sees them. The flow's bytes go to its
// protocol's unknown sums at once, as an entry's would. It gets an entry,
// which takes its counts along, once it can have a local socket
// (canHaveSocket: the peer answered this host's SYN-ACK, a UDP flow this
// host answered or that received twice) or has notablePackets packets; a
// SYN flood's flows, answered by resets or by SYN-ACKs alone, never do. A
// new flow whose slot is taken pushes the old one out: an eviction, its
// totals folded into its protocol's retired ones, as for an evicted entry.
// Flows on probation are flows of the table: counted in
// UnknownStat.Flows, NewFlows and Len, listed in a Snapshot's Largest when
// it lists every unresolved flow, expired by Sweep.

// probationShare: a shard's new flows go on probation once it holds this
// share of its cap (1/probationShare), not only when full: a flood then
// leaves few flows in the map, whose lookups stay in the cache.
const probationShare = 8

// maxProbeSlots bounds a shard's slots: 64 shards × 1,024 slots × 112
// bytes is 7 MiB, allocated the first time the shard needs them.
const maxProbeSlots = 1024

// probe is a flow on probation; used tells a taken slot.
type probe struct {
	key         packedKey
	used        bool
	state       uint8 // the flow's answered and opened bits (entry.state)
	first, last int64
	sent, recv  flow.Counter
	device      string
}

// probeSlots is how many slots a shard of a table capped at maxPerShard
// flows gets: the power of two at or above the cap, at most maxProbeSlots.
func probeSlots(maxPerShard int) int {
	n := 1
	for n < maxPerShard && n < maxProbeSlots {
		n *= 2
	}
	return n
}

// probeOf returns the slot flow pk would take, nil while the shard has
// none. The caller holds s.mu.
func (s *shard) probeOf(pk *packedKey) *probe {
	if s.probes == nil {
		return nil
	}
	// Mixed apart from the shard's hash, whose low bits all of a shard's
	// flows share.
	x := binary.LittleEndian.Uint64(pk[24:])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(pk[32:])*0xc2b2ae3d27d4eb4f ^
		binary.LittleEndian.Uint64(pk[8:])
	x ^= x >> 29
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 32
	return &s.probes[x&uint64(len(s.probes)-1)]
}

// onProbation returns flow pk's slot if it is on probation, else nil.
func (s *shard) onProbation(pk *packedKey) *probe {
	if p := s.probeOf(pk); p != nil && p.used && p.key == *pk {
		return p
	}
	return nil
}

// keeps reports whether flow p stays on probation with one more packet,
// sent by this host when out is set: while it cannot have a local socket
// (canHaveSocket) and has fewer than notablePackets packets.
func (p *probe) keeps(out, reset bool) bool {
	state, recv := p.state, p.recv.Packets
	if out && !reset {
		state |= answered
	}
	if !out {
		recv++
	}
	return !canHaveSocket(p.key[40], state, recv) && p.sent.Packets+p.recv.Packets+1 < notablePackets
}

// addProbe accounts a packet of flow pk, not in the map, on probation:
// on its slot p if it is there already, else in the slot it takes. The
// caller holds s.mu.
func (t *Table) addProbe(s *shard, p *probe, pk *packedKey, out, reset bool, wireLen int, now int64, device string) {
	if p == nil {
		if s.probes == nil {
			s.probes = make([]probe, t.probeSlots)
		}
		p = s.probeOf(pk)
		if p.used {
			t.evictions.Add(1)
			t.dropProbe(s, p)
		}
		*p = probe{key: *pk, used: true, first: now, device: device}
		if out {
			p.state |= opened
		}
		s.unknown[unknownIndex(pk[40])].flows++
		t.newFlowsTotal.Add(1)
	}
	p.last = now
	if out && !reset {
		p.state |= answered
	}
	var c flow.Counter
	count(&c, wireLen)
	if out {
		p.sent = p.sent.Add(c)
		s.addUnknown(unknownIndex(pk[40]), c, flow.Counter{}, now)
	} else {
		p.recv = p.recv.Add(c)
		s.addUnknown(unknownIndex(pk[40]), flow.Counter{}, c, now)
	}
}

// dropProbe takes the flow on slot p off probation and out of the table,
// its totals retired. The caller holds s.mu.
func (t *Table) dropProbe(s *shard, p *probe) {
	i := unknownIndex(p.key[40])
	u := &s.unknown[i]
	u.flows--
	u.sent = u.sent.Since(p.sent)
	u.recv = u.recv.Since(p.recv)
	t.retiredMu.Lock()
	r := &t.unknownRetired[i]
	r.Sent = r.Sent.Add(p.sent)
	r.Recv = r.Recv.Add(p.recv)
	r.Flows++
	r.Last = max(r.Last, p.last)
	t.retiredMu.Unlock()
	*p = probe{}
}

// promote gives new entry f the counts of its flow's slot p, and frees
// the slot: the flow was in the table already. The caller holds s.mu.
func (s *shard) promote(f *entry, p *probe) {
	f.first, f.last = p.first, p.last
	f.sent, f.recv = p.sent, p.recv
	b := f.bucketAt(p.last)
	b.sent, b.recv = p.sent.Bytes, p.recv.Bytes
	f.state |= p.state
	*p = probe{}
}

// sweepProbes expires the flows on probation idle for longer than idle at
// now, and returns how many. The caller holds s.mu.
func (t *Table) sweepProbes(s *shard, now, idle int64) int {
	n := 0
	for i := range s.probes {
		if p := &s.probes[i]; p.used && now-p.last > idle {
			t.dropProbe(s, p)
			n++
		}
	}
	return n
}

// probes counts the shard's flows on probation. The caller holds s.mu.
func (s *shard) probeCount() int {
	n := 0
	for i := range s.probes {
		if s.probes[i].used {
			n++
		}
	}
	return n
}

// asEntry fills f with flow p, for a Snapshot to list.
func (p *probe) asEntry(f *entry) {
	f.key = unpack(&p.key)
	f.device, f.first, f.last, f.sent, f.recv = p.device, p.first, p.last, p.sent, p.recv
	b := bucketOf(&f.buckets, p.last)
	b.sent, b.recv = p.sent.Bytes, p.recv.Bytes
}

// unpack is pack's inverse (pack drops address zones, which packets
// never carry).
func unpack(p *packedKey) flow.Key {
	addr := func(b []byte) netip.Addr {
		a := netip.AddrFrom16([16]byte(b))
		if p[41] == 4 {
			a = a.Unmap()
		}
		return a
	}
	return flow.Key{
		Local:  netip.AddrPortFrom(addr(p[0:16]), binary.LittleEndian.Uint16(p[32:])),
		Remote: netip.AddrPortFrom(addr(p[16:32]), binary.LittleEndian.Uint16(p[34:])),
		NetNS:  binary.LittleEndian.Uint32(p[36:]),
		Proto:  p[40],
	}
}

package conntable

import (
	"cmp"
	"slices"

	"hogs/internal/flow"
)

// FlowStat is one flow as a snapshot shows it.
type FlowStat struct {
	Key                flow.Key
	Owner              flow.Owner
	Device             string
	First, Last        int64
	Sent, Recv         flow.Counter
	SentRate, RecvRate float64 // bytes per second over RateWindow (see rates)
	// OwnedSent and OwnedRecv are Sent and Recv when the flow left the
	// unknown rows for its first owner, if that came after its first
	// packets: those bytes showed in the unknown row until then. A
	// counter of its owners' traffic counts from here (metrics).
	OwnedSent, OwnedRecv flow.Counter
}

// Snapshot is the table at one instant.
type Snapshot struct {
	// Flows are the flows with an owner.
	Flows []FlowStat
	// Retired holds, per owner, the totals of flows that left the table.
	Retired map[flow.Owner]Retired
	// Unknown sums the flows without an owner, per protocol (UnknownTCP,
	// UnknownUDP).
	Unknown [2]UnknownStat
	// Evictions counts flows evicted to honour MaxFlows, since New.
	Evictions uint64
	// NewFlows counts flows ever added, since New.
	NewFlows uint64
	// Elsewhere counts the flows Config.Classify found counted elsewhere
	// (Class Elsewhere), since New.
	Elsewhere uint64
}

// The indexes of Snapshot.Unknown.
const (
	UnknownTCP = 0 // TCP, and any protocol but UDP
	UnknownUDP = 1
)

// UnknownDetail is how many unresolved flows per protocol a Snapshot
// copies (the largest): a flood's hundreds of thousands are summed, not
// copied.
const UnknownDetail = 100

// UnknownStat is the traffic of one protocol's flows without an owner.
type UnknownStat struct {
	// Sent and Recv are totals, flows gone included.
	Sent, Recv flow.Counter
	// EverSent and EverRecv are all that arrived while its flow had no
	// owner, since New: unlike Sent and Recv they keep what a flow took
	// along when it got an owner, so they never decrease.
	EverSent, EverRecv flow.Counter
	SentRate, RecvRate float64
	// Flows is how many such flows the table holds; Largest are the
	// UnknownDetail largest of them by bytes (ties by key), largest first:
	// of all of them while the table holds at most fullDetailFlows
	// unresolved flows, else of those with notablePackets packets or more.
	Flows   int
	Largest []FlowStat
	// Retired is what such flows left when they left the table
	// (included in Sent and Recv).
	Retired Retired
}

// fullDetailFlows is how many unresolved flows a Snapshot visits all of
// to list the largest; past it, it lists the largest notable ones
// (notablePackets).
const fullDetailFlows = 4 * UnknownDetail

// Snapshot copies the table's state at now, all shards locked, and visits the flows with an owner and at most fullDetailFlows (else
// the notable) unresolved ones, not every flow: a flood's flows are in
// the sums.
func (t *Table) Snapshot(now int64) Snapshot {
	// Every shard is locked for the whole snapshot (in order; nothing
	// else holds two): a flow leaving the table, or changing owner, while
	// a snapshot went shard by shard could be counted both in its shard
	// and in the retired totals, or in neither.
	for i := range t.shards {
		t.shards[i].mu.Lock()
	}
	defer func() {
		for i := range t.shards {
			t.shards[i].mu.Unlock()
		}
	}()
	unknown := 0
	for i := range t.shards {
		s := &t.shards[i]
		unknown += s.unknown[UnknownTCP].flows + s.unknown[UnknownUDP].flows
	}
	var snap Snapshot
	offer := func(f *entry) {
		u := &snap.Unknown[unknownIndex(f.key.Proto)]
		if len(u.Largest) < UnknownDetail || largerFlow(f, &u.Largest[0]) {
			sr, rr := f.rates(now)
			u.Largest = pushLargest(u.Largest, f.stat(sr, rr))
		}
	}
	for i := range t.shards {
		s := &t.shards[i]
		for j := range s.unknown {
			su, u := &snap.Unknown[j], &s.unknown[j]
			su.Sent = su.Sent.Add(u.sent)
			su.Recv = su.Recv.Add(u.recv)
			su.EverSent = su.EverSent.Add(u.everSent)
			su.EverRecv = su.EverRecv.Add(u.everRecv)
			su.Flows += u.flows
			sr, rr := ratesOf(&u.buckets, u.first, now)
			su.SentRate += sr
			su.RecvRate += rr
		}
		s.owned = keepIf(s.owned, func(f *entry) bool { return !f.gone.Load() })
		for _, f := range s.owned {
			sr, rr := f.rates(now)
			snap.Flows = append(snap.Flows, f.stat(sr, rr))
		}
		s.notable = keepIf(s.notable, isUnresolved)
		if unknown <= fullDetailFlows {
			for _, f := range s.flows {
				if f.owner == flow.Unresolved {
					offer(f)
				}
			}
			for j := range s.probes {
				if p := &s.probes[j]; p.used {
					var f entry
					p.asEntry(&f)
					offer(&f)
				}
			}
		} else {
			for _, f := range s.notable {
				offer(f)
			}
		}
	}
	t.retiredMu.Lock()
	snap.Retired = make(map[flow.Owner]Retired, len(t.retired))
	for o, r := range t.retired {
		snap.Retired[o] = *r
	}
	for i := range snap.Unknown {
		u := &snap.Unknown[i]
		u.Retired = t.unknownRetired[i]
		u.Sent = u.Sent.Add(u.Retired.Sent)
		u.Recv = u.Recv.Add(u.Retired.Recv)
	}
	t.retiredMu.Unlock()
	for i := range snap.Unknown {
		slices.SortFunc(snap.Unknown[i].Largest, CompareBySize)
	}
	snap.Evictions = t.evictions.Load()
	snap.NewFlows = t.newFlowsTotal.Load()
	snap.Elsewhere = t.elsewhere.Load()
	return snap
}

func (f *entry) stat(sentRate, recvRate float64) FlowStat {
	return FlowStat{Key: f.key, Owner: f.owner, Device: f.device, First: f.first, Last: f.last,
		Sent: f.sent, Recv: f.recv, SentRate: sentRate, RecvRate: recvRate, OwnedSent: f.ownedSent, OwnedRecv: f.ownedRecv}
}

// CompareBySize orders flows largest first (bytes both ways), then by key:
// the order of a row's connections.
func CompareBySize(a, b FlowStat) int {
	return cmp.Or(cmp.Compare(b.Recv.Bytes+b.Sent.Bytes, a.Recv.Bytes+a.Sent.Bytes), CompareKeys(a.Key, b.Key))
}

// CompareKeys orders flow keys by local, then remote end, then protocol.
func CompareKeys(a, b flow.Key) int {
	return cmp.Or(a.Local.Compare(b.Local), a.Remote.Compare(b.Remote), cmp.Compare(a.Proto, b.Proto))
}

// largerFlow reports whether f comes before s in CompareBySize's order,
// without copying f.
func largerFlow(f *entry, s *FlowStat) bool {
	fb, sb := f.sent.Bytes+f.recv.Bytes, s.Sent.Bytes+s.Recv.Bytes
	return fb > sb || fb == sb && CompareKeys(f.key, s.Key) < 0
}

// pushLargest keeps h, a heap of at most UnknownDetail flows whose root is
// the last in CompareBySize's order, holding the first ones seen in it.
func pushLargest(h []FlowStat, v FlowStat) []FlowStat {
	after := func(i, j int) bool { return CompareBySize(h[i], h[j]) > 0 }
	if len(h) < UnknownDetail {
		h = append(h, v)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !after(i, p) {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		return h
	}
	h[0] = v
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && after(l, m) {
			m = l
		}
		if r < len(h) && after(r, m) {
			m = r
		}
		if m == i {
			return h
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

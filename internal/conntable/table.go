// Package conntable is hogs's connection table: per-flow packet and byte
// counters, keyed by the full flow (protocol, local and remote address and
// port, network namespace), with one-second buckets for rates.
//
// The contract:
//   - Add accounts one packet. On a flow already in the table (the hit path)
//     it takes one shard lock and allocates nothing; capture workers on
//     several cores add concurrently.
//   - Rates are the bytes of the last RateWindow seconds (or of the time
//     since the flow was first seen, if shorter) divided by that time, on
//     the caller's monotonic clock: they fall to zero when traffic stops.
//   - Memory is bounded. Flows idle longer than the idle timeout expire at
//     the next Sweep; past MaxFlows the least recently seen flows are
//     evicted. Either way their totals are kept, folded into their owner's
//     retired totals, so totals never lose bytes; evictions are counted.
//   - Owners are opaque numbers that the resolver (package proc) assigns;
//     flow.Unresolved is a flow no process has been found for yet.
package conntable

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"hogs/internal/flow"
)

// RateWindow is the number of one-second buckets a rate averages.
const RateWindow = 5

// buckets holds the window plus the current second.
const buckets = RateWindow + 1

// shardCount is the number of independently locked parts of the table.
const shardCount = 64

// count adds one packet of n bytes to c.
func count(c *flow.Counter, n int) {
	c.Packets++
	c.Bytes += uint64(n)
}

type bucket struct {
	second     int64
	sent, recv uint64
}

// entry is one flow; its shard's lock guards it.
type entry struct {
	key        flow.Key
	owner      flow.Owner
	device     string
	first      int64 // nanoseconds on the caller's clock
	last       int64
	sent, recv flow.Counter
	buckets    [buckets]bucket
	// cur is the bucket of the second [curStart, curStart+1e9) of the
	// clock, so that packets within one second skip the divisions.
	cur      *bucket
	curStart int64
	// gone is set when the flow leaves the table (expiry, eviction), so
	// an Adder's memo of it knows to look again. It is set under the
	// shard lock and read without it by the Adder's fast path.
	gone atomic.Bool
}

func (f *entry) account(out bool, wireLen int, now int64) {
	f.last = now
	b := f.cur
	if b == nil || uint64(now-f.curStart) >= 1e9 {
		b = f.bucketAt(now)
	}
	if out {
		count(&f.sent, wireLen)
		b.sent += uint64(wireLen)
	} else {
		count(&f.recv, wireLen)
		b.recv += uint64(wireLen)
	}
}

// bucketAt makes the bucket of now's second the current one, clearing it
// if it last held an older second.
func (f *entry) bucketAt(now int64) *bucket {
	start := floorSecond(now)
	sec := start / 1e9
	b := &f.buckets[(sec%buckets+buckets)%buckets]
	if b.second != sec {
		*b = bucket{second: sec}
	}
	f.cur, f.curStart = b, start
	return b
}

// rates returns the bytes per second sent and received over the last
// RateWindow seconds up to now, or since the flow was first seen if that
// is shorter (but at least a second): a flow seen for two seconds is
// averaged over those two, not over RateWindow. The oldest second of a
// full window counts in proportion to its part inside the window.
func (f *entry) rates(now int64) (sent, recv float64) {
	sec := floorSecond(now) / 1e9
	start := max(now-RateWindow*1e9, f.first)
	var s, r float64
	for i := range f.buckets {
		b := &f.buckets[i]
		from := b.second * 1e9
		if b.second > sec || from+1e9 <= start || b.sent|b.recv == 0 {
			continue
		}
		w := 1.0
		if from < start && start != f.first {
			w = float64(from+1e9-start) / 1e9
		}
		s += w * float64(b.sent)
		r += w * float64(b.recv)
	}
	dur := float64(max(now-start, 1e9)) / 1e9
	return s / dur, r / dur
}

type shard struct {
	mu    sync.Mutex
	flows map[packedKey]*entry
	_     [40]byte // keep neighbouring shards' locks off one cache line
}

// Config sets the table's limits.
type Config struct {
	// MaxFlows caps the number of flows tracked; 0 means 200,000.
	MaxFlows int
}

// Table is the connection table. Its methods are safe for concurrent use.
type Table struct {
	shards        [shardCount]shard
	maxPerShard   int
	evictions     atomic.Uint64
	retiredMu     sync.Mutex
	retired       map[flow.Owner]*Retired
	newFlowsTotal atomic.Uint64
}

// Retired is what flows already gone from the table left to their owner.
type Retired struct {
	Sent, Recv flow.Counter
	Flows      uint64
	// Last is when the latest of those flows last saw a packet.
	Last int64
}

// New returns an empty table.
func New(cfg Config) *Table {
	max := cfg.MaxFlows
	if max <= 0 {
		max = 200_000
	}
	t := &Table{maxPerShard: (max + shardCount - 1) / shardCount, retired: map[flow.Owner]*Retired{}}
	for i := range t.shards {
		t.shards[i].flows = make(map[packedKey]*entry)
	}
	return t
}

// packedKey is a flow.Key as plain bytes: both addresses in 16-byte form, the
// ports, the protocol, the namespace and the address family (so that an
// IPv4 flow and an IPv4-mapped IPv6 one stay apart). As a map key it hashes
// as one block of memory, several times faster than flow.Key with its pointers.
type packedKey [44]byte

func pack(k *flow.Key) packedKey {
	var p packedKey
	l, r := k.Local.Addr().As16(), k.Remote.Addr().As16()
	copy(p[0:16], l[:])
	copy(p[16:32], r[:])
	binary.LittleEndian.PutUint16(p[32:], k.Local.Port())
	binary.LittleEndian.PutUint16(p[34:], k.Remote.Port())
	binary.LittleEndian.PutUint32(p[36:], k.NetNS)
	p[40] = k.Proto
	if k.Local.Addr().Is4() {
		p[41] = 4
	}
	return p
}

// shard picks a flow's shard from its ports and the low bytes of its
// addresses.
func (t *Table) shard(p *packedKey) *shard {
	h := uint32(binary.LittleEndian.Uint16(p[32:]))*0x9e3779b1 ^ uint32(binary.LittleEndian.Uint16(p[34:]))*0x85ebca77 ^
		binary.LittleEndian.Uint32(p[12:])*0xc2b2ae3d ^ binary.LittleEndian.Uint32(p[28:]) ^ binary.LittleEndian.Uint32(p[36:])
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	return &t.shards[h%shardCount]
}

// Add accounts one packet of wireLen bytes on flow k, sent by the local end
// when out is true, seen at now (nanoseconds on the caller's monotonic
// clock) on device. It reports whether the packet opened a new flow, so the
// caller can ask for its owner while its socket still exists.
func (t *Table) Add(k flow.Key, out bool, wireLen int, now int64, device string) (isNew bool) {
	_, _, isNew = t.add(k, out, wireLen, now, device)
	return isNew
}

func (t *Table) add(k flow.Key, out bool, wireLen int, now int64, device string) (*entry, *shard, bool) {
	pk := pack(&k)
	s := t.shard(&pk)
	s.mu.Lock()
	f := s.flows[pk]
	isNew := f == nil
	if isNew {
		f = t.insertLocked(s, pk, k, now, device)
	}
	f.account(out, wireLen, now)
	s.mu.Unlock()
	return f, s, isNew
}

// Open makes sure flow k exists, without accounting a packet: a
// connection's first packet seen on a faster path than the one that counts
// bytes (hogs watches TCP handshakes on their own socket) opens its flow so
// that its owner can be looked up at once, while its socket still exists.
// It reports whether the flow is new; an existing flow is left untouched.
func (t *Table) Open(k flow.Key, now int64, device string) (isNew bool) {
	pk := pack(&k)
	s := t.shard(&pk)
	s.mu.Lock()
	if s.flows[pk] == nil {
		f := t.insertLocked(s, pk, k, now, device)
		f.last = now
		isNew = true
	}
	s.mu.Unlock()
	return isNew
}

// Adder adds packets to a table for one capture goroutine, remembering the
// last flow it added to: a run of packets of one flow (a bulk transfer, a
// flood) skips hashing, the map and the lock. It sums such a run itself and
// adds the sum to the flow under the shard's lock at most every
// maxPending packets, when the second changes, when another flow's packet
// comes, and on Flush, which its goroutine calls before it waits for more
// packets: readers of the table see a run at most that far behind. An
// Adder is not safe for concurrent use; give each goroutine its own.
type Adder struct {
	t     *Table
	key   flow.Key
	run   uint64
	flow  *entry
	shard *shard

	// The run not yet added to flow: all of it in the second that starts
	// at pendSecond, the last packet at pendLast.
	pendPackets        int
	pendSent, pendRecv flow.Counter
	pendSecond         int64
	pendLast           int64
}

// maxPending bounds how many packets an Adder holds before adding them.
const maxPending = 64

// NewAdder returns an Adder for t.
func (t *Table) NewAdder() *Adder { return &Adder{t: t} }

// Add is Table.Add, with the key passed by reference. A packet that goes
// to the remembered flow is held (see Adder), and reports isNew only when
// that flow left the table in the meantime.
func (a *Adder) Add(k *flow.Key, out bool, wireLen int, now int64, device string) (isNew bool) {
	if a.flow != nil && *k == a.key && !a.flow.gone.Load() {
		a.hold(out, wireLen, now)
		return false
	}
	reopened := a.flush() && *k == a.key
	a.flow, a.shard, isNew = a.t.add(*k, out, wireLen, now, device)
	a.key = *k
	a.run++
	return isNew || reopened
}

// RunID numbers the Adder's runs: it changes whenever a packet goes to
// another flow than the one before. A caller that recognises a packet as
// one of the current run's flow without decoding it (by its raw header
// bytes) hands it to AddToRun.
func (a *Adder) RunID() uint64 { return a.run }

// AddToRun adds a packet to the flow of the current run (see RunID), sent by
// the local end when out is true. It reports false, adding nothing, if
// there is no run or its flow has left the table: the caller then adds the
// packet the ordinary way.
func (a *Adder) AddToRun(out bool, wireLen int, now int64) bool {
	if a.flow == nil || a.flow.gone.Load() {
		return false
	}
	a.hold(out, wireLen, now)
	return true
}

// Key returns the key of the flow the last packet went to.
func (a *Adder) Key() flow.Key { return a.key }

// hold adds a packet of the remembered flow to the run the Adder holds.
func (a *Adder) hold(out bool, wireLen int, now int64) {
	if a.pendPackets > 0 && uint64(now-a.pendSecond) >= 1e9 {
		a.flush()
	}
	if a.pendPackets == 0 {
		a.pendSecond = floorSecond(now)
	}
	a.pendPackets++
	if out {
		count(&a.pendSent, wireLen)
	} else {
		count(&a.pendRecv, wireLen)
	}
	a.pendLast = now
	if a.pendPackets >= maxPending {
		a.flush()
	}
}

// Flush adds the packets the Adder holds to their flow. A flow that left
// the table since is opened again with them (the resolver's retry finds
// its owner).
func (a *Adder) Flush() { a.flush() }

// flush is Flush; it reports whether it had to open the flow again.
func (a *Adder) flush() (reopened bool) {
	if a.pendPackets == 0 {
		return false
	}
	s := a.shard
	s.mu.Lock()
	f := a.flow
	if f.gone.Load() {
		pk := pack(&a.key)
		s.mu.Unlock()
		s = a.t.shard(&pk)
		s.mu.Lock()
		if f = s.flows[pk]; f == nil {
			f = a.t.insertLocked(s, pk, a.key, a.pendLast, a.flow.device)
			reopened = true
		}
		a.flow, a.shard = f, s
	}
	f.last = a.pendLast
	b := f.cur
	if b == nil || uint64(a.pendLast-f.curStart) >= 1e9 {
		b = f.bucketAt(a.pendLast)
	}
	f.sent = f.sent.Add(a.pendSent)
	f.recv = f.recv.Add(a.pendRecv)
	b.sent += a.pendSent.Bytes
	b.recv += a.pendRecv.Bytes
	s.mu.Unlock()
	a.pendPackets, a.pendSent, a.pendRecv = 0, flow.Counter{}, flow.Counter{}
	return reopened
}

// floorSecond is the start, in nanoseconds, of the second t falls in.
func floorSecond(t int64) int64 {
	r := t % 1e9
	if r < 0 {
		r += 1e9
	}
	return t - r
}

func (t *Table) insertLocked(s *shard, pk packedKey, k flow.Key, now int64, device string) *entry {
	if len(s.flows) >= t.maxPerShard {
		t.evictOldestLocked(s)
	}
	f := &entry{key: k, first: now, device: device}
	s.flows[pk] = f
	t.newFlowsTotal.Add(1)
	return f
}

// evictOldestLocked makes room in a full shard: it evicts the least
// recently seen eighth of it in one pass, so that a flood of new flows
// costs one scan per many insertions, not one per insertion.
func (t *Table) evictOldestLocked(s *shard) {
	n := len(s.flows) / 8
	if n < 1 {
		n = 1
	}
	// The n-th oldest last-seen time, from a bounded max-heap.
	oldest := make([]int64, 0, n)
	for _, f := range s.flows {
		oldest = pushOldest(oldest, n, f.last)
	}
	cutoff := oldest[0] // the largest of the n smallest
	var gone []*entry
	for k, f := range s.flows {
		if f.last <= cutoff && len(gone) < n {
			f.gone.Store(true)
			gone = append(gone, f)
			delete(s.flows, k)
		}
	}
	t.evictions.Add(uint64(len(gone)))
	t.retire(gone)
}

// pushOldest keeps h, a max-heap of at most n values, holding the n
// smallest values seen.
func pushOldest(h []int64, n int, v int64) []int64 {
	if len(h) < n {
		h = append(h, v)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if h[p] >= h[i] {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		return h
	}
	if v >= h[0] {
		return h
	}
	h[0] = v
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l] > h[m] {
			m = l
		}
		if r < len(h) && h[r] > h[m] {
			m = r
		}
		if m == i {
			return h
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// retire folds the totals of flows leaving the table into their owners'.
func (t *Table) retire(gone []*entry) {
	if len(gone) == 0 {
		return
	}
	t.retiredMu.Lock()
	defer t.retiredMu.Unlock()
	for _, f := range gone {
		r := t.retired[f.owner]
		if r == nil {
			r = &Retired{}
			t.retired[f.owner] = r
		}
		r.Sent = r.Sent.Add(f.sent)
		r.Recv = r.Recv.Add(f.recv)
		r.Flows++
		r.Last = max(r.Last, f.last)
	}
}

// MoveRetired adds the retired totals of owner from to those of owner
// into, and forgets from: the monitor folds an exited process's row into
// its program's. Totals are moved, never lost.
func (t *Table) MoveRetired(from, into flow.Owner) {
	if from == into {
		return
	}
	t.retiredMu.Lock()
	defer t.retiredMu.Unlock()
	r := t.retired[from]
	if r == nil {
		return
	}
	delete(t.retired, from)
	dst := t.retired[into]
	if dst == nil {
		t.retired[into] = r
		return
	}
	dst.Sent = dst.Sent.Add(r.Sent)
	dst.Recv = dst.Recv.Add(r.Recv)
	dst.Flows += r.Flows
	dst.Last = max(dst.Last, r.Last)
}

// SetOwner records the owner of flow k. It reports whether k is in the
// table.
func (t *Table) SetOwner(k flow.Key, owner flow.Owner) bool {
	pk := pack(&k)
	s := t.shard(&pk)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flows[pk]
	if f == nil {
		return false
	}
	f.owner = owner
	return true
}

// Unresolved appends to dst the keys of flows without an owner and returns
// it.
func (t *Table) Unresolved(dst []flow.Key) []flow.Key {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, f := range s.flows {
			if f.owner == flow.Unresolved {
				dst = append(dst, f.key)
			}
		}
		s.mu.Unlock()
	}
	return dst
}

// Sweep expires flows idle for longer than idle (nanoseconds) at now and
// returns how many it expired.
func (t *Table) Sweep(now, idle int64) int {
	expired := 0
	for i := range t.shards {
		s := &t.shards[i]
		var gone []*entry
		s.mu.Lock()
		for k, f := range s.flows {
			if now-f.last > idle {
				f.gone.Store(true)
				gone = append(gone, f)
				delete(s.flows, k)
			}
		}
		s.mu.Unlock()
		t.retire(gone)
		expired += len(gone)
	}
	return expired
}

// FlowStat is one flow as a snapshot shows it.
type FlowStat struct {
	Key                flow.Key
	Owner              flow.Owner
	Device             string
	First, Last        int64
	Sent, Recv         flow.Counter
	SentRate, RecvRate float64 // bytes per second over RateWindow (see rates)
}

// Snapshot is the table at one instant.
type Snapshot struct {
	Flows []FlowStat
	// Retired holds, per owner, the totals of flows that left the table.
	Retired map[flow.Owner]Retired
	// Evictions counts flows evicted to honour MaxFlows, since New.
	Evictions uint64
	// NewFlows counts flows ever added, since New.
	NewFlows uint64
}

// Snapshot copies the table's state at now. It locks one shard at a time.
func (t *Table) Snapshot(now int64) Snapshot {
	var snap Snapshot
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, f := range s.flows {
			sr, rr := f.rates(now)
			snap.Flows = append(snap.Flows, FlowStat{Key: f.key, Owner: f.owner, Device: f.device,
				First: f.first, Last: f.last, Sent: f.sent, Recv: f.recv, SentRate: sr, RecvRate: rr})
		}
		s.mu.Unlock()
	}
	t.retiredMu.Lock()
	snap.Retired = make(map[flow.Owner]Retired, len(t.retired))
	for o, r := range t.retired {
		snap.Retired[o] = *r
	}
	t.retiredMu.Unlock()
	snap.Evictions = t.evictions.Load()
	snap.NewFlows = t.newFlowsTotal.Load()
	return snap
}

// Len returns the number of flows in the table.
func (t *Table) Len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.flows)
		s.mu.Unlock()
	}
	return n
}

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
//     the next Sweep; past MaxFlows flows are evicted, unresolved flows
//     not worth a socket lookup first (a flood's), then other unresolved
//     ones, then the rest, least recently seen first within each. Either
//     way their totals are kept, folded into their owner's retired totals
//     (unresolved flows' into their protocol's), so totals never lose
//     bytes; evictions are counted. Insertion stays O(1) amortised: the
//     flows not worth a lookup wait in a queue in the order they came
//     (the earliest goes first), and when there are none a full shard
//     evicts an eighth of itself in one pass. Once a shard holds an
//     eighth of its cap, a flow whose first packet was received gets no
//     entry until it can have a local socket: it waits on probation, in
//     a fixed array of slots (probation.go), so that a flood's flows cost
//     no allocation, insertion or eviction of an entry.
//   - A flow's bytes go with it when it gets an owner, or another one
//     (SetOwner): the socket's process is charged its whole traffic.
//   - Config.Classify, if set, decides at a flow's first packet what it
//     is (Class): a flow counted elsewhere counts nowhere here, a
//     forwarded one belongs to Config.Forwarded from its first byte and
//     counts only what it received; neither ever changes owner.
//   - Owners are opaque numbers that the resolver (package proc) assigns;
//     flow.Unresolved is a flow no process has been found for yet.
//   - A Snapshot costs what it shows: resolved flows are copied, unresolved
//     ones are summed per protocol as packets come, with only the largest
//     UnknownDetail of them copied; it is consistent (all shards locked),
//     so a flow leaving meanwhile is counted once. LookupCandidates picks
//     which unresolved flows are worth a socket lookup, leaving out those
//     that cannot have a local socket, and visits only those.
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
	// ownedSent and ownedRecv are sent and recv when the flow left the
	// unknown rows for its first owner (zero if it had one from its first
	// packet): what came before showed there.
	ownedSent, ownedRecv flow.Counter
	buckets              [buckets]bucket
	// cur is the bucket of the second [curStart, curStart+1e9) of the
	// clock, so that packets within one second skip the divisions.
	cur      *bucket
	curStart int64
	// gone is set when the flow leaves the table (expiry, eviction), so
	// an Adder's memo of it knows to look again. It is set under the
	// shard lock and read without it by the Adder's fast path.
	gone atomic.Bool
	// state holds the flow's flags (answered, and which of its shard's
	// lists it is in).
	state uint8
	// lookups counts the socket lookups LookupCandidates handed out for
	// it; the next is due at retryAt.
	lookups uint8
	retryAt int64
}

// Flow state bits.
const (
	// answered: the local end sent a packet other than a TCP reset, so a
	// local socket may exist (a SYN answered by a RST, or a packet to a
	// closed port answered by ICMP, never sets it).
	answered uint8 = 1 << iota
	// opened: the flow's first packet was sent by the local end: this
	// host opened the connection.
	opened
	// inWorthy, inNotable, inOwned: the flow was put on its shard's list
	// of that name.
	inWorthy
	inNotable
	inOwned
	// skipSent: the flow's sent packets are not counted (a forwarded
	// flow counts what the host received, once). skipAll: none are (a
	// flow counted at a namespace boundary).
	skipSent
	skipAll
)

// Class is what the table does with a new flow (Config.Classify).
type Class uint8

const (
	// Local flows may have a socket on this host: they are unresolved
	// until their owner is found.
	Local Class = iota
	// Elsewhere flows are counted elsewhere: the host namespace's copy of
	// a container's traffic (seen on a bridge, or NATed on the uplink),
	// counted at the container's boundary veth. Their packets count
	// nowhere.
	Elsewhere
	// Forwarded flows are only routed through the host (no socket on the
	// machine has them): they belong to Config.Forwarded from their first
	// packet, counting only the packets the host received (each routed
	// packet is received once and sent once).
	Forwarded
)

// elsewhereOwner marks a flow counted elsewhere (Class Elsewhere); it is
// never handed out by flow.Owners (which counts up from 1).
const elsewhereOwner = ^flow.Owner(0)

// skipped is the state bit that leaves a packet in direction out
// uncounted.
func skipped(out bool) uint8 {
	if out {
		return skipSent | skipAll
	}
	return skipAll
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
	b := bucketOf(&f.buckets, now)
	f.cur, f.curStart = b, floorSecond(now)
	return b
}

// bucketOf returns the bucket of now's second, cleared if it last held an
// older second.
func bucketOf(bs *[buckets]bucket, now int64) *bucket {
	sec := floorSecond(now) / 1e9
	b := &bs[(sec%buckets+buckets)%buckets]
	if b.second != sec {
		*b = bucket{second: sec}
	}
	return b
}

// rates returns the bytes per second sent and received over the last
// RateWindow seconds up to now, or since the flow was first seen if that
// is shorter (but at least a second): a flow seen for two seconds is
// averaged over those two, not over RateWindow. The oldest second of a
// full window counts in proportion to its part inside the window.
func (f *entry) rates(now int64) (sent, recv float64) { return ratesOf(&f.buckets, f.first, now) }

// ratesOf is rates for buckets whose traffic began at first.
func ratesOf(bs *[buckets]bucket, first, now int64) (sent, recv float64) {
	sec := floorSecond(now) / 1e9
	start := max(now-RateWindow*1e9, first)
	var s, r float64
	for i := range bs {
		b := &bs[i]
		from := b.second * 1e9
		if b.second > sec || from+1e9 <= start || b.sent|b.recv == 0 {
			continue
		}
		w := 1.0
		if from < start && start != first {
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
	// fresh lists flows in the order they were added, from head on, for
	// evictFreshLocked; Sweep and compactFresh drop those gone or no
	// longer junk.
	fresh []*entry
	head  int
	// unknown sums the unresolved flows per protocol (UnknownTCP,
	// UnknownUDP), kept as packets come.
	unknown [2]unknownSum
	// owned lists the flows with an owner, worthy the unresolved ones
	// worth a socket lookup (worthLookup), notable the unresolved ones
	// with at least notablePackets packets: what a Snapshot and
	// LookupCandidates visit instead of every flow. Flows that left the
	// table, or the list's kind, are dropped when the list is next walked.
	owned, worthy, notable []*entry
	// Scratch space of evictOldestLocked, kept so evicting allocates
	// nothing after the first time.
	ranks []rank
	gone  []*entry
	// probes are the slots of the flows on probation (probation.go), nil
	// until the shard first needs them.
	probes []probe
	_      [64]byte // keep neighbouring shards' locks off one cache line
}

// Config sets the table's limits.
type Config struct {
	// MaxFlows caps the number of flows tracked; 0 means DefaultMaxFlows.
	MaxFlows int
	// Classify, if set, decides at its first packet, before any of its
	// bytes show, what a new flow is (Class); nil: every flow is Local.
	// It is called under a shard lock, for each new flow: it must answer
	// from memory, without blocking.
	Classify func(k flow.Key) Class
	// Forwarded owns the flows Classify calls Forwarded.
	Forwarded flow.Owner
}

// DefaultMaxFlows is the default cap on flows: with the 16 MiB capture
// ring it keeps hogs within 128 MiB resident under a flood of new flows
// (TestFloodMemoryBounded measures the table's part).
const DefaultMaxFlows = 50_000

// Table is the connection table. Its methods are safe for concurrent use.
type Table struct {
	shards      [shardCount]shard
	maxPerShard int
	probeSlots  int // per shard
	// probationAt is how many flows a shard holds before its new flows
	// go on probation (probation.go).
	probationAt int
	evictions   atomic.Uint64
	retiredMu   sync.Mutex
	retired     map[flow.Owner]*Retired
	// unknownRetired is what unresolved flows left, per protocol
	// (UnknownTCP, UnknownUDP).
	unknownRetired [2]Retired
	newFlowsTotal  atomic.Uint64
	classify       func(k flow.Key) Class
	forwarded      flow.Owner
	elsewhere      atomic.Uint64
}

// Retired is what flows already gone from the table left to their owner.
type Retired struct {
	Sent, Recv flow.Counter
	// OwnedSent and OwnedRecv are the part of Sent and Recv those flows
	// moved before they got their owner (FlowStat.OwnedSent): shown in
	// the unknown rows then, counted there by EverSent/EverRecv.
	OwnedSent, OwnedRecv flow.Counter
	Flows                uint64
	// Last is when the latest of those flows last saw a packet.
	Last int64
}

// New returns an empty table.
func New(cfg Config) *Table {
	limit := cfg.MaxFlows
	if limit <= 0 {
		limit = DefaultMaxFlows
	}
	t := &Table{maxPerShard: (limit + shardCount - 1) / shardCount, retired: map[flow.Owner]*Retired{},
		classify: cfg.Classify, forwarded: cfg.Forwarded}
	t.probeSlots = probeSlots(t.maxPerShard)
	t.probationAt = max(1, t.maxPerShard/probationShare)
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
	f, s, isNew, _, _, _ := t.addSeen(k, out, false, wireLen, now, device)
	return f, s, isNew
}

// addSeen is add for a packet that is a TCP reset when reset is set; it
// also reports whether the packet made the flow worth a lookup (see
// Adder.AddSeen), whether the flow is answered now, and whether the next
// packet it receives may make it worth one.
func (t *Table) addSeen(k flow.Key, out, reset bool, wireLen int, now int64, device string) (f *entry, s *shard, isNew, nowWorthy, isAnswered, watch bool) {
	pk := pack(&k)
	s = t.shard(&pk)
	s.mu.Lock()
	f = s.flows[pk]
	isNew = f == nil
	if isNew {
		// Not in the map: on probation (probation.go), or new.
		p := s.onProbation(&pk)
		if p != nil && p.keeps(out, reset) || p == nil && (!out || reset) && len(s.flows) >= t.probationAt && t.local(k) {
			t.addProbe(s, p, &pk, out, reset, wireLen, now, device)
			s.mu.Unlock()
			return nil, s, p == nil, false, false, false
		}
		isNew = p == nil
		f = t.insertLocked(s, pk, k, now, device)
		if isNew && out {
			f.state |= opened
		}
	}
	if f.state&skipped(out) == 0 {
		f.account(out, wireLen, now)
	} else {
		f.last = now
	}
	if out && !reset {
		f.state |= answered
	}
	wasWorthy := f.state&inWorthy != 0
	if f.owner == flow.Unresolved {
		var c flow.Counter
		count(&c, wireLen)
		if out {
			s.countUnknown(f, c, flow.Counter{}, now)
		} else {
			s.countUnknown(f, flow.Counter{}, c, now)
		}
	}
	nowWorthy = !wasWorthy && f.state&inWorthy != 0
	isAnswered = f.state&answered != 0
	// The next packet received may make the flow worth a lookup: the
	// peer's answer to this host's SYN-ACK, a UDP flow's second.
	watch = f.owner == flow.Unresolved && f.state&inWorthy == 0 &&
		(f.key.Proto == flow.TCP && f.state&(answered|opened) == answered || f.key.Proto == flow.UDP)
	s.mu.Unlock()
	return f, s, isNew, nowWorthy, isAnswered, watch
}

// local reports whether new flow k is a Local one (Config.Classify): only
// those go on probation, whose bytes count in the unknown rows; a flow
// counted elsewhere or forwarded gets its entry, and its class, at once.
func (t *Table) local(k flow.Key) bool {
	return t.classify == nil || t.classify(k) == Local
}

// Open makes sure flow k exists, without accounting a packet: a
// connection's first packet seen on a faster path than the one that counts
// bytes (hogs watches TCP handshakes on their own socket) opens its flow so
// that its owner can be looked up at once, while its socket still exists.
// out says the local end sent the packet (a SYN or SYN-ACK: the flow is
// answered). It reports whether the flow is new, and whether the packet
// made it worth a lookup (see Adder.AddSeen); an existing flow's counts
// are left untouched.
func (t *Table) Open(k flow.Key, out bool, now int64, device string) (isNew, nowWorthy bool) {
	pk := pack(&k)
	s := t.shard(&pk)
	s.mu.Lock()
	f := s.flows[pk]
	if f == nil {
		f = t.insertLocked(s, pk, k, now, device)
		f.last = now
		isNew = true
		if out {
			f.state |= opened
		}
	}
	if out && f.state&answered == 0 {
		f.state |= answered
		wasWorthy := f.state&inWorthy != 0
		s.track(f)
		nowWorthy = !wasWorthy && f.state&inWorthy != 0
	}
	s.mu.Unlock()
	return isNew, nowWorthy
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
	// answered is the remembered flow's answered bit as last seen: a
	// packet that would answer it takes the locked path once. watch is
	// set while a packet received may make the flow worth a lookup (see
	// addSeen): those take the locked path too, so AddSeen can tell.
	answered, watch bool

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
	isNew, _ = a.AddSeen(k, out, false, wireLen, now, device)
	return isNew
}

// AddSeen is Add for a packet that is a TCP reset when reset is set. It
// also reports whether the packet made its unresolved flow worth a socket
// lookup (see LookupCandidates): a connection this host opened, at its
// first packet; one it accepted, once the handshake is done; never a
// flood's, which this host does not answer, or answers with resets. (A
// flow that becomes worth it within a held run is found by the next
// LookupCandidates.)
func (a *Adder) AddSeen(k *flow.Key, out, reset bool, wireLen int, now int64, device string) (isNew, nowWorthy bool) {
	if a.flow != nil && *k == a.key && !a.flow.gone.Load() && (out && (a.answered || reset) || !out && !a.watch) {
		a.hold(out, wireLen, now)
		return false, false
	}
	reopened := a.flush() && *k == a.key
	a.flow, a.shard, isNew, nowWorthy, a.answered, a.watch = a.t.addSeen(*k, out, reset, wireLen, now, device)
	a.key = *k
	a.run++
	return isNew || reopened, nowWorthy
}

// RunID numbers the Adder's runs: it changes whenever a packet goes to
// another flow than the one before. A caller that recognises a packet as
// one of the current run's flow without decoding it (by its raw header
// bytes) hands it to AddToRun.
func (a *Adder) RunID() uint64 { return a.run }

// AddToRun adds a packet to the flow of the current run (see RunID), sent by
// the local end when out is true. It reports false, adding nothing, if
// there is no run or its flow has left the table: the caller then adds the
// packet the ordinary way; so it does for a packet the local end sends on a
// flow it has not answered yet (the ordinary way tells a reset), and for
// one received that may make the flow worth a lookup (see AddSeen).
func (a *Adder) AddToRun(out bool, wireLen int, now int64) bool {
	if a.flow == nil || a.flow.gone.Load() || out && !a.answered || !out && a.watch {
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
		if a.answered {
			f.state |= answered
		}
		a.flow, a.shard = f, s
	}
	f.last = a.pendLast
	if f.state&skipped(true) != 0 {
		a.pendSent = flow.Counter{}
	}
	if f.state&skipped(false) != 0 {
		a.pendRecv = flow.Counter{}
	}
	b := f.cur
	if b == nil || uint64(a.pendLast-f.curStart) >= 1e9 {
		b = f.bucketAt(a.pendLast)
	}
	f.sent = f.sent.Add(a.pendSent)
	f.recv = f.recv.Add(a.pendRecv)
	b.sent += a.pendSent.Bytes
	b.recv += a.pendRecv.Bytes
	if f.owner == flow.Unresolved {
		s.countUnknown(f, a.pendSent, a.pendRecv, a.pendLast)
	}
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

// retire folds the totals of flows leaving the table into their owners'.
func (t *Table) retire(gone ...*entry) {
	if len(gone) == 0 {
		return
	}
	t.retiredMu.Lock()
	defer t.retiredMu.Unlock()
	for _, f := range gone {
		if f.owner == elsewhereOwner {
			continue
		}
		r := t.retiredOf(f.owner, f.key.Proto)
		r.Sent = r.Sent.Add(f.sent)
		r.Recv = r.Recv.Add(f.recv)
		r.OwnedSent = r.OwnedSent.Add(f.ownedSent)
		r.OwnedRecv = r.OwnedRecv.Add(f.ownedRecv)
		r.Flows++
		r.Last = max(r.Last, f.last)
	}
}

// retiredOf returns the retired totals of owner, or of proto's
// unresolved flows; the caller holds t.retiredMu.
func (t *Table) retiredOf(owner flow.Owner, proto uint8) *Retired {
	if owner == flow.Unresolved {
		return &t.unknownRetired[unknownIndex(proto)]
	}
	r := t.retired[owner]
	if r == nil {
		r = &Retired{}
		t.retired[owner] = r
	}
	return r
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
	dst.OwnedSent = dst.OwnedSent.Add(r.OwnedSent)
	dst.OwnedRecv = dst.OwnedRecv.Add(r.OwnedRecv)
	dst.Flows += r.Flows
	dst.Last = max(dst.Last, r.Last)
}

// SetOwner records the owner of flow k. It reports whether k is in the
// table. The flow's bytes go with it: a socket found late (a server that
// accepts after a while) or handed on (a forking server's child) takes
// them from the row that showed them, the one way a row can show less
// than before (the sum of the rows never does). An owner is never taken
// back: SetOwner to flow.Unresolved leaves the flow as it is.
func (t *Table) SetOwner(k flow.Key, owner flow.Owner) bool {
	pk := pack(&k)
	s := t.shard(&pk)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flows[pk]
	if f == nil {
		return false
	}
	if f.owner == owner || owner == flow.Unresolved || f.state&(skipSent|skipAll) != 0 {
		return true // a flow classified at its first packet keeps its class
	}
	if f.owner == flow.Unresolved {
		s.leaveUnknown(f, true)
		f.ownedSent, f.ownedRecv = f.sent, f.recv
	}
	f.owner = owner
	if f.state&inOwned == 0 {
		f.state |= inOwned
		s.owned = append(s.owned, f)
	}
	return true
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
				gone = append(gone, f)
				s.removeLocked(k, f)
			}
		}
		s.compactFresh()
		s.worthy = keepIf(s.worthy, isUnresolved)
		s.notable = keepIf(s.notable, isUnresolved)
		// Retired before the lock goes: a Snapshot sees a flow or its
		// retired totals, never neither.
		t.retire(gone...)
		expired += len(gone) + t.sweepProbes(s, now, idle)
		s.mu.Unlock()
	}
	return expired
}

// Len returns the number of flows in the table, on probation included.
func (t *Table) Len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.flows) + s.probeCount()
		s.mu.Unlock()
	}
	return n
}

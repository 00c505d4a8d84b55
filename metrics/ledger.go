package metrics

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"time"

	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/ui"
)

// ledger turns a sequence of views into per-group counters that never
// decrease.
//
// A row's totals are not monotonic: a flow's whole history moves with it
// when its owner changes (an unknown flow resolved, a forking server's
// child taking over a connection), and a process that exits folds into
// its program's exited row, retired totals and all. So the ledger counts
// what is new, flow by flow: a live flow (key and start time) adds what it
// gained since the last view, whichever row it was in then; a row's
// retired part (its total less its live flows) adds only what no vanished
// flow or vanished row explains. A vanished flow leaves its last totals in
// a pool for the row it was in (its bytes reappear in that row's retired
// part), or for its group's pool key when that row is gone too, as a
// vanished row leaves its retired totals (they reappear in the exited row
// that took them over). Growth a pool explains was counted already; the
// rest is new. Growth claims its own row's pool first, then its pool
// key's, then (exited rows) its program's, then any: the last catches a
// flow that changed owner and ended between two views. Pool entries
// nothing claims expire after poolSteps views.
//
// New traffic adds to its group's counters while the group has a series
// of its own, to the other group's otherwise: every byte is counted once,
// and no counter ever decreases.
type ledger struct {
	by          GroupBy
	maxSeries   int
	idleAfter   time.Duration
	containerOf func(*flow.Process) string

	gen    uint32
	seed   maphash.Seed
	flows  map[uint64]*flowState
	rows   map[ui.RowID]*rowState
	groups map[groupKey]*group
	pool   map[groupKey]*pooled
	other  *group
	// exposed is the groups with series of their own, other included,
	// sorted by labels.
	exposed []*group
	// carrying: some group holds a carry (see group.fresh).
	carrying bool
	// For add: the pseudo rows of the view; what flows that began since
	// the last view took from the unknown rows, per protocol; the last
	// view's monotonic time.
	pseudo   []pseudoRow
	rescued  [2]pair
	prevMono int64
	viewed   bool

	// scratch, kept between steps
	rowPool map[*rowState]pair
	growth  []rowGrowth
	ranked  []*group
}

// pair is a transmit and a receive count.
type pair struct{ sent, recv flow.Counter }

func (p pair) add(o pair) pair { return pair{p.sent.Add(o.sent), p.recv.Add(o.recv)} }

// since is what p gained over prev, each count at least 0.
func (p pair) since(prev pair) pair { return pair{p.sent.Since(prev.sent), p.recv.Since(prev.recv)} }

// min returns the part of p that o covers, count by count.
func (p pair) min(o pair) pair {
	m := func(a, b flow.Counter) flow.Counter {
		return flow.Counter{Packets: min(a.Packets, b.Packets), Bytes: min(a.Bytes, b.Bytes)}
	}
	return pair{m(p.sent, o.sent), m(p.recv, o.recv)}
}

func (p pair) zero() bool { return p == pair{} }

type flowState struct {
	last pair
	row  *rowState
	gen  uint32
}

type rowState struct {
	retired pair
	pool    groupKey
	gen     uint32
	// total is a pseudo row's totals at the last view (see add), lagged
	// what it gained then, counted at the next; base its retired part's
	// OwnedSent/OwnedRecv.
	total, lagged, base pair
}

// pseudoRow is an unknown (or forwarded) row of the view being added.
type pseudoRow struct {
	row   *rowState
	group *group
	total pair
	proto int // conntable.UnknownTCP or UnknownUDP; -1 for other pseudo rows
}

// unknownIndexOf is the unknown row of a protocol's flows.
func unknownIndexOf(proto uint8) int {
	if proto == flow.UDP {
		return conntable.UnknownUDP
	}
	return conntable.UnknownTCP
}

type rowGrowth struct {
	row     *rowState
	group   *group
	retired pair // growth of the retired part not yet explained
	// exited: the row is an exited row (flow.Process.Exited), otherExited
	// the one shared by the programs past flow.MaxFolded.
	exited, otherExited bool
}

type pooled struct {
	pair
	gen uint32 // when last added to
}

// claim takes from e what of growth it explains and returns the rest.
func (e *pooled) claim(growth pair) pair {
	used := growth.min(e.pair)
	e.pair = e.pair.since(used)
	return growth.since(used)
}

// group is one label set's counters.
type group struct {
	key    groupKey
	labels string
	// counted is what the group's series shows; raw is all its bytes,
	// also those given to other while it was folded (it ranks groups for
	// MaxSeries).
	counted pair
	raw     uint64
	// step is this view's new traffic, before it goes to the group or to
	// other.
	step       pair
	lastActive time.Time
	exposed    bool
	// fresh marks a group whose series appears in this scrape: it shows
	// what it counted before (0 for a new group) and carry, this scrape's
	// traffic, comes in the next. Prometheus takes a series' first
	// sample as its starting point, so traffic in it would be missed by
	// increase() and rate().
	fresh bool
	carry pair
}

// poolSteps is how many views an unclaimed pool entry waits.
const poolSteps = 2

// maxTrackedFactor times MaxSeries bounds the groups remembered.
const maxTrackedFactor = 8

func newLedger(cfg Config) *ledger {
	other := &group{key: groupKey{kind: kindOther}, exposed: true}
	other.labels = other.key.labels()
	if cfg.ContainerOf == nil {
		cfg.ContainerOf = ContainerName
	}
	return &ledger{
		by: cfg.GroupBy, maxSeries: cfg.MaxSeries, idleAfter: cfg.IdleAfter, containerOf: cfg.ContainerOf,
		seed:    maphash.MakeSeed(),
		flows:   map[uint64]*flowState{},
		rows:    map[ui.RowID]*rowState{},
		groups:  map[groupKey]*group{},
		pool:    map[groupKey]*pooled{},
		other:   other,
		exposed: []*group{other},
		rowPool: map[*rowState]pair{},
	}
}

// flowID identifies a flow: its key and when it started (a later flow
// with the same key is another flow). Two flows hashing alike (about one
// chance in 10^9 with 200,000 flows) would be taken for one.
func (l *ledger) flowID(f *conntable.FlowStat) uint64 {
	var b [50]byte
	la, ra := f.Key.Local.Addr().As16(), f.Key.Remote.Addr().As16()
	copy(b[0:], la[:])
	copy(b[16:], ra[:])
	binary.LittleEndian.PutUint16(b[32:], f.Key.Local.Port())
	binary.LittleEndian.PutUint16(b[34:], f.Key.Remote.Port())
	b[36] = f.Key.Proto
	if f.Key.Local.Addr().Is4() {
		b[37] = 4
	}
	binary.LittleEndian.PutUint32(b[38:], f.Key.NetNS)
	binary.LittleEndian.PutUint64(b[42:], uint64(f.First))
	return maphash.Bytes(l.seed, b[:])
}

// groupFor returns the group of key k, creating it.
func (l *ledger) groupFor(k groupKey, now time.Time) *group {
	g := l.groups[k]
	if g == nil {
		g = &group{key: k, labels: k.labels(), lastActive: now}
		l.groups[k] = g
	}
	return g
}

// add accounts one view.
func (l *ledger) add(v *ui.View) {
	l.gen++
	gen, now := l.gen, v.Time
	l.growth = l.growth[:0]
	for i := range v.Rows {
		r := &v.Rows[i]
		k := keyOf(r, l.by, l.containerOf)
		g := l.groupFor(k, now)
		id := ui.RowIDOf(r)
		rs := l.rows[id]
		if rs == nil {
			rs = &rowState{}
			l.rows[id] = rs
		}
		if r.Pseudo {
			// Counted after the other rows (see below).
			total, proto := pair{r.Sent, r.Recv}, -1
			switch r.Name {
			case ui.UnknownTCPName:
				total, proto = pair{r.EverSent, r.EverRecv}, conntable.UnknownTCP
			case ui.UnknownUDPName:
				total, proto = pair{r.EverSent, r.EverRecv}, conntable.UnknownUDP
			}
			l.pseudo = append(l.pseudo, pseudoRow{row: rs, group: g, total: total, proto: proto})
			rs.pool, rs.gen = k.poolKey(), gen
			continue
		}
		var live, gained pair
		for j := range r.Flows {
			f := &r.Flows[j]
			cur := pair{f.Sent, f.Recv}
			live = live.add(cur)
			fid := l.flowID(f)
			st := l.flows[fid]
			if st == nil {
				// New to the ledger. What it moved before it got its
				// owner was unknown traffic, which the unknown rows count
				// (EverSent, EverRecv) a view late; a flow that began
				// since the last view accounted (or before the first) is
				// its owner's from its first byte, and the unknown rows
				// leave its bytes out (rescued).
				st = &flowState{last: pair{f.OwnedSent, f.OwnedRecv}}
				if (!l.viewed || f.First > l.prevMono) && !st.last.zero() {
					l.rescued[unknownIndexOf(f.Key.Proto)] = l.rescued[unknownIndexOf(f.Key.Proto)].add(st.last)
					st.last = pair{}
				}
				l.flows[fid] = st
			}
			gained = gained.add(cur.since(st.last))
			st.last, st.row, st.gen = cur, rs, gen
		}
		retired := pair{r.Sent, r.Recv}.since(live)
		// Of what the retired part gained, what its flows moved before
		// their owner was found is the unknown rows' (EverSent).
		base := pair{r.RetiredOwnedSent, r.RetiredOwnedRecv}
		if grew := retired.since(rs.retired).since(base.since(rs.base)); !grew.zero() {
			l.growth = append(l.growth, rowGrowth{row: rs, group: g, retired: grew,
				exited: r.Exited, otherExited: r.Exited && r.Name == flow.OtherExited})
		}
		rs.retired, rs.base, rs.pool, rs.gen = retired, base, k.poolKey(), gen
		g.step = g.step.add(gained)
	}

	// The unknown rows list only their largest flows (a flood has
	// hundreds of thousands), so they count by their totals: all that
	// arrived while its flow had no owner (EverSent, EverRecv, which keep
	// what a flow took along to its owner; the owner counts it from then
	// on, OwnedSent/OwnedRecv): nothing is counted twice or lost.
	// An unknown row counts, at each view, what it gained in the view
	// before, less what flows that began then and were resolved by now
	// took along (their owners count it): a flow resolved within a
	// refresh of its first packet is its process's whole.
	for _, p := range l.pseudo {
		gained := p.total.since(p.row.total)
		p.row.total = p.total
		if p.proto < 0 {
			p.group.step = p.group.step.add(gained)
			continue
		}
		p.group.step = p.group.step.add(p.row.lagged)
		p.row.lagged = gained.since(l.rescued[p.proto])
	}
	l.pseudo = l.pseudo[:0]
	l.rescued = [2]pair{}
	l.prevMono, l.viewed = v.Mono, true

	// Vanished flows: their bytes turn up in a retired part.
	for id, st := range l.flows {
		if st.gen == gen {
			continue
		}
		if st.row != nil && st.row.gen == gen {
			l.rowPool[st.row] = l.rowPool[st.row].add(st.last)
		} else if st.row != nil {
			l.addPool(st.row.pool, st.last, gen)
		}
		delete(l.flows, id)
	}
	// Vanished rows: their retired totals move to another row.
	for id, rs := range l.rows {
		if rs.gen != gen {
			l.addPool(rs.pool, rs.retired, gen)
			delete(l.rows, id)
		}
	}
	// Retired growth explained by the row's own vanished flows first, then
	// by its pool key's entries; the rest is new.
	for i := range l.growth {
		gr := &l.growth[i]
		if p, ok := l.rowPool[gr.row]; ok {
			used := gr.retired.min(p)
			gr.retired = gr.retired.since(used)
			l.rowPool[gr.row] = p.since(used)
		}
	}
	for rs, p := range l.rowPool {
		if !p.zero() {
			l.addPool(rs.pool, p, gen)
		}
		delete(l.rowPool, rs)
	}
	for i := range l.growth {
		gr := &l.growth[i]
		if e := l.pool[gr.row.pool]; e != nil {
			gr.retired = e.claim(gr.retired)
		}
	}
	// An exited row takes over the processes of its program whatever
	// their user (flow.Owners folds by name), and the row of the programs
	// past flow.MaxFolded those of any program: what they moved is in the
	// pool under other keys.
	for i := range l.growth {
		gr := &l.growth[i]
		if gr.exited && !gr.retired.zero() {
			for k, e := range l.pool {
				if k.kind == kindProcess && (k.program == gr.row.pool.program || gr.otherExited) {
					gr.retired = e.claim(gr.retired)
				}
			}
		}
	}
	// A flow that changed owner and ended between two views left its
	// bytes in the pool of the row it was in and shows them in another's
	// retired part: what is left of the pool explains what is left of the
	// growth, whatever the keys.
	for i := range l.growth {
		gr := &l.growth[i]
		for _, e := range l.pool {
			if gr.retired.zero() {
				break
			}
			gr.retired = e.claim(gr.retired)
		}
		gr.group.step = gr.group.step.add(gr.retired)
	}
	for k, e := range l.pool {
		if e.zero() || gen-e.gen >= poolSteps {
			delete(l.pool, k)
		}
	}
	l.settle(now)
}

func (l *ledger) addPool(k groupKey, p pair, gen uint32) {
	if p.zero() {
		return
	}
	e := l.pool[k]
	if e == nil {
		e = &pooled{}
		l.pool[k] = e
	}
	e.pair, e.gen = e.add(p), gen
}

// settle gives each group's step to its counters or to other's, after
// choosing which groups have series: the unknown and forwarded groups
// always; of the process groups active within idleAfter, the largest by
// all their bytes, maxSeries in all with other. A group that has a series
// ranks a quarter higher, so two groups of about equal size do not trade
// places at every view.
func (l *ledger) settle(now time.Time) {
	l.ranked = l.ranked[:0]
	fixed := 1 // other
	for _, g := range l.groups {
		if !g.step.zero() {
			g.raw += g.step.sent.Bytes + g.step.recv.Bytes
			g.lastActive = now
		}
		if g.key.kind != kindProcess {
			fixed++
			continue
		}
		if now.Sub(g.lastActive) <= l.idleAfter {
			l.ranked = append(l.ranked, g)
		}
	}
	room := max(l.maxSeries-fixed, 0)
	if len(l.ranked) > room {
		score := func(g *group) float64 {
			if g.exposed {
				return float64(g.raw) * 1.25
			}
			return float64(g.raw)
		}
		slices.SortFunc(l.ranked, func(a, b *group) int {
			return cmp.Or(cmp.Compare(score(b), score(a)), cmp.Compare(a.labels, b.labels))
		})
	}
	changed := false
	for i, g := range l.ranked {
		if want := i < room; g.exposed != want {
			g.exposed, g.fresh, changed = want, want, true
		}
	}
	for _, g := range l.groups {
		if g.key.kind != kindProcess {
			if !g.exposed {
				g.exposed, g.fresh, changed = true, true, true
			}
		} else if g.exposed && now.Sub(g.lastActive) > l.idleAfter {
			g.exposed, changed = false, true
		}
		switch {
		case g.exposed && g.fresh:
			g.carry = g.carry.add(g.step)
			g.fresh = false
			l.carrying = true
		case g.exposed:
			g.counted = g.counted.add(g.carry).add(g.step)
			g.carry = pair{}
		default:
			l.other.counted = l.other.counted.add(g.carry).add(g.step)
			g.carry = pair{}
		}
		g.step = pair{}
	}
	l.forget()
	if changed {
		l.exposed = append(l.exposed[:0], l.other)
		for _, g := range l.groups {
			if g.exposed {
				l.exposed = append(l.exposed, g)
			}
		}
		slices.SortFunc(l.exposed, func(a, b *group) int { return cmp.Compare(a.labels, b.labels) })
	}
}

// flushCarry counts what new series held back at their first scrape,
// for a scrape that has no new view to account.
func (l *ledger) flushCarry() {
	if !l.carrying {
		return
	}
	for _, g := range l.groups {
		if g.exposed {
			g.counted = g.counted.add(g.carry)
		} else {
			l.other.counted = l.other.counted.add(g.carry)
		}
		g.carry = pair{}
	}
	l.carrying = false
}

// forget drops the groups without a series that were active longest ago
// while more than maxTrackedFactor×maxSeries are remembered. (Idle groups
// are remembered so that their counters resume where they stopped.)
func (l *ledger) forget() {
	limit := maxTrackedFactor * l.maxSeries
	if len(l.groups) <= limit {
		return
	}
	l.ranked = l.ranked[:0]
	for _, g := range l.groups {
		if !g.exposed {
			l.ranked = append(l.ranked, g)
		}
	}
	slices.SortFunc(l.ranked, func(a, b *group) int { return a.lastActive.Compare(b.lastActive) })
	for _, g := range l.ranked[:min(len(l.ranked), len(l.groups)-limit)] {
		delete(l.groups, g.key)
	}
}

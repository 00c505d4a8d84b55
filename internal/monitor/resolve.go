package monitor

import (
	"fmt"
	"slices"
	"time"

	"hogs/internal/conntable"
	"hogs/internal/flow"
)

// retryEvery bounds how often unresolved flows are looked up again.
const retryEvery = time.Second

// foldEvery bounds how often the owners are checked for exited processes
// to fold; with a shorter idle time they are checked every idle time.
const foldEvery = 10 * time.Second

func foldInterval(idle time.Duration) time.Duration { return min(foldEvery, idle) }

// maxBatch is the most new flows the resolver looks up at once.
const maxBatch = 1024

// DefaultLookupRate is Config.LookupRate's default: socket lookups per
// second. A sock_diag lookup costs some microseconds, so this is a few
// percent of a core at most.
const DefaultLookupRate = 2000

// lookupBudget is a token bucket of socket lookups: rate a second, at
// most a second's worth saved up. Guarded by Monitor.resolving.
type lookupBudget struct {
	rate   int
	tokens float64
	last   int64
	filled bool
}

// room returns how many lookups the budget has at now.
func (b *lookupBudget) room(now int64) int {
	if !b.filled {
		b.tokens, b.filled = float64(b.rate), true
	} else if now > b.last {
		b.tokens = min(float64(b.rate), b.tokens+float64(now-b.last)*float64(b.rate)/1e9)
	}
	b.last = max(b.last, now)
	return int(b.tokens)
}

// take grants up to want lookups at now and returns how many.
func (b *lookupBudget) take(want int, now int64) int {
	n := min(want, b.room(now))
	b.tokens -= float64(n)
	return n
}

// resolve attributes new flows as soon as they appear, while their sockets
// still exist, until stop is closed; the refresh loop retries the
// unresolved ones (retryUnresolved).
func (m *Monitor) resolve(stop <-chan struct{}) {
	var (
		keys   []flow.Key
		others []flow.Key
	)
	for {
		select {
		case <-stop:
			return
		case r := <-m.newFlows:
			keys, others = keys[:0], others[:0]
			// Take whatever else arrived with it, then resolve the batch,
			// connections this host opened first.
			for {
				if r.ours {
					keys = append(keys, r.key)
				} else {
					others = append(others, r.key)
				}
				if len(keys)+len(others) == maxBatch {
					break
				}
				var more bool
				select {
				case r = <-m.newFlows:
					more = true
				default:
				}
				if !more {
					break
				}
			}
			keys = append(keys, others...)
			m.resolving.Lock()
			n := m.budget.take(len(keys), m.cfg.Now())
			m.resolveLocked(keys[:n])
			m.resolving.Unlock()
			// The rest wait for the retry pass, which finds them again.
			m.backlog.Add(int64(len(keys) - n))
		}
	}
}

// retryUnresolved looks up again the flows still without an owner that
// are worth it and due (conntable.Table.LookupCandidates), as many as the
// lookup budget allows, and checks the owners found lately (a forking
// server's child takes over its connection), at most once every
// retryEvery. The refresh loop calls it itself, before it builds its view:
// handing it to the resolver's goroutine would wake a second thread at
// every refresh.
func (m *Monitor) retryUnresolved(now int64) {
	if m.attr == nil {
		return
	}
	m.resolving.Lock()
	defer m.resolving.Unlock()
	if m.retried && now-m.lastRetry < int64(retryEvery) {
		return
	}
	m.retried, m.lastRetry = true, now
	var backlog, hopeless int
	m.retryKeys, backlog, hopeless = m.table.LookupCandidates(m.retryKeys[:0], m.budget.room(now), now)
	m.budget.take(len(m.retryKeys), now)
	m.backlog.Store(int64(backlog))
	m.hopeless.Store(int64(hopeless))
	m.resolveLocked(m.retryKeys)
	if err := m.attr.Recheck(m.table.SetOwner); err != nil {
		m.logf("re-checking owners: %v", err)
	}
}

// resolveLocked finds the owners of keys and records them; the caller
// holds m.resolving.
func (m *Monitor) resolveLocked(keys []flow.Key) {
	if len(keys) == 0 {
		return
	}
	m.found = slices.Grow(m.found[:0], len(keys))[:len(keys)]
	if err := m.attr.Resolve(keys, m.found); err != nil {
		m.logf("resolving: %v", err)
	}
	for i, k := range keys {
		if m.found[i] != flow.Unresolved {
			m.table.SetOwner(k, m.found[i])
		}
	}
}

// foldExited folds the owners whose processes have exited and whose
// traffic is older than the idle time into their programs' rows (see
// flow.Owners.Fold), moving their totals; live is the set of owners with
// flows in the table. It runs at most once every foldEvery, and reports
// whether it folded any.
func (m *Monitor) foldExited(now int64, snap *conntable.Snapshot) bool {
	if m.attr == nil || now-m.lastFold < int64(foldInterval(m.cfg.Idle)) && m.lastFold != 0 {
		return false
	}
	m.lastFold = now
	folded := map[flow.Owner]flow.Owner{}
	live := map[flow.Owner]bool{}
	for i := range snap.Flows {
		live[snap.Flows[i].Owner] = true
	}
	for o, r := range snap.Retired {
		if o == flow.Unresolved || live[o] || now-r.Last <= int64(m.cfg.Idle) {
			continue
		}
		p, ok := m.owners.Lookup(o)
		if !ok {
			// Folded already: a flow of it left the table (evicted)
			// after its totals were moved.
			if into, ok := m.foldedInto[o]; ok {
				m.table.MoveRetired(o, into)
				folded[o] = into
			}
			continue
		}
		if p.Exited || p.IsCgroup() || m.attr.Alive(p) {
			continue // a cgroup's row holds its totals until they leave the table
		}
		into := m.owners.Fold(o)
		m.table.MoveRetired(o, into)
		folded[o] = into
		m.folded.Add(1)
	}
	// Owners with no traffic in the table at all: found for flows that
	// had left it meanwhile. Nothing to fold; forgotten once exited (a
	// cgroup's row at once: it has nothing left to show).
	var idle []flow.Process
	var idleIDs []flow.Owner
	m.owners.Each(func(o flow.Owner, p flow.Process) {
		if _, retired := snap.Retired[o]; !p.Exited && !live[o] && !retired {
			idle, idleIDs = append(idle, p), append(idleIDs, o)
		}
	})
	for i, p := range idle {
		if p.IsCgroup() || !m.attr.Alive(p) {
			m.owners.Forget(idleIDs[i])
		}
	}
	for o, into := range folded {
		m.intervals.Fold(o, into)
	}
	// Remembered for one more pass only, so the map stays bounded.
	m.foldedInto = folded
	return len(folded) > 0
}

func (m *Monitor) logf(format string, args ...any) {
	if m.cfg.Log != nil {
		m.logMu.Lock()
		defer m.logMu.Unlock()
		fmt.Fprintf(m.cfg.Log, "hogs: "+format+"\n", args...)
	}
}

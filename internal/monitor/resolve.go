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

// resolve attributes new flows as soon as they appear, while their sockets
// still exist, until stop is closed; the refresh loop retries the
// unresolved ones (retryUnresolved).
func (m *Monitor) resolve(stop <-chan struct{}) {
	var keys []flow.Key
	for {
		select {
		case <-stop:
			return
		case k := <-m.newFlows:
			keys = append(keys[:0], k)
			// Take whatever else arrived with it, then resolve the batch.
		drain:
			for len(keys) < maxBatch {
				select {
				case k := <-m.newFlows:
					keys = append(keys, k)
				default:
					break drain
				}
			}
			m.resolving.Lock()
			m.resolveLocked(keys)
			m.resolving.Unlock()
		}
	}
}

// retryUnresolved looks up the flows still without an owner again, and
// checks the owners found lately (a forking server's child takes over its
// connection), at most once every retryEvery. The refresh loop calls it
// itself, before it builds its view: handing it to the resolver's
// goroutine would wake a second thread at every refresh.
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
	m.retryKeys = m.table.Unresolved(m.retryKeys[:0])
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

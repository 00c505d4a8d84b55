package conntable

import "hogs/internal/flow"

// insertLocked adds flow k to full or not full shard s, evicting first if
// it is full. The caller holds s.mu.
func (t *Table) insertLocked(s *shard, pk packedKey, k flow.Key, now int64, device string) *entry {
	if len(s.flows) >= t.maxPerShard && !t.evictFreshLocked(s) {
		t.evictOldestLocked(s)
	}
	f := &entry{key: k, first: now, device: device}
	s.flows[pk] = f
	// A flow on probation was counted (and classified Local) when it
	// went there: it takes its counts along.
	p := s.onProbation(&pk)
	if p == nil {
		t.newFlowsTotal.Add(1)
	}
	if t.classify != nil && p == nil {
		switch t.classify(f.key) {
		case Elsewhere:
			f.owner, f.state = elsewhereOwner, skipAll
			t.elsewhere.Add(1)
			return f
		case Forwarded:
			f.owner, f.state = t.forwarded, skipSent|inOwned
			s.owned = append(s.owned, f)
			return f
		}
	}
	if len(s.fresh) >= 2*t.maxPerShard {
		s.compactFresh()
	}
	s.fresh = append(s.fresh, f)
	if p != nil {
		s.promote(f, p)
		return f
	}
	s.unknown[unknownIndex(k.Proto)].flows++
	return f
}

// junk reports whether f is an unresolved flow not worth a socket lookup
// (worthLookup): what a flood is made of, and what eviction takes first.
func junk(f *entry) bool {
	return f.owner == flow.Unresolved && f.state&inWorthy == 0 && !f.gone.Load()
}

// evictFreshLocked evicts the earliest added flow that is still
// junk, in O(1) amortised: each flow passes the fresh queue's head
// once. It reports false when the queue holds none.
func (t *Table) evictFreshLocked(s *shard) bool {
	for s.head < len(s.fresh) {
		f := s.fresh[s.head]
		s.fresh[s.head] = nil
		s.head++
		if !junk(f) {
			continue
		}
		s.removeLocked(pack(&f.key), f)
		t.evictions.Add(1)
		t.retire(f)
		return true
	}
	return false
}

// compactFresh drops from the fresh queue the flows gone from the table or
// no longer junk, so that it holds no more than the shard does.
func (s *shard) compactFresh() {
	kept := s.fresh[:0]
	for _, f := range s.fresh[s.head:] {
		if junk(f) {
			kept = append(kept, f)
		}
	}
	clear(s.fresh[len(kept):])
	s.fresh, s.head = kept, 0
}

// evictOldestLocked makes room in a full shard: it evicts an eighth of it
// in one pass, so that a flood of new flows costs one scan per many
// insertions, not one per insertion. Unresolved flows not worth a lookup go
// first (a flood's: one-packet, one-direction), then other unresolved
// ones, then resolved ones; the least recently seen first within each.
func (t *Table) evictOldestLocked(s *shard) {
	n := len(s.flows) / 8
	if n < 1 {
		n = 1
	}
	// The n-th lowest rank, from a bounded max-heap.
	h := s.ranks[:0]
	for _, f := range s.flows {
		h = pushLowest(h, n, rankOf(f))
	}
	cutoff := h[0] // the largest of the n lowest
	s.ranks = h[:0]
	gone := s.gone[:0]
	for k, f := range s.flows {
		if len(gone) == n {
			break
		}
		if !cutoff.less(rankOf(f)) {
			gone = append(gone, f)
			s.removeLocked(k, f)
		}
	}
	t.evictions.Add(uint64(len(gone)))
	t.retire(gone...)
	clear(gone)
	s.gone = gone[:0]
}

// rank orders flows for eviction: lower goes first.
type rank struct {
	class uint8 // 0: junk; 1: unresolved; 2: resolved
	last  int64
}

func rankOf(f *entry) rank {
	switch {
	case f.owner == elsewhereOwner:
		return rank{0, f.last} // counts nothing: evicting it loses nothing
	case f.owner != flow.Unresolved:
		return rank{2, f.last}
	case f.state&inWorthy != 0:
		return rank{1, f.last}
	}
	return rank{0, f.last}
}

func (r rank) less(o rank) bool {
	return r.class < o.class || r.class == o.class && r.last < o.last
}

// pushLowest keeps h, a max-heap of at most n ranks, holding the n lowest
// ranks seen.
func pushLowest(h []rank, n int, v rank) []rank {
	if len(h) < n {
		h = append(h, v)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !h[p].less(h[i]) {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		return h
	}
	if !v.less(h[0]) {
		return h
	}
	h[0] = v
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[m].less(h[l]) {
			m = l
		}
		if r < len(h) && h[m].less(h[r]) {
			m = r
		}
		if m == i {
			return h
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

package ui

import (
	"cmp"
	"slices"
	"strconv"

	"hogs/internal/conntable"
)

// renderScratch holds Render's buffers between calls.
type renderScratch struct {
	idx        []int32
	sent, recv []float64
	buf, buf2  []byte
	// The grouped process list (group): row order, rows, their flows.
	gidx    []int32
	grouped []Row
	gflows  []conntable.FlowStat
	ascii   bool // display escapes every rune outside ASCII
}

// visible returns the indices of the rows st's filter keeps, in st's
// order (see order).
func (sc *renderScratch) visible(rows []Row, st *ViewState) []int32 {
	idx := sc.order(rows, st.Order, st.Mode)
	if st.Filter == "" {
		return idx
	}
	kept := idx[:0]
	for _, i := range idx {
		if sc.matches(&rows[i], st.Filter) {
			kept = append(kept, i)
		}
	}
	sc.idx = kept
	return kept
}

// matches reports whether the filter text is in r's program with its
// command line as the table shows it (sanitized: a name with an escape
// matches the escape's text), its container or service, its user (name
// or UID) or the address and port of either end of one of its
// connections, ignoring ASCII case.
func (sc *renderScratch) matches(r *Row, filter string) bool {
	sc.buf = sc.program(sc.buf[:0], r, false, true)
	if containsFold(sc.buf, filter) {
		return true
	}
	if containersBuilt && !r.Label.IsZero() {
		sc.buf = sc.appendLabel(sc.buf[:0], &r.Label)
		sc.buf = append(sc.buf, ' ')
		sc.buf = sc.display(sc.buf, r.Label.Name)
		if containsFold(sc.buf, filter) {
			return true
		}
	}
	if !r.Pseudo && (r.Group == GroupProcess || r.Group == GroupUser) {
		sc.buf = sc.display(sc.buf[:0], r.User)
		sc.buf = append(sc.buf, ' ')
		sc.buf = strconv.AppendUint(sc.buf, uint64(r.UID), 10)
		if containsFold(sc.buf, filter) {
			return true
		}
	}
	for i := range r.Flows {
		sc.buf = appendEndpoint(sc.buf[:0], r.Flows[i].Key.Local)
		sc.buf = append(sc.buf, ' ')
		sc.buf = appendEndpoint(sc.buf, r.Flows[i].Key.Remote)
		if containsFold(sc.buf, filter) {
			return true
		}
	}
	return false
}

// containsFold reports whether sub is in s, ASCII letters matching in
// either case.
func containsFold[T string | []byte](s T, sub string) bool {
	lower := func(c byte) byte {
		if c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
next:
	for i := 0; i+len(sub) <= len(s); i++ {
		for j := 0; j < len(sub); j++ {
			if lower(s[i+j]) != lower(sub[j]) {
				continue next
			}
		}
		return true
	}
	return false
}

// order sorts indices of rows as Sort would leave rows (the mode's measure
// of the order's column, largest first, ties by PID then name, stable),
// without moving the rows; sent and recv get each row's values.
func (sc *renderScratch) order(rows []Row, order SortOrder, mode ViewMode) []int32 {
	n := len(rows)
	sc.idx = slices.Grow(sc.idx[:0], n)[:n]
	sc.sent = slices.Grow(sc.sent[:0], n)[:n]
	sc.recv = slices.Grow(sc.recv[:0], n)[:n]
	for i := range rows {
		sc.sent[i], sc.recv[i] = mode.Values(&rows[i])
		sc.idx[i] = int32(i)
	}
	sent, recv := sc.sent, sc.recv
	slices.SortFunc(sc.idx, func(a, b int32) int {
		// Sort's comparison, and the original position last: a stable
		// sort's result.
		if c := compareRows(order, &rows[a], &rows[b], sent[a], recv[a], sent[b], recv[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return sc.idx
}

// flowValues returns a flow's numbers in the mode's unit.
func flowValues(mode ViewMode, f *conntable.FlowStat) (sent, recv float64) {
	r := Row{Sent: f.Sent, Recv: f.Recv, SentRate: f.SentRate, RecvRate: f.RecvRate}
	return mode.Values(&r)
}

// orderFlows sorts indices of flows as compareTraffic says, then by key.
func (sc *renderScratch) orderFlows(flows []conntable.FlowStat, order SortOrder, mode ViewMode) []int32 {
	n := len(flows)
	sc.idx = slices.Grow(sc.idx[:0], n)[:n]
	sc.sent = slices.Grow(sc.sent[:0], n)[:n]
	sc.recv = slices.Grow(sc.recv[:0], n)[:n]
	for i := range flows {
		sc.sent[i], sc.recv[i] = flowValues(mode, &flows[i])
		sc.idx[i] = int32(i)
	}
	sent, recv := sc.sent, sc.recv
	slices.SortFunc(sc.idx, func(a, b int32) int {
		return cmp.Or(compareTraffic(order, sent[a], recv[a], sent[b], recv[b]),
			conntable.CompareKeys(flows[a].Key, flows[b].Key), cmp.Compare(a, b))
	})
	return sc.idx
}

// findRow returns the row of rows with identity id, or nil.
func findRow(rows []Row, id RowID) *Row {
	for i := range rows {
		if RowIDOf(&rows[i]) == id {
			return &rows[i]
		}
	}
	return nil
}

// compareTraffic compares two lines of a connection or host list by their
// numbers (as, ar: sent, received of a; bs, br of b) for an order: the
// order's column largest first, then the other one; received, sent or
// their sum. The lists have no PID or name: those orders leave them in
// the lists' own order (by address).
func compareTraffic(order SortOrder, as, ar, bs, br float64) int {
	switch order {
	case SortRecv:
		return cmp.Or(cmp.Compare(br, ar), cmp.Compare(bs, as))
	case SortSent:
		return cmp.Or(cmp.Compare(bs, as), cmp.Compare(br, ar))
	case SortTotal:
		return cmp.Or(cmp.Compare(bs+br, as+ar), cmp.Compare(br, ar))
	}
	return 0
}

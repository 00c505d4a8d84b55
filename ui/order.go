package ui

import (
	"cmp"
	"slices"
	"strings"

	"hogs/internal/conntable"
)

// renderScratch holds Render's buffers between calls.
type renderScratch struct {
	idx        []int32
	sent, recv []float64
	buf, buf2  []byte
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
	key := sc.recv
	if order == SortSent {
		key = sc.sent
	}
	slices.SortFunc(sc.idx, func(a, b int32) int {
		// Sort's comparison, with early returns (cmp.Or would compare
		// the names every time), and the original position last: a
		// stable sort's result.
		if c := cmp.Compare(key[b], key[a]); c != 0 {
			return c
		}
		if c := cmp.Compare(rows[a].PID, rows[b].PID); c != 0 {
			return c
		}
		if c := strings.Compare(rows[a].Name, rows[b].Name); c != 0 {
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

// orderFlows sorts indices of flows by the order's column in the mode's
// measure, largest first, then by the other column, then by key.
func (sc *renderScratch) orderFlows(flows []conntable.FlowStat, order SortOrder, mode ViewMode) []int32 {
	n := len(flows)
	sc.idx = slices.Grow(sc.idx[:0], n)[:n]
	sc.sent = slices.Grow(sc.sent[:0], n)[:n]
	sc.recv = slices.Grow(sc.recv[:0], n)[:n]
	for i := range flows {
		sc.sent[i], sc.recv[i] = flowValues(mode, &flows[i])
		sc.idx[i] = int32(i)
	}
	first, second := sc.recv, sc.sent
	if order == SortSent {
		first, second = second, first
	}
	slices.SortFunc(sc.idx, func(a, b int32) int {
		return cmp.Or(cmp.Compare(first[b], first[a]), cmp.Compare(second[b], second[a]),
			compareKeys(flows[a].Key, flows[b].Key), cmp.Compare(a, b))
	})
	return sc.idx
}

// findRow returns the row with identity id, or nil.
func findRow(snap *View, id RowID) *Row {
	for i := range snap.Rows {
		if RowIDOf(&snap.Rows[i]) == id {
			return &snap.Rows[i]
		}
	}
	return nil
}

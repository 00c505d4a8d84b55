package ui

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	"hogs/internal/conntable"
)

// hostRow is one remote address on ScreenRemoteHosts.
type hostRow struct {
	addr       netip.Addr
	traffic    conntable.FlowStat // Sent, Recv, SentRate, RecvRate summed over the flows (not a Row: the sort copies hostRows)
	sent, recv float64
	conns      int
	procs      []int32 // rows with flows to the address, in display order
}

// remoteHosts aggregates the flows of rows (taken in the order idx) by
// remote address, sorted as compareTraffic says in the mode's measure,
// then by connections, largest first, and address.
func remoteHosts(rows []Row, idx []int32, order SortOrder, mode ViewMode) []hostRow {
	byAddr := map[netip.Addr]int{}
	var hosts []hostRow
	for _, ri := range idx {
		for _, f := range rows[ri].Flows {
			a := f.Key.Remote.Addr().Unmap()
			k, ok := byAddr[a]
			if !ok {
				k = len(hosts)
				byAddr[a] = k
				hosts = append(hosts, hostRow{addr: a})
			}
			h := &hosts[k]
			h.traffic.Sent = h.traffic.Sent.Add(f.Sent)
			h.traffic.Recv = h.traffic.Recv.Add(f.Recv)
			h.traffic.SentRate += f.SentRate
			h.traffic.RecvRate += f.RecvRate
			h.conns++
			if len(h.procs) == 0 || h.procs[len(h.procs)-1] != ri {
				h.procs = append(h.procs, ri)
			}
		}
	}
	for i := range hosts {
		hosts[i].sent, hosts[i].recv = flowValues(mode, &hosts[i].traffic)
	}
	slices.SortFunc(hosts, func(a, b hostRow) int {
		return cmp.Or(compareTraffic(order, a.sent, a.recv, b.sent, b.recv), cmp.Compare(b.conns, a.conns), a.addr.Compare(b.addr))
	})
	return hosts
}

// The columns of the remote host list.
const (
	hAddr = iota
	hConns
	hSent
	hRecv
	hUnit
	hProcs
	hColumns
)

func hostLayout(w, addrW int, order SortOrder) layout {
	l := layout{n: hColumns}
	l.c[hAddr] = column{title: "REMOTE HOST", w: addrW}
	l.c[hConns] = column{title: "CONNS", w: 5, gap: 1, right: true}
	l.c[hSent] = column{title: "SENT", w: 11, gap: 1, right: true}
	l.c[hRecv] = column{title: "RECEIVED", w: 11, gap: 1, right: true}
	l.c[hUnit] = column{w: 6, gap: 1}
	l.c[hProcs] = column{title: "PROCESSES", flex: true, min: 12, gap: 1}
	for stage := 0; !l.place(w); stage++ {
		switch stage {
		case 0:
			l.c[hProcs].off = true
		case 1:
			l.c[hConns].off = true
		case 2:
			l.c[hUnit].off = true
		case 3:
			l.c[hSent].w, l.c[hRecv].w = 9, 9
		case 4:
			l.c[hAddr].flex, l.c[hAddr].cap, l.c[hAddr].min = true, addrW, min(addrW, 8)
		case 5:
			l.c[hSent].w, l.c[hRecv].w = 7, 7
		case 6:
			l.c[hAddr].min = 1
		default:
			return l.lastNumber(w, order, hSent, hRecv)
		}
	}
	return l
}

func (g *Grid) renderHosts(snap *View, st *ViewState, v vlayout) {
	sc := &g.sc
	rows := snap.Rows
	idx := sc.visible(rows, st)
	hosts := remoteHosts(rows, idx, st.Order, st.Mode)
	g.drawTitle(v.title, st, snap, []byte("remote hosts"))
	addrW := 11
	for i := range hosts {
		sc.buf = sc.host(sc.buf[:0], snap, hosts[i].addr)
		addrW = max(addrW, cellsOf(sc.buf))
	}
	l := hostLayout(g.W, addrW, st.Order)
	if v.header >= 0 {
		g.drawHeader(v.header, &l, sortedColumns(st.Order, -1, hAddr, hSent, hRecv))
	}
	top, shown, sel := g.listWindow(v, st.Selected, st.Top, len(hosts))
	for k := 0; k < shown; k++ {
		y := v.list + k
		a := selectedAttr(top+k == sel)
		h := &hosts[top+k]
		if c := &l.c[hAddr]; !c.off {
			sc.buf = sc.host(sc.buf[:0], snap, h.addr)
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
		if c := &l.c[hConns]; !c.off {
			sc.buf = strconv.AppendInt(sc.buf[:0], int64(h.conns), 10)
			g.drawText(c.x, y, c.w, sc.buf, a, true)
		}
		g.drawValues(y, &l, hSent, hRecv, hUnit, h.sent, h.recv, st.Mode, a)
		if c := &l.c[hProcs]; !c.off {
			b := sc.buf[:0]
			for j, ri := range h.procs {
				if j > 0 {
					b = append(b, ", "...)
				}
				r := &rows[ri]
				if r.Pseudo {
					b = sc.display(b, r.Name)
					continue
				}
				b = sc.display(b, baseName(r.Name))
				b = append(b, '(')
				b = strconv.AppendInt(b, int64(r.PID), 10)
				b = append(b, ')')
			}
			sc.buf = b
			g.drawText(c.x, y, c.w, b, a, false)
		}
	}
	if v.total {
		var sent, recv float64
		for i := range hosts {
			sent += hosts[i].sent
			recv += hosts[i].recv
		}
		g.drawTotal(v.totalLine(shown), &l, hAddr, hSent, hRecv, hUnit, sent, recv, st.Mode)
	}
	g.drawFooter(v.footer, st, snap, "Esc: back")
}

// host appends the host name of a (sanitized), or a itself when no name
// is known.
func (sc *renderScratch) host(b []byte, v *View, a netip.Addr) []byte {
	if name, ok := v.HostNames[a]; ok {
		return sc.display(b, name)
	}
	return a.AppendTo(b)
}

package ui

import (
	"net/netip"
	"strconv"

	"hogs/decode"
	"hogs/internal/conntable"
)

// The columns of the connection list.
const (
	cProto = iota
	cLocal
	cRemote
	cDev
	cSent
	cRecv
	cUnit
	cExtra
	cColumns
)

func connectionLayout(w, localW, remoteW, devW int, mode ViewMode, order SortOrder) layout {
	extra := "RATE"
	if mode.IsRate() {
		extra = "VOLUME"
	}
	l := layout{n: cColumns}
	l.c[cProto] = column{title: "PROTO", w: 5}
	l.c[cLocal] = column{title: "LOCAL", w: localW, gap: 1}
	l.c[cRemote] = column{title: "REMOTE", w: remoteW, gap: 1}
	l.c[cDev] = column{title: "DEV", w: devW, gap: 2}
	l.c[cSent] = column{title: "SENT", w: 11, gap: 1, right: true}
	l.c[cRecv] = column{title: "RECEIVED", w: 11, gap: 1, right: true}
	l.c[cUnit] = column{w: 6, gap: 1}
	l.c[cExtra] = column{title: extra, w: 11, gap: 1, right: true}
	for stage := 0; !l.place(w); stage++ {
		switch stage {
		case 0:
			l.c[cDev].off = true
		case 1:
			l.c[cExtra].off = true
		case 2:
			l.c[cUnit].off = true
		case 3:
			for _, i := range [...]int{cLocal, cRemote} {
				l.c[i].flex, l.c[i].cap, l.c[i].min = true, l.c[i].w, min(l.c[i].w, 15)
			}
		case 4:
			l.c[cSent].w, l.c[cRecv].w = 9, 9
		case 5:
			l.c[cProto].off = true
		case 6:
			l.c[cLocal].min, l.c[cRemote].min = 8, 8
		case 7:
			l.c[cLocal].off = true
		case 8:
			l.c[cSent].w, l.c[cRecv].w = 7, 7
		case 9:
			l.c[cRemote].min = 1
		default:
			return l.lastNumber(w, order, cSent, cRecv)
		}
	}
	return l
}

// appendEndpoint appends an address and port: IPv4 as a.b.c.d:port, IPv6
// in brackets.
func appendEndpoint(b []byte, ap netip.AddrPort) []byte {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(b)
}

func protoName(p uint8) string {
	switch p {
	case decode.ProtoTCP:
		return "TCP"
	case decode.ProtoUDP:
		return "UDP"
	}
	return "IP"
}

func (g *Grid) renderConnections(snap *View, st *ViewState, v vlayout) {
	sc := &g.sc
	row := findRow(sc.rowsOf(snap, st), st.Focus)
	var flows []conntable.FlowStat
	what := sc.buf[:0]
	if row != nil {
		flows = row.Flows
		what = append(what, "connections of "...)
		if row.Group != GroupProcess {
			what = append(what, row.Group.String()...)
			what = append(what, ' ')
		} else if !row.Pseudo {
			what = strconv.AppendInt(what, int64(row.PID), 10)
			what = append(what, ' ')
		}
		what = sc.program(what, row, st.Basename, st.Cmdline)
	} else {
		what = append(what, "connections: the process or group is gone"...)
	}
	// The title needs buf for itself: hand it a copy on the stack when
	// short, else a fresh one (rare).
	var tbuf [256]byte
	g.drawTitle(v.title, st, snap, append(tbuf[:0], what...))

	idx := sc.orderFlows(flows, st.Order, st.Mode)
	localW, remoteW, devW := 5, 6, 0
	for i := range flows {
		sc.buf = appendEndpoint(sc.buf[:0], flows[i].Key.Local)
		localW = max(localW, len(sc.buf))
		sc.buf = sc.remote(sc.buf[:0], snap, flows[i].Key.Remote)
		remoteW = max(remoteW, cellsOf(sc.buf))
		sc.buf = sc.display(sc.buf[:0], flows[i].Device)
		devW = max(devW, cellsOf(sc.buf))
	}
	l := connectionLayout(g.W, localW, remoteW, min(max(devW, 6), 8), st.Mode, st.Order)
	if v.header >= 0 {
		g.drawHeader(v.header, &l, sortedColumns(st.Order, -1, -1, cSent, cRecv))
	}
	top, shown, sel := g.listWindow(v, st.Selected, st.Top, len(flows))
	for k := 0; k < shown; k++ {
		y := v.list + k
		a := selectedAttr(top+k == sel)
		i := idx[top+k]
		f := &flows[i]
		if c := &l.c[cProto]; !c.off {
			g.drawString(c.x, y, c.w, protoName(f.Key.Proto), a, false)
		}
		if c := &l.c[cLocal]; !c.off {
			sc.buf = appendEndpoint(sc.buf[:0], f.Key.Local)
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
		if c := &l.c[cRemote]; !c.off {
			sc.buf = sc.remote(sc.buf[:0], snap, f.Key.Remote)
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
		if c := &l.c[cDev]; !c.off {
			sc.buf = sc.display(sc.buf[:0], f.Device)
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
		g.drawValues(y, &l, cSent, cRecv, cUnit, sc.sent[i], sc.recv[i], st.Mode, a)
		if c := &l.c[cExtra]; !c.off {
			if st.Mode.IsRate() {
				sc.buf = appendHuman(sc.buf[:0], float64(f.Sent.Bytes+f.Recv.Bytes), "")
			} else {
				sc.buf = appendHuman(sc.buf[:0], f.SentRate+f.RecvRate, "/s")
			}
			g.drawText(c.x, y, c.w, sc.buf, a, true)
		}
	}
	if v.total {
		var sent, recv float64
		for _, i := range idx {
			sent += sc.sent[i]
			recv += sc.recv[i]
		}
		g.drawTotal(v.totalLine(shown), &l, cProto, cSent, cRecv, cUnit, sent, recv, st.Mode)
	}
	g.drawFooter(v.footer, st, snap, "Esc: back")
}

// remote appends a connection's remote end: its host name (sanitized) and
// port when the name is known, else the address and port.
func (sc *renderScratch) remote(b []byte, v *View, ap netip.AddrPort) []byte {
	if name, ok := v.HostNames[ap.Addr().Unmap()]; ok {
		b = sc.display(b, name)
		b = append(b, ':')
		return strconv.AppendUint(b, uint64(ap.Port()), 10)
	}
	return appendEndpoint(b, ap)
}

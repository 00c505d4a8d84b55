package ui

import (
	"strconv"
	"strings"
)

// The columns of the process table.
const (
	pPID = iota
	pUser
	pProg
	pCont
	pDev
	pSent
	pRecv
	pUnit
	pColumns
)

// processLayout lays out the process table for w cells: nethogs's columns
// (PID 7, USER 8, PROGRAM, DEV, SENT and RECEIVED 11, unit 6), with
// CONTAINER (contW cells) after PROGRAM when contW > 0, while the
// program gets 10 cells, then without DEV, USER, CONTAINER and the unit
// column, numbers 9 wide, the program down to 6, without PID, numbers 7
// wide, the program down to 1; then only one number (the one sorted by;
// received unless by sent) and, narrower still, the number alone: a
// column is dropped whole, never cut. A grouped list (by is not
// GroupProcess) has PROCS (the processes in the group) for PID, the
// group's name for PROGRAM, and no USER or CONTAINER.
func processLayout(w, devW, contW int, order SortOrder, by Grouping) layout {
	l := layout{n: pColumns}
	l.c[pPID] = column{title: "PID", w: 7, right: true}
	l.c[pUser] = column{title: "USER", w: 8, gap: 1}
	l.c[pProg] = column{title: "PROGRAM", flex: true, min: 10, gap: 1}
	l.c[pCont] = column{title: "CONTAINER", w: contW, gap: 1, off: contW == 0}
	l.c[pDev] = column{title: "DEV", w: devW, gap: 2}
	if by != GroupProcess {
		l.c[pPID].title = "PROCS"
		l.c[pUser].off, l.c[pCont].off = true, true
		l.c[pProg].title = by.title()
	}
	l.c[pSent] = column{title: "SENT", w: 11, gap: 1, right: true}
	l.c[pRecv] = column{title: "RECEIVED", w: 11, gap: 1, right: true}
	l.c[pUnit] = column{w: 6, gap: 1}
	for stage := 0; !l.place(w); stage++ {
		switch stage {
		case 0:
			l.c[pDev].off = true
		case 1:
			l.c[pUser].off = true
		case 2:
			l.c[pCont].off = true
		case 3:
			l.c[pUnit].off = true
		case 4:
			l.c[pSent].w, l.c[pRecv].w = 9, 9
		case 5:
			l.c[pProg].min = 6
		case 6:
			l.c[pPID].off = true
		case 7:
			l.c[pSent].w, l.c[pRecv].w = 7, 7
		case 8:
			l.c[pProg].min = 1
		default:
			return l.lastNumber(w, order, pSent, pRecv)
		}
	}
	return l
}

func (g *Grid) renderProcesses(snap *View, st *ViewState, v vlayout) {
	sc := &g.sc
	rows := sc.rowsOf(snap, st)
	idx := sc.visible(rows, st)
	devW, contW := 0, 0
	for i := range rows {
		sc.buf = sc.display(sc.buf[:0], rows[i].Device)
		devW = max(devW, cellsOf(sc.buf))
		if l := &rows[i].Label; containersBuilt && !l.IsZero() && st.Group == GroupProcess {
			sc.buf = sc.appendLabel(sc.buf[:0], l)
			contW = max(contW, cellsOf(sc.buf), len("CONTAINER"))
		}
	}
	l := processLayout(g.W, min(max(devW, 6), 8), min(contW, maxContainerCells), st.Order, st.Group)

	g.drawTitle(v.title, st, snap, nil)
	if v.header >= 0 {
		g.drawHeader(v.header, &l, sortedColumns(st.Order, pPID, pProg, pSent, pRecv))
	}
	top, shown, sel := g.listWindow(v, st.selectedPos(rows, idx), st.Top, len(idx))
	for k := 0; k < shown; k++ {
		y := v.list + k
		a := selectedAttr(top+k == sel)
		i := idx[top+k]
		if rows[i].Pseudo && a == 0 {
			a = AttrUnknown
		}
		g.processRow(y, &l, &rows[i], sc.sent[i], sc.recv[i], st, a)
	}
	if v.total {
		var sent, recv float64
		for _, i := range idx {
			sent += sc.sent[i]
			recv += sc.recv[i]
		}
		g.drawTotal(v.totalLine(shown), &l, pPID, pSent, pRecv, pUnit, sent, recv, st.Mode)
	}
	g.drawFooter(v.footer, st, snap, "Enter: connections")
}

// processRow draws one process row on line y.
func (g *Grid) processRow(y int, l *layout, r *Row, sent, recv float64, st *ViewState, a Attr) {
	sc := &g.sc
	if c := &l.c[pPID]; !c.off {
		if r.Group != GroupProcess {
			sc.buf = strconv.AppendInt(sc.buf[:0], int64(r.Procs), 10)
			g.drawText(c.x, y, c.w, sc.buf, a, true)
		} else if r.Pseudo || r.PID <= 0 {
			g.drawString(c.x, y, c.w, "?", a, true)
		} else {
			sc.buf = strconv.AppendInt(sc.buf[:0], int64(r.PID), 10)
			g.drawText(c.x, y, c.w, sc.buf, a, true)
		}
	}
	if c := &l.c[pUser]; !c.off && !r.Pseudo {
		if r.User != "" {
			sc.buf = sc.display(sc.buf[:0], r.User)
		} else {
			sc.buf = strconv.AppendUint(sc.buf[:0], uint64(r.UID), 10)
		}
		// nethogs: a name of 8 or more is cut to 6 and "..".
		if cellsOf(sc.buf) >= c.w {
			g.drawCut(c.x, y, c.w, sc.buf, a)
		} else {
			g.drawText(c.x, y, c.w, sc.buf, a, false)
		}
	}
	if c := &l.c[pProg]; !c.off {
		sc.buf = sc.program(sc.buf[:0], r, st.Basename, st.Cmdline)
		g.drawText(c.x, y, c.w, sc.buf, a, false)
	}
	if c := &l.c[pCont]; !c.off {
		sc.buf = sc.appendLabel(sc.buf[:0], &r.Label)
		g.drawText(c.x, y, c.w, sc.buf, a, false)
	}
	if c := &l.c[pDev]; !c.off {
		sc.buf = sc.display(sc.buf[:0], r.Device)
		g.drawText(c.x, y, c.w, sc.buf, a, false)
	}
	g.drawValues(y, l, pSent, pRecv, pUnit, sent, recv, st.Mode, a)
}

// maxContainerCells bounds the CONTAINER column: a longer name is cut.
const maxContainerCells = 24

// program appends a row's PROGRAM text: the name (its base name
// with basename), then with cmdline the arguments, all sanitized.
func (sc *renderScratch) program(b []byte, r *Row, basename, cmdline bool) []byte {
	if r.Pseudo {
		return sc.display(b, r.Name)
	}
	if r.Group != GroupProcess {
		return sc.appendGroupName(b, r)
	}
	name := r.Name
	if basename {
		name = baseName(name)
	}
	b = sc.display(b, name)
	if cmdline && len(r.Cmdline) > 1 {
		for _, arg := range r.Cmdline[1:] {
			b = append(b, ' ')
			b = sc.display(b, arg)
		}
	}
	return b
}

// baseName is the part of a path after its last slash (trailing slashes
// aside); the whole name when that is empty.
func baseName(name string) string {
	s := strings.TrimRight(name, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return name
	}
	return s
}

package ui

import "net/netip"

// SpecialKey is a key that is not a character.
type SpecialKey uint8

// The special keys HandleKey knows.
const (
	KeyNone SpecialKey = iota
	KeyUp
	KeyDown
	KeyLeft
	KeyRight
	KeyPgUp
	KeyPgDn
	KeyHome
	KeyEnd
	KeyEnter
	KeyEsc
	KeyBackspace
	KeyCtrlC
)

// Key is one key press: a character (Special is KeyNone) or a special key.
type Key struct {
	Ch      rune
	Special SpecialKey
}

// listLen is the number of rows of the list st's screen shows.
func (st *ViewState) listLen(snap *View) int {
	switch st.Screen {
	case ScreenConnections:
		if r := findRow(snap, st.Focus); r != nil {
			return len(r.Flows)
		}
		return 0
	case ScreenRemoteHosts:
		seen := map[netip.Addr]struct{}{}
		for i := range snap.Rows {
			for _, f := range snap.Rows[i].Flows {
				seen[f.Key.Remote.Addr().Unmap()] = struct{}{}
			}
		}
		return len(seen)
	}
	return len(snap.Rows)
}

// HandleKey applies a key to the state; snap is what the screen shows
// (for list lengths and the row Enter opens) and pageHeight the number
// of list rows on screen (PageHeight). It reports quit for q and Ctrl-C.
//
// The keys: q, Ctrl-C quit; s, r sort by sent, received; m cycles the
// view modes (ViewMode.Next); l toggles the command line, b the base
// name; Up/k, Down/j, PgUp, PgDn, Home/g, End/G move the selection and
// scroll to keep it on screen; Enter or Right on a process lists its
// connections; H lists the remote hosts; Esc, Backspace or Left go back
// to the processes; h, ? toggle the help overlay (Esc also closes it).
func (st *ViewState) HandleKey(k Key, snap *View, pageHeight int) (quit bool) {
	if snap == nil {
		snap = &View{}
	}
	if k.Special == KeyCtrlC || k.Special == KeyNone && k.Ch == 'q' {
		return true
	}
	page := max(pageHeight, 1)
	n := st.listLen(snap)
	st.Selected, st.Top = clampView(st.Selected, st.Top, n, page)
	if st.Help && (k.Special == KeyEsc || k.Special == KeyBackspace) {
		st.Help = false
		return false
	}
	switch k.Special {
	case KeyUp:
		st.Selected--
	case KeyDown:
		st.Selected++
	case KeyPgUp:
		st.Selected -= page
		st.Top -= page
	case KeyPgDn:
		st.Selected += page
		st.Top += page
	case KeyHome:
		st.Selected, st.Top = 0, 0
	case KeyEnd:
		st.Selected, st.Top = n-1, n-page
	case KeyEnter, KeyRight:
		st.open(snap)
	case KeyEsc, KeyBackspace, KeyLeft:
		st.back(snap)
	case KeyNone:
		switch k.Ch {
		case 'k':
			st.Selected--
		case 'j':
			st.Selected++
		case 'g':
			st.Selected, st.Top = 0, 0
		case 'G':
			st.Selected, st.Top = n-1, n-page
		case 's':
			st.Order = SortSent
		case 'r':
			st.Order = SortRecv
		case 'm':
			st.Mode = st.Mode.Next()
		case 'l':
			st.Cmdline = !st.Cmdline
		case 'b':
			st.Basename = !st.Basename
		case 'h', '?':
			st.Help = !st.Help
		case 'H':
			if st.Screen == ScreenRemoteHosts {
				st.back(snap)
				break
			}
			if st.Screen == ScreenProcesses {
				st.procSelected, st.procTop = st.Selected, st.Top
			}
			st.Screen, st.Selected, st.Top = ScreenRemoteHosts, 0, 0
		}
	}
	st.Selected, st.Top = clampView(st.Selected, st.Top, st.listLen(snap), page)
	return false
}

// open lists the connections of the selected process.
func (st *ViewState) open(snap *View) {
	if st.Screen != ScreenProcesses || len(snap.Rows) == 0 {
		return
	}
	var sc renderScratch
	idx := sc.order(snap.Rows, st.Order, st.Mode)
	st.Focus = RowIDOf(&snap.Rows[idx[st.Selected]])
	st.procSelected, st.procTop = st.Selected, st.Top
	st.Screen, st.Selected, st.Top = ScreenConnections, 0, 0
}

// back returns to the process list, on the process whose connections
// were shown if it is still there, else where the list was left.
func (st *ViewState) back(snap *View) {
	if st.Screen == ScreenProcesses {
		return
	}
	from := st.Screen
	st.Screen, st.Selected, st.Top = ScreenProcesses, st.procSelected, st.procTop
	if from != ScreenConnections {
		return
	}
	var sc renderScratch
	for pos, i := range sc.order(snap.Rows, st.Order, st.Mode) {
		if RowIDOf(&snap.Rows[i]) == st.Focus {
			st.Selected = pos
			return
		}
	}
}

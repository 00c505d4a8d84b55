package ui

import (
	"net/netip"
	"unicode/utf8"
)

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
func (st *ViewState) listLen(sc *renderScratch, snap *View) int {
	switch st.Screen {
	case ScreenConnections:
		if r := findRow(sc.rowsOf(snap, st), st.Focus); r != nil {
			return len(r.Flows)
		}
		return 0
	case ScreenRemoteHosts:
		seen := map[netip.Addr]struct{}{}
		for _, i := range sc.visible(snap.Rows, st) {
			for _, f := range snap.Rows[i].Flows {
				seen[f.Key.Remote.Addr().Unmap()] = struct{}{}
			}
		}
		return len(seen)
	}
	return len(sc.visible(sc.rowsOf(snap, st), st))
}

// HandleKey applies a key to the state; snap is what the screen shows
// (for list lengths and the row Enter opens) and pageHeight the number
// of list rows on screen (PageHeight). It reports quit for q and Ctrl-C.
//
// The keys: q, Ctrl-C quit; s, r, t, p, n sort by sent, received, total,
// PID, name; m cycles the view modes (ViewMode.Next); Space pauses and
// resumes; / starts typing a filter (Enter applies it, Esc clears it,
// Esc on the process list clears an applied one); l toggles the command
// line, b the base name; c cycles the grouping (Grouping.Next); Up/k, Down/j, PgUp, PgDn, Home/g, End/G move the
// selection and scroll to keep it on screen; Enter or Right on a process
// lists its connections; H lists the remote hosts; Esc, Backspace or Left
// go back to the processes; h, ? toggle the help overlay (Esc also
// closes it). On the process list the selection stays on its process
// (SelectedRow) across refreshes, sorts and filters.
func (st *ViewState) HandleKey(k Key, snap *View, pageHeight int) (quit bool) {
	if snap == nil {
		snap = &View{}
	}
	if k.Special == KeyCtrlC {
		return true
	}
	page := max(pageHeight, 1)
	var sc renderScratch
	if st.editing {
		st.editFilter(k)
		st.settle(&sc, snap, page, false)
		return false
	}
	if k.Special == KeyNone && k.Ch == 'q' {
		return true
	}
	n := st.listLen(&sc, snap)
	if st.Screen == ScreenProcesses {
		rows := sc.rowsOf(snap, st)
		st.Selected = st.selectedPos(rows, sc.visible(rows, st))
	}
	st.Selected, st.Top = clampView(st.Selected, st.Top, n, page)
	if st.Help && (k.Special == KeyEsc || k.Special == KeyBackspace) {
		st.Help = false
		return false
	}
	moved := true // the selection moved to a position: it takes the row there
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
		if k.Special == KeyEsc && st.Screen == ScreenProcesses && st.Filter != "" {
			st.Filter, moved = "", false
			break
		}
		st.back(snap)
		moved = false // back on the process it left
	case KeyNone:
		moved = false
		switch k.Ch {
		case 'k':
			st.Selected, moved = st.Selected-1, true
		case 'j':
			st.Selected, moved = st.Selected+1, true
		case 'g':
			st.Selected, st.Top, moved = 0, 0, true
		case 'G':
			st.Selected, st.Top, moved = n-1, n-page, true
		case 's':
			st.Order = SortSent
		case 'r':
			st.Order = SortRecv
		case 't':
			st.Order = SortTotal
		case 'p':
			st.Order = SortPID
		case 'n':
			st.Order = SortName
		case 'm':
			st.Mode = st.Mode.Next()
		case ' ':
			st.Paused = !st.Paused
		case '/':
			st.editing, st.input = true, st.Filter
		case 'l':
			st.Cmdline = !st.Cmdline
		case 'b':
			st.Basename = !st.Basename
		case 'c':
			if !containersBuilt {
				break
			}
			// A new grouping lists other rows: back to the list's top.
			if st.Screen == ScreenConnections {
				st.back(snap)
			}
			st.Group = st.Group.Next()
			if st.Screen == ScreenProcesses {
				st.Selected, st.Top, st.SelectedRow = 0, 0, RowID{}
			} else {
				st.procSelected, st.procTop = 0, 0
			}
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
	st.settle(&sc, snap, page, moved)
	return false
}

// settle clamps the selection and window to the list after a key. On the
// process list, a selection that moved takes the process at its position;
// otherwise it stays on its process, found at its new place.
func (st *ViewState) settle(sc *renderScratch, snap *View, page int, moved bool) {
	n := st.listLen(sc, snap)
	rows := sc.rowsOf(snap, st)
	if st.Screen == ScreenProcesses && !moved {
		st.Selected = st.selectedPos(rows, sc.visible(rows, st))
	}
	st.Selected, st.Top = clampView(st.Selected, st.Top, n, page)
	if st.Screen == ScreenProcesses && n > 0 {
		idx := sc.visible(rows, st)
		st.SelectedRow = RowIDOf(&rows[idx[st.Selected]])
	}
}

// selectedPos is the selection's position in the process list idx (row
// indices in display order): where SelectedRow is, if listed, else
// Selected.
func (st *ViewState) selectedPos(rows []Row, idx []int32) int {
	if st.SelectedRow != (RowID{}) {
		for pos, i := range idx {
			if RowIDOf(&rows[i]) == st.SelectedRow {
				return pos
			}
		}
	}
	return st.Selected
}

// editFilter applies a key to the filter being typed: text and Backspace
// edit it, Enter applies it, Esc clears it.
func (st *ViewState) editFilter(k Key) {
	switch {
	case k.Special == KeyEnter:
		st.Filter, st.editing = st.input, false
	case k.Special == KeyEsc:
		st.Filter, st.input, st.editing = "", "", false
	case k.Special == KeyBackspace:
		if st.input != "" {
			_, size := utf8.DecodeLastRuneInString(st.input)
			st.input = st.input[:len(st.input)-size]
		}
	case k.Special == KeyNone && k.Ch >= 0x20 && k.Ch != 0x7f && utf8.ValidRune(k.Ch):
		if len(st.input)+utf8.RuneLen(k.Ch) <= maxFilter {
			st.input += string(k.Ch)
		}
	}
}

// open lists the connections of the selected process.
func (st *ViewState) open(snap *View) {
	var sc renderScratch
	rows := sc.rowsOf(snap, st)
	idx := sc.visible(rows, st)
	if st.Screen != ScreenProcesses || len(idx) == 0 {
		return
	}
	st.Focus = RowIDOf(&rows[idx[st.Selected]])
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
	rows := sc.rowsOf(snap, st)
	for pos, i := range sc.visible(rows, st) {
		if RowIDOf(&rows[i]) == st.Focus {
			st.Selected = pos
			return
		}
	}
}

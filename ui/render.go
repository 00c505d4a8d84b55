package ui

// Render draws snap, as st says, into g: every cell of g is written, and
// nothing outside it. It reads snap and st without changing them (rows
// are sorted through an index), so it is a pure function of its inputs;
// a Selected or Top out of range is drawn clamped, the way HandleKey
// would clamp it.
func Render(g *Grid, snap *View, st *ViewState) {
	g.resize(g.W, g.H)
	g.clear()
	if snap == nil {
		snap = &View{}
	}
	if st == nil {
		st = &ViewState{}
	}
	if g.W == 0 || g.H == 0 {
		return
	}
	g.sc.ascii = st.ASCII
	v := vertical(g.H)
	switch st.Screen {
	case ScreenConnections:
		g.renderConnections(snap, st, v)
	case ScreenRemoteHosts:
		g.renderHosts(snap, st, v)
	default:
		g.renderProcesses(snap, st, v)
	}
	if st.Help {
		g.renderHelp()
	}
}

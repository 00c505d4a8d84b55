package metrics

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/ui"
)

// sim is a fake connection table and owner registry that produces views
// with ui.Build, as the monitor does, and keeps the truth: the traffic of
// each group, attributed as the ledger must (a flow's traffic since the
// last view to its owner's group at this view, or at its retirement).
type sim struct {
	owners  *flow.Owners
	flows   map[flow.Key]*simFlow
	retired map[flow.Owner]conntable.Retired
	now     time.Time
	clock   int64
	port    uint16
	by      GroupBy
	truth   map[groupKey]pair
	pending []simPending // traffic of flows retired since the last view
	// foldedInto maps a folded process to its exited row.
	foldedInto map[flow.Owner]flow.Owner
	total      pair
}

type simFlow struct {
	stat    conntable.FlowStat
	pending pair
}

type simPending struct {
	owner flow.Owner
	p     pair
}

func newSim(by GroupBy) *sim {
	return &sim{owners: flow.NewOwners(), flows: map[flow.Key]*simFlow{}, retired: map[flow.Owner]conntable.Retired{},
		now: time.Unix(1_700_000_000, 0), by: by, truth: map[groupKey]pair{}, foldedInto: map[flow.Owner]flow.Owner{}}
}

func (s *sim) process(pid int, name, user string) flow.Owner {
	return s.owners.Intern(flow.Process{PID: pid, StartTime: uint64(pid), Name: name, User: user, UID: 1000,
		Cmdline: []string{name, "--secret-arg"}})
}

// open starts a flow owned by o (flow.Unresolved: unknown).
func (s *sim) open(o flow.Owner, proto uint8) flow.Key {
	s.port++
	k := flow.Key{Local: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), s.port),
		Remote: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.7"), 443), Proto: proto}
	s.clock++
	s.flows[k] = &simFlow{stat: conntable.FlowStat{Key: k, Owner: o, Device: "eth0", First: s.clock, Last: s.clock}}
	return k
}

func (s *sim) send(k flow.Key, sent, recv uint64) {
	f := s.flows[k]
	p := pair{}
	if sent > 0 {
		p.sent = flow.Counter{Packets: 1, Bytes: sent}
	}
	if recv > 0 {
		p.recv = flow.Counter{Packets: 1, Bytes: recv}
	}
	f.stat.Sent, f.stat.Recv = f.stat.Sent.Add(p.sent), f.stat.Recv.Add(p.recv)
	f.pending = f.pending.add(p)
	s.total = s.total.add(p)
}

func (s *sim) setOwner(k flow.Key, o flow.Owner) { s.flows[k].stat.Owner = o }

// retire moves a flow's totals to its owner's retired totals, as the
// table's sweep does.
func (s *sim) retire(k flow.Key) {
	f := s.flows[k]
	r := s.retired[f.stat.Owner]
	r.Sent, r.Recv, r.Flows = r.Sent.Add(f.stat.Sent), r.Recv.Add(f.stat.Recv), r.Flows+1
	s.retired[f.stat.Owner] = r
	s.pending = append(s.pending, simPending{f.stat.Owner, f.pending})
	delete(s.flows, k)
}

// fold folds process o into its program's exited row, moving its
// retired totals and live flows there, as the monitor does.
func (s *sim) fold(o flow.Owner) {
	into := s.owners.Fold(o)
	if into != o {
		s.foldedInto[o] = into
	}
	if r, ok := s.retired[o]; ok {
		t := s.retired[into]
		t.Sent, t.Recv, t.Flows = t.Sent.Add(r.Sent), t.Recv.Add(r.Recv), t.Flows+r.Flows
		s.retired[into] = t
		delete(s.retired, o)
	}
	for _, f := range s.flows {
		if f.stat.Owner == o {
			f.stat.Owner = into
		}
	}
}

// groupOf is the truth's group of an owner's traffic.
func (s *sim) groupOf(o flow.Owner) groupKey {
	p, ok := s.owners.Lookup(o)
	if !ok {
		return groupKey{kind: kindUnknown}
	}
	return keyOf(&ui.Row{Process: p, Owner: o}, s.by, nil)
}

// view builds the next view and books the truth.
func (s *sim) view() *ui.View {
	snap := conntable.Snapshot{Retired: map[flow.Owner]conntable.Retired{}}
	for _, f := range s.flows {
		snap.Flows = append(snap.Flows, f.stat)
		g := s.groupOf(f.stat.Owner)
		s.truth[g] = s.truth[g].add(f.pending)
		f.pending = pair{}
	}
	for _, p := range s.pending {
		// Retired traffic shows in the row that holds the owner's retired
		// totals now: the exited row, if the process was folded since.
		o := p.owner
		for s.foldedInto[o] != 0 {
			o = s.foldedInto[o]
		}
		g := s.groupOf(o)
		s.truth[g] = s.truth[g].add(p.p)
	}
	s.pending = s.pending[:0]
	slices.SortFunc(snap.Flows, func(a, b conntable.FlowStat) int { return cmp.Compare(a.First, b.First) })
	for o, r := range s.retired {
		snap.Retired[o] = r
	}
	s.now = s.now.Add(time.Second)
	return &ui.View{Time: s.now, Interval: time.Second, Rows: ui.Build(snap, s.owners, true, ui.SortRecv),
		Capture: []ui.CaptureStats{{Source: "live", Mode: "tpacket_v3", Received: uint64(s.total.sent.Packets + s.total.recv.Packets),
			Devices: []ui.DeviceStats{{Name: "eth0", Packets: s.total.sent.Packets + s.total.recv.Packets, Bytes: s.total.sent.Bytes + s.total.recv.Bytes}}}}}
}

func progName(i int) string { return "prog" + strconv.Itoa(i) }

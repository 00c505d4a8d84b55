package monitor

import (
	"net/netip"

	"hogs/internal/conntable"
	"hogs/ui"
)

// refresh builds the view of the table at now (on the monitor's clock),
// publishes it and shows it to every sink. Only the refresh loop calls it.
func (m *Monitor) refresh(now int64) error {
	m.retryUnresolved(now)
	// Sweeping visits every flow: a tenth of the idle time is soon enough
	// to expire one.
	if every := int64(m.cfg.Idle / 10); !m.swept || now-m.lastSweep >= every {
		m.table.Sweep(now, int64(m.cfg.Idle))
		m.swept, m.lastSweep = true, now
	}
	snap := m.table.Snapshot(now)
	if m.foldExited(now, &snap) {
		snap = m.table.Snapshot(now)
	}
	view := &ui.View{
		Time:      m.cfg.WallNow(),
		Mono:      now,
		Interval:  m.cfg.Interval,
		Rows:      ui.Build(snap, m.owners, m.cfg.UDP, m.cfg.Order),
		Capture:   []ui.CaptureStats{m.src.Capture()},
		Evictions: snap.Evictions,
	}
	unresolved := snap.Unknown[conntable.UnknownTCP].Flows + snap.Unknown[conntable.UnknownUDP].Flows
	view.Pipeline = ui.PipelineStats{Flows: len(snap.Flows) + unresolved, NewFlows: snap.NewFlows, Owners: m.owners.Len(), Folded: m.folded.Load(),
		Unresolved: unresolved, LookupRate: m.cfg.LookupRate,
		// Never below zero: the resolver's turn-aways are added between passes.
		LookupBacklog: int(max(0, m.backlog.Load())), NotWorthLookup: int(m.hopeless.Load())}
	if m.attr != nil {
		a := m.attr.Stats()
		view.Pipeline.AttributorNote = a.Note
		view.Pipeline.Attributor, view.Pipeline.Lookups, view.Pipeline.TableReads, view.Pipeline.FDScans = a.Attributor, a.Lookups, a.TableReads, a.Scans
		view.Pipeline.FDScansInVain, view.Pipeline.FDLinks = a.ScansInVain, a.Links
	}
	if m.cfg.Names != nil {
		view.HostNames = m.hostNames(view.Rows)
	}
	if d, ok := m.src.(DeviceLister); ok {
		view.Devices = d.Devices()
	}
	m.intervals.Fill(view.Rows)
	m.logStats(view)
	m.latest.Store(view)
	m.refreshes++
	for _, s := range m.sinks {
		if err := s.Show(view); err != nil {
			return err
		}
	}
	return nil
}

// logStats writes the -x line of a refresh.
func (m *Monitor) logStats(v *ui.View) {
	if m.cfg.Log == nil || m.cfg.Replay {
		return
	}
	c, p := &v.Capture[0], &v.Pipeline
	m.logf("%s: %d packets, %d dropped; %d flows (%d evicted); %d sock_diag lookups, %d /proc/net reads, %d fd scans (%d in vain, %d links read); %d owners (%d folded); attributor %s; %d unresolved flows: %d waiting for a lookup (budget %d/s), %d not worth one",
		c.Mode, c.Received, c.Dropped, p.Flows, v.Evictions, p.Lookups, p.TableReads, p.FDScans, p.FDScansInVain, p.FDLinks, p.Owners, p.Folded, p.Attributor,
		p.Unresolved, p.LookupBacklog, p.LookupRate, p.NotWorthLookup)
}

// maxHostNames bounds the names a view carries.
const maxHostNames = 4096

// hostNames asks the names of the remote addresses of rows' flows: those
// known go into the view, the others are looked up for a later refresh.
func (m *Monitor) hostNames(rows []ui.Row) map[netip.Addr]string {
	names := map[netip.Addr]string{}
	asked := 0
	for i := range rows {
		for j := range rows[i].Flows {
			a := rows[i].Flows[j].Key.Remote.Addr().Unmap()
			if _, seen := names[a]; seen || asked >= maxHostNames {
				continue
			}
			asked++
			name, _ := m.cfg.Names.Name(a)
			names[a] = name // "" for now: not asked again in this refresh
		}
	}
	for a, name := range names {
		if name == "" {
			delete(names, a)
		}
	}
	return names
}

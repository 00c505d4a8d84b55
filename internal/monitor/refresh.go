package monitor

import (
	"time"

	"hogs/internal/conntable"
	"hogs/ui"
)

// refresh builds the view of the table at now (on the monitor's clock),
// publishes it and shows it to every sink. Only the refresh loop calls it.
func (m *Monitor) refresh(now int64) error {
	m.retryUnresolved(now)
	// Sweeping visits every flow: a tenth of the idle time is soon enough
	// to expire one.
	if every := int64(max(time.Second, m.cfg.Idle/10)); !m.swept || now-m.lastSweep >= every {
		m.table.Sweep(now, int64(m.cfg.Idle))
		m.swept, m.lastSweep = true, now
	}
	snap := m.table.Snapshot(now)
	if m.foldExited(now, &snap) {
		snap = m.table.Snapshot(now)
	}
	view := &ui.View{
		Time:      m.cfg.WallNow(),
		Interval:  m.cfg.Interval,
		Rows:      ui.Build(snap, m.owners, m.cfg.UDP, m.cfg.Order),
		Capture:   []ui.CaptureStats{m.src.Capture()},
		Evictions: snap.Evictions,
		// Never below zero: the resolver's turn-aways are added between passes.
		LookupBacklog: int(max(0, m.backlog.Load())),
	}
	m.intervals.Fill(view.Rows)
	m.logStats(&view.Capture[0], &snap)
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
func (m *Monitor) logStats(c *ui.CaptureStats, snap *conntable.Snapshot) {
	if m.cfg.Log == nil || m.cfg.Replay {
		return
	}
	var a AttributionStats
	if m.attr != nil {
		a = m.attr.Stats()
	}
	unknown := snap.Unknown[conntable.UnknownTCP].Flows + snap.Unknown[conntable.UnknownUDP].Flows
	m.logf("%s: %d packets, %d dropped; %d flows (%d evicted); %d sock_diag lookups, %d /proc/net reads, %d fd scans; %d owners (%d folded); attributor %s; %d unresolved flows: %d waiting for a lookup (budget %d/s), %d not worth one",
		c.Mode, c.Received, c.Dropped, len(snap.Flows)+unknown, snap.Evictions, a.Lookups, a.TableReads, a.Scans,
		m.owners.Len(), m.folded.Load(), a.Attributor, unknown, m.backlog.Load(), m.cfg.LookupRate, m.hopeless.Load())
}

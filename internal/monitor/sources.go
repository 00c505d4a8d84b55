package monitor

import (
	"errors"
	"sync/atomic"

	"hogs/proc"
	"hogs/rawcap"
	"hogs/ui"
)

// Live is a live capture as a Source: frames from the ring, handshakes
// from the watcher socket, the kernel's counters as its capture stats.
type Live struct{ *rawcap.Live }

var (
	_ HandshakeSource = Live{}
	_ IdleNotifier    = Live{}
	_ DeviceLister    = Live{}
	_ Source          = (*File)(nil)
)

// Capture returns the kernel's counters and the per-device counts. Should
// the kernel's counters be unreadable, those read last are shown.
func (l Live) Capture() ui.CaptureStats {
	st, _ := l.Stats()
	c := ui.CaptureStats{Source: "live", Mode: l.Mode(), Received: st.Received, Dropped: st.Dropped}
	for _, d := range l.DeviceCounts() {
		c.Devices = append(c.Devices, ui.DeviceStats{Name: d.Name, Packets: d.Packets, Bytes: d.Bytes})
		c.Bytes += d.Bytes
	}
	return c
}

// Devices names the devices whose packets count now (the plan follows
// devices that appear and vanish).
func (l Live) Devices() []string {
	if names := l.Plan().Counted(); names != nil {
		return names
	}
	return []string{}
}

// File is a capture file as a Source; its capture stats count the frames
// read.
type File struct {
	Reader *rawcap.FileReader
	// Name is what the view calls the source (the file's name).
	Name   string
	frames atomic.Uint64
	bytes  atomic.Uint64
}

// Next reads the next frame.
func (f *File) Next(fr *rawcap.Frame) error {
	if err := f.Reader.Next(fr); err != nil {
		return err
	}
	f.frames.Add(1)
	f.bytes.Add(uint64(fr.WireLen))
	return nil
}

// Capture counts the frames read so far.
func (f *File) Capture() ui.CaptureStats {
	return ui.CaptureStats{Source: f.Name, Received: f.frames.Load(), Bytes: f.bytes.Load()}
}

// Close closes the file.
func (f *File) Close() error { return f.Reader.Close() }

// Proc is the /proc attributor (proc.Resolver) as an Attributor.
type Proc struct {
	*proc.Resolver
	// Note says why a better attributor is not in use (Stats).
	Note string
}

var _ Attributor = Proc{}

// Stats names the attributor "proc" and counts its lookups and scans.
func (p Proc) Stats() AttributionStats {
	s := p.Resolver.Stats()
	return AttributionStats{Attributor: "proc", Note: p.Note, Lookups: s.SockDiagLookups, TableReads: s.TableReads, Scans: s.FDScans,
		ScansInVain: s.ScansInVain, Links: s.FDLinks}
}

// FollowClosed tells the resolver of every socket the watcher reports
// destroyed, so that their flows are never searched for again, until the
// watcher is closed.
func (p Proc) FollowClosed(w *proc.DestroyWatcher) {
	for {
		ev, err := w.Next()
		if errors.Is(err, proc.ErrEventsLost) {
			continue
		}
		if err != nil {
			return
		}
		p.SocketClosed(ev.Proto, ev.Local, ev.Remote, ev.Cookie)
	}
}

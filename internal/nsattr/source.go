//go:build linux

package nsattr

import (
	"sync/atomic"

	"hogs/decode"
	"hogs/internal/monitor"
	"hogs/internal/netns"
	"hogs/rawcap"
	"hogs/ui"
)

// Source tags the frames of a monitor.Source captured on host-side veths
// with the namespace of the veth's peer.
type Source struct {
	src   monitor.Source
	peers atomic.Pointer[peerTable]
}

// LiveSource is Source over a live capture: it tags the handshake fast
// path's frames too, and passes the idle notification on.
type LiveSource struct {
	*Source
	live monitor.Live
}

var (
	_ monitor.Source          = (*Source)(nil)
	_ monitor.HandshakeSource = (*LiveSource)(nil)
	_ monitor.IdleNotifier    = (*LiveSource)(nil)
	_ monitor.DeviceLister    = (*LiveSource)(nil)
)

// NewSource wraps src; until SetPeers is called no frame is tagged.
func NewSource(src monitor.Source) *Source {
	s := &Source{src: src}
	s.peers.Store(&peerTable{})
	return s
}

// NewLiveSource wraps a live capture.
func NewLiveSource(live monitor.Live) *LiveSource {
	return &LiveSource{Source: NewSource(live), live: live}
}

// Next reads the next frame and tags it.
func (s *Source) Next(f *rawcap.Frame) error {
	if err := s.src.Next(f); err != nil {
		return err
	}
	s.tag(f)
	return nil
}

// tag sets f's namespace from the peer table and, for a frame of a peer
// namespace, turns its direction round.
func (s *Source) tag(f *rawcap.Frame) {
	ns := s.peers.Load().lookup(f.Interface)
	f.NetNS = ns
	if ns == 0 {
		return
	}
	switch f.Direction {
	case decode.DirIn:
		f.Direction = decode.DirOut
	case decode.DirOut:
		f.Direction = decode.DirIn
	}
}

// Capture returns the wrapped source's counters.
func (s *Source) Capture() ui.CaptureStats { return s.src.Capture() }

// Close closes the wrapped source.
func (s *Source) Close() error { return s.src.Close() }

// SetPeers replaces the table of host ifindex → peer namespace; frames
// read after it returns are tagged by the new table.
func (s *Source) SetPeers(peers map[int32]netns.Peer) {
	s.peers.Store(newPeerTable(peers))
}

// Refresh reads the veth peers of rt's namespace (sc.Peers) and installs
// them. The caller runs it as often as namespaces may appear (at each
// refresh: it costs one rtnetlink link dump).
func (s *Source) Refresh(sc *netns.Scanner, rt *netns.RTNL) error {
	peers, err := sc.Peers(rt)
	if err != nil {
		return err
	}
	s.SetPeers(peers)
	return nil
}

// NextHandshake reads the next handshake frame and tags it.
func (s *LiveSource) NextHandshake(f *rawcap.Frame) error {
	if err := s.live.NextHandshake(f); err != nil {
		return err
	}
	s.tag(f)
	return nil
}

// OnIdle passes fn to the live capture.
func (s *LiveSource) OnIdle(fn func()) { s.live.OnIdle(fn) }

// Devices names the live capture's devices.
func (s *LiveSource) Devices() []string { return s.live.Devices() }

// denseIfindexes bounds the ifindexes kept in a slice; larger ones (a host
// that has made hundreds of thousands of links) go to a map.
const denseIfindexes = 1 << 16

// peerTable maps an ifindex to its peer's namespace inode, 0 for none.
type peerTable struct {
	dense  []uint32
	sparse map[int]uint32
}

func newPeerTable(peers map[int32]netns.Peer) *peerTable {
	t := &peerTable{}
	top := 0
	for idx := range peers {
		if int(idx) < denseIfindexes && int(idx) >= top {
			top = int(idx) + 1
		}
	}
	t.dense = make([]uint32, top)
	for idx, p := range peers {
		switch {
		case idx <= 0:
		case int(idx) < denseIfindexes:
			t.dense[idx] = p.NetNS
		default:
			if t.sparse == nil {
				t.sparse = map[int]uint32{}
			}
			t.sparse[int(idx)] = p.NetNS
		}
	}
	return t
}

func (t *peerTable) lookup(ifindex int) uint32 {
	if uint(ifindex) < uint(len(t.dense)) {
		return t.dense[ifindex]
	}
	if t.sparse != nil {
		return t.sparse[ifindex]
	}
	return 0
}

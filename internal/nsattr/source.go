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
	// kick, if set, is called (from the capture goroutine) for a frame
	// of a device newer than the peer table: a veth just made, whose
	// namespace the table learns before the frame is tagged.
	kick func()
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
// namespace, turns its direction round. The common case, a device with no
// peer namespace that the table knows, is a load and two comparisons
// (inlined in Next).
func (s *Source) tag(f *rawcap.Frame) {
	t := s.peers.Load()
	if ns := t.lookup(f.Interface); ns != 0 || f.Interface > t.top {
		s.tagPeer(f, t, ns)
		return
	}
	f.NetNS = 0
}

// tagPeer tags a frame of a veth peer's namespace (ns), or of a device
// newer than table t (ns 0), which kicks the Follower first.
func (s *Source) tagPeer(f *rawcap.Frame, t *peerTable, ns uint32) {
	if ns == 0 && f.Interface > t.top && s.kick != nil {
		s.kick()
		ns = s.peers.Load().lookup(f.Interface)
	}
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
// read after it returns are tagged by the new table. top is the highest
// ifindex the table was made from (every link's, not only the peers'):
// a frame of a device above it makes the Source kick (SetKick).
func (s *Source) SetPeers(peers map[int32]netns.Peer, top int) {
	t := newPeerTable(peers)
	t.top = top
	for idx := range peers {
		t.top = max(t.top, int(idx))
	}
	s.peers.Store(t)
}

// SetKick sets the function called for a frame of a device newer than the
// peer table, before the frame is tagged (Follower.Kick, which refreshes
// the table). Set it before the first Next.
func (s *Source) SetKick(kick func()) { s.kick = kick }

// Refresh reads the veth peers of rt's namespace (sc.PeersOf) and
// installs those of bridge ports (Bridged). It costs one rtnetlink link
// dump; it returns the peers installed.
func (s *Source) Refresh(sc *netns.Scanner, rt *netns.RTNL) (map[int32]netns.Peer, error) {
	links, err := rt.Links()
	if err != nil {
		return nil, err
	}
	peers := sc.PeersOf(rt, Bridged(links))
	top := 0
	for _, l := range links {
		top = max(top, int(l.Index))
	}
	s.SetPeers(peers, top)
	return peers, nil
}

// Bridged returns the links that are bridge (bond) ports: the host-side
// veths of containers (Docker's, Podman's, a Kubernetes CNI bridge's),
// whose traffic the host's own stack sees on the bridge. A veth that is
// no port is a routed link: what is behind it is counted as another host
// on that link would be (the host's own sockets use the veth itself), so
// its packets stay the monitor's namespace's.
func Bridged(links []netns.Link) []netns.Link {
	out := make([]netns.Link, 0, len(links))
	for _, l := range links {
		if l.Master != 0 {
			out = append(out, l)
		}
	}
	return out
}

// Next reads the next frame of the live capture (a direct call, not
// through monitor.Source) and tags it.
func (s *LiveSource) Next(f *rawcap.Frame) error {
	if err := s.live.Next(f); err != nil {
		return err
	}
	s.tag(f)
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
	// top is the highest ifindex known when the table was made.
	top int
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
	return t.lookupSparse(ifindex)
}

// lookupSparse is lookup past the dense part (kept out of line: lookup
// inlines into the per-frame path).
func (t *peerTable) lookupSparse(ifindex int) uint32 {
	if t.sparse != nil {
		return t.sparse[ifindex]
	}
	return 0
}

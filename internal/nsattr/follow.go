//go:build linux

package nsattr

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"hogs/internal/netns"
)

// Follower keeps a Source's veth peer table and a Boundary's addresses (of
// the monitor's namespace and of the containers: the namespaces behind its
// bridged veths) up to date with the namespaces a scan finds: Refresh after
// each scan (Config.OnScan), and at once when the Source sees a device
// newer than its table (Kick).
//
// A Refresh with nothing new costs a read without waiting on a socket
// watching the monitor's namespace's links and one poll of the sockets
// watching each container's addresses (made inside it once:
// CAP_SYS_ADMIN): the links are dumped again only when a link or a
// namespace id changed, the veth peers worked out again only then or when
// the scan's namespaces changed, and a namespace's addresses dumped again
// only when they changed.
type Follower struct {
	sc    *netns.Scanner
	links *netns.RTNL // the monitor's namespace: links and nsids
	// linkWatch is told of the monitor's namespace's link changes (nil:
	// the links are dumped at every Refresh).
	linkWatch *netns.RTNL
	own       *netns.RTNL // the monitor's namespace: its addresses, watched
	src       PeerSink    // nil until Follow
	b         *Boundary
	// forwarding is read at each Refresh (ip_forward).
	forwarding []*netns.ProcFile

	mu       sync.Mutex
	per      map[uint32]*nsAddrs
	ownAddrs []netns.Addr
	// subnets are the prefixes of the container bridges as last set.
	subnets []netip.Prefix
	// behind are the namespaces behind bridged veths at the last Refresh.
	behind map[uint32]bool
	buf    []netns.Namespace
	kicked time.Time
	// The last link dump, the namespaces its peers were worked out for,
	// and what was worked out.
	lastLinks []netns.Link
	lastList  []uint32
	peers     map[int32]netns.Peer
	top       int
	bridges   map[int32]bool
	// Scratch for the poll of the address watchers.
	rts     []*netns.RTNL
	rtNS    []uint32
	pending []bool
}

// nsAddrs is a namespace's watched addresses; rt is nil when no socket
// could be made there (failed says when it was tried).
type nsAddrs struct {
	rt     *netns.RTNL
	addrs  []netns.Addr
	failed time.Time
}

// NewFollower returns a Follower of the monitor's namespace (where it is
// called) keeping b's addresses (b may be nil); Follow gives it a Source.
func NewFollower(sc *netns.Scanner, b *Boundary) (*Follower, error) {
	links, err := netns.OpenRTNL()
	if err != nil {
		return nil, err
	}
	own, err := netns.OpenRTNL()
	if err != nil {
		links.Close()
		return nil, err
	}
	if err := own.WatchAddrs(); err != nil {
		links.Close()
		own.Close()
		return nil, err
	}
	f := &Follower{sc: sc, links: links, own: own, b: b, per: map[uint32]*nsAddrs{},
		forwarding: []*netns.ProcFile{{Path: "/proc/sys/net/ipv4/ip_forward"}, {Path: "/proc/sys/net/ipv6/conf/all/forwarding"}}}
	// Without a link watcher every Refresh dumps the links, as it must.
	if w, err := netns.OpenRTNL(); err == nil {
		if w.WatchLinks() == nil {
			f.linkWatch = w
		} else {
			w.Close()
		}
	}
	return f, nil
}

// PeerSink takes the table of bridged veths' peers (Refresh): a Source,
// or a live capture that tags frames itself (rawcap.Live.SetPeers, through
// an adapter). top is the highest ifindex among the links listed.
type PeerSink interface {
	SetPeers(peers map[int32]netns.Peer, top int)
}

// Follow makes the Follower keep sink's peer table; a Source also kicks
// it for devices newer than its table. Call it before the first Refresh.
func (f *Follower) Follow(sink PeerSink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.src = sink
	if s, ok := sink.(*Source); ok {
		s.SetKick(f.Kick)
	}
}

// Kick scans and refreshes at once, at most every kickGap: the Source
// calls it, from the capture goroutine, for a frame of a device newer
// than its table (a container just made), and tags the frame by the
// table made. A scan and a link dump cost about a millisecond, once per
// new device.
func (f *Follower) Kick() {
	f.mu.Lock()
	if now := time.Now(); now.Sub(f.kicked) < kickGap {
		f.mu.Unlock()
		return
	} else {
		f.kicked = now
	}
	// The new device's peer may be in a namespace a process already seen
	// moved to.
	f.sc.RequestFull()
	list, err := f.sc.Scan(f.buf[:0])
	if err == nil {
		f.buf = list
	}
	f.mu.Unlock()
	if err == nil {
		f.Refresh(list)
	}
}

// kickGap bounds how often Kick scans: devices that come and go by the
// thousand cannot keep the capture goroutine scanning.
const kickGap = 100 * time.Millisecond

// Refresh reads the veth peers and the addresses of the namespaces in
// list (a scan's) and installs them.
func (f *Follower) Refresh(list []netns.Namespace) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var firstErr error
	// The watcher is drained before the dump: a change after it is seen
	// by the next Refresh.
	dumped := false
	if f.lastLinks == nil || f.linkWatch == nil || f.linkWatch.AddrsChanged() {
		links, err := f.links.Links()
		if err != nil {
			f.lastLinks = nil
			return err
		}
		f.lastLinks, dumped = links, true
	}
	if dumped || !sameNamespaces(f.lastList, list) {
		f.lastList = f.lastList[:0]
		for _, n := range list {
			f.lastList = append(f.lastList, n.Inode)
		}
		f.peers = f.sc.PeersOf(f.links, Bridged(f.lastLinks))
		f.top = 0
		for _, l := range f.lastLinks {
			f.top = max(f.top, int(l.Index))
		}
		// Containers: the namespaces behind bridged veths.
		behind := make(map[uint32]bool, len(f.peers))
		for _, p := range f.peers {
			behind[p.NetNS] = true
		}
		f.behind = behind
		f.bridges = containerBridges(f.lastLinks, f.peers)
	}
	peers, behind, bridges := f.peers, f.behind, f.bridges
	if f.src != nil {
		// Every time: a sink may renew what it does for a device newer
		// than its table (rawcap.Live's peer hook, once per table).
		f.src.SetPeers(peers, f.top)
	}
	if f.b == nil {
		return nil
	}
	changed := false
	if f.own.AddrsChanged() || f.ownAddrs == nil {
		if a, err := f.own.Addrs(); err == nil {
			f.ownAddrs, changed = a, true
		} else if firstErr == nil {
			firstErr = err
		}
	}
	now := time.Now()
	present := make(map[uint32]bool, len(list))
	// One poll tells which watched namespaces have address news.
	f.rts, f.rtNS = f.rts[:0], f.rtNS[:0]
	for _, n := range list {
		if m := f.per[n.Inode]; m != nil && m.rt != nil && !n.Self && behind[n.Inode] {
			f.rts, f.rtNS = append(f.rts, m.rt), append(f.rtNS, n.Inode)
		}
	}
	f.pending = netns.Pending(f.rts, f.pending)
	news := make(map[uint32]bool, len(f.rts))
	for i, ns := range f.rtNS {
		if f.pending[i] {
			news[ns] = true
		}
	}
	for _, n := range list {
		if n.Self || !behind[n.Inode] {
			continue
		}
		present[n.Inode] = true
		m := f.per[n.Inode]
		if m == nil {
			m = &nsAddrs{}
			f.per[n.Inode] = m
		}
		if m.rt == nil {
			if !m.failed.IsZero() && now.Sub(m.failed) < 10*time.Second {
				continue
			}
			rt, err := f.open(n.Inode)
			if err != nil {
				m.failed = now
				continue
			}
			m.rt = rt
		} else if !news[n.Inode] || !m.rt.AddrsChanged() {
			continue
		}
		if a, err := m.rt.Addrs(); err == nil && !slices.Equal(a, m.addrs) {
			m.addrs, changed = a, true
		}
	}
	for ns, m := range f.per {
		if !present[ns] {
			if m.rt != nil {
				m.rt.Close()
			}
			delete(f.per, ns)
			changed = true
		}
	}
	var subnets, host []netip.Prefix
	for _, a := range f.ownAddrs {
		host = append(host, a.Prefix)
		if bridges[a.Index] {
			subnets = append(subnets, a.Prefix)
		}
	}
	fwd := f.forwards()
	if changed || fwd != f.b.sets.Load().forwarding || !slices.Equal(subnets, f.subnets) {
		var ctrs []netip.Prefix
		for _, m := range f.per {
			for _, a := range m.addrs {
				ctrs = append(ctrs, a.Prefix)
			}
		}
		f.subnets = subnets
		f.b.SetAddrs(host, ctrs, subnets, fwd)
	}
	return firstErr
}

// sameNamespaces reports whether list holds the namespaces inodes does, in
// the same order (a scan's are sorted).
func sameNamespaces(inodes []uint32, list []netns.Namespace) bool {
	if len(inodes) != len(list) {
		return false
	}
	for i, n := range list {
		if inodes[i] != n.Inode {
			return false
		}
	}
	return true
}

// containerBridges are the bridges whose every port is a veth with a peer
// in another namespace (at least one): Docker's docker0, a CNI bridge.
// What is in their subnets is containers (a bridge with a NIC among its
// ports joins the LAN: its subnet holds other hosts).
func containerBridges(links []netns.Link, peers map[int32]netns.Peer) map[int32]bool {
	bridge := map[int32]bool{}
	for _, l := range links {
		if l.Kind == "bridge" {
			bridge[l.Index] = true
		}
	}
	boundaries, other := map[int32]int{}, map[int32]bool{}
	for _, l := range links {
		if !bridge[l.Master] {
			continue
		}
		if _, ok := peers[l.Index]; ok {
			boundaries[l.Master]++
		} else {
			other[l.Master] = true
		}
	}
	out := map[int32]bool{}
	for b, n := range boundaries {
		if n > 0 && !other[b] {
			out[b] = true
		}
	}
	return out
}

// open makes a socket watching namespace ns's addresses, inside it.
func (f *Follower) open(ns uint32) (*netns.RTNL, error) {
	fd, err := f.sc.Open(ns)
	if err != nil {
		return nil, err
	}
	rt, err := netns.OpenRTNLIn(fd)
	if err != nil {
		return nil, err
	}
	if err := rt.WatchAddrs(); err != nil {
		rt.Close()
		return nil, err
	}
	return rt, nil
}

// forwards reports whether the monitor's namespace routes IPv4 or IPv6.
func (f *Follower) forwards() bool {
	for _, s := range f.forwarding {
		if b, ok := s.Read(); ok && b[0] == '1' {
			return true
		}
	}
	return false
}

// Behind reports whether namespace ns was behind a bridged veth at the
// last Refresh (a container whose flows the Source tags).
func (f *Follower) Behind(ns uint32) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.behind[ns]
}

// Quiet reports that no namespace was behind a bridged veth at the last
// Refresh: no frame is tagged, no container is in sight.
func (f *Follower) Quiet() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.behind) == 0
}

// Close closes the Follower's sockets.
func (f *Follower) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ns, m := range f.per {
		if m.rt != nil {
			m.rt.Close()
		}
		delete(f.per, ns)
	}
	f.links.Close()
	if f.linkWatch != nil {
		f.linkWatch.Close()
	}
	for _, s := range f.forwarding {
		s.Close()
	}
	return f.own.Close()
}

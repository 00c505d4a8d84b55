//go:build linux

package nsattr

import (
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"hogs/internal/netns"
)

// Follower keeps a Source's veth peer table and a Boundary's addresses (of
// the monitor's namespace and of the containers: the namespaces behind its
// bridged veths) up to date with the namespaces a scan finds: Refresh after each scan
// (Config.OnScan), and at once when the Source sees a device newer than
// its table (Run, fed by the Source's kick).
//
// A Refresh costs one rtnetlink link dump in the monitor's namespace and,
// per namespace, one read without waiting on a socket watching its
// addresses (made inside it once: CAP_SYS_ADMIN); the addresses are dumped
// again only when they changed.
type Follower struct {
	sc    *netns.Scanner
	links *netns.RTNL // the monitor's namespace: links and nsids
	own   *netns.RTNL // the monitor's namespace: its addresses, watched
	src   *Source
	b     *Boundary
	// forwardingFiles are read at each Refresh (ip_forward).
	forwardingFiles []string

	mu       sync.Mutex
	per      map[uint32]*nsAddrs
	ownAddrs []netip.Prefix
	buf      []netns.Namespace
	kick     chan struct{}
}

// nsAddrs is a namespace's watched addresses; rt is nil when no socket
// could be made there (failed says when it was tried).
type nsAddrs struct {
	rt     *netns.RTNL
	addrs  []netip.Prefix
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
	f := &Follower{sc: sc, links: links, own: own, b: b, per: map[uint32]*nsAddrs{}, kick: make(chan struct{}, 1),
		forwardingFiles: []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"}}
	return f, nil
}

// Follow makes the Follower keep src's peer table, and src kick it for
// devices newer than its table. Call it before Run and the first Refresh.
func (f *Follower) Follow(src *Source) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.src = src
	src.SetKick(f.Kick)
}

// Kick asks Run for a scan and a Refresh, without waiting.
func (f *Follower) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Run scans and refreshes at each Kick, at most every minGap, until stop
// is closed.
func (f *Follower) Run(stop <-chan struct{}, minGap time.Duration) {
	for {
		select {
		case <-stop:
			return
		case <-f.kick:
		}
		f.mu.Lock()
		list, err := f.sc.Scan(f.buf[:0])
		if err == nil {
			f.buf = list
		}
		f.mu.Unlock()
		if err == nil {
			f.Refresh(list)
		}
		select {
		case <-stop:
			return
		case <-time.After(minGap):
		}
	}
}

// Refresh reads the veth peers and the addresses of the namespaces in
// list (a scan's) and installs them.
func (f *Follower) Refresh(list []netns.Namespace) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var (
		firstErr error
		peers    map[int32]netns.Peer
	)
	if f.src != nil {
		var err error
		if peers, err = f.src.Refresh(f.sc, f.links); err != nil {
			firstErr = err
		}
	}
	if f.b == nil {
		return firstErr
	}
	// Containers: the namespaces behind bridged veths.
	behind := make(map[uint32]bool, len(peers))
	for _, p := range peers {
		behind[p.NetNS] = true
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
		} else if !m.rt.AddrsChanged() {
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
	fwd := f.forwarding()
	if changed || fwd != f.b.sets.Load().forwarding {
		var ctrs []netip.Prefix
		for _, m := range f.per {
			ctrs = append(ctrs, m.addrs...)
		}
		f.b.SetAddrs(f.ownAddrs, ctrs, fwd)
	}
	return firstErr
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

// forwarding reports whether the monitor's namespace routes IPv4 or IPv6.
func (f *Follower) forwarding() bool {
	for _, p := range f.forwardingFiles {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 && b[0] == '1' {
			return true
		}
	}
	return false
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
	return f.own.Close()
}

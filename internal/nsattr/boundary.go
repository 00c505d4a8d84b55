//go:build linux

package nsattr

import (
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"hogs/internal/conntable"
	"hogs/internal/flow"
)

// Tracker tells, from the kernel's connection tracking, what a flow seen
// in the monitor's own namespace is (package conntrack's Classifier): the
// NATed copy of a container's flow is counted elsewhere, a flow whose real
// ends are no namespace's of this machine is forwarded, any other local.
// It may block (a netlink query); err says why the table could not be
// asked (the class then comes from the key's own addresses).
type Tracker interface {
	Classify(k flow.Key) (conntable.Class, error)
}

// BoundaryConfig sets up a Boundary.
type BoundaryConfig struct {
	// Self is the inode of the monitor's namespace (netns.Scanner.Self).
	Self uint32
	// Tracker, if set, is asked about new flows that have an address of
	// the monitor's namespace (a masqueraded or port-forwarded copy
	// carries one), at most TrackerRate a second.
	Tracker Tracker
	// TrackerRate bounds the questions to Tracker a second (1,000): a
	// flood of new flows costs the capture loop at most that many netlink
	// round trips; the flows past it are Local.
	TrackerRate int
	// Log receives one line the first time Tracker fails (nil: none).
	Log io.Writer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Boundary decides, for conntable.Config.Classify, what each new flow of
// the monitor's own namespace is, so that each byte is counted once:
//   - a flow tagged with another namespace (seen on a boundary veth) is
//     Local: attributed in its namespace;
//   - a flow whose local address is no address of this namespace cannot
//     have a socket here: if either end is an address of another
//     namespace (a container), it is the host's copy of a container's
//     traffic (on a bridge, or routed) and Elsewhere (counted at the
//     container's veth); otherwise the host only routes it: Forwarded
//     (Local when the host does not forward at all: a promiscuous capture
//     of other hosts' traffic);
//   - a flow with an address of this namespace is Local, unless the
//     Tracker recognises it as a NATed copy (masquerade out, a port
//     forward in); it is asked only when the host forwards.
//
// Multicast, broadcast and unspecified local addresses are Local. Classify
// is safe for concurrent use; the address sets are replaced whole
// (SetAddrs).
type Boundary struct {
	cfg  BoundaryConfig
	sets atomic.Pointer[addrSets]

	mu       sync.Mutex // the tracker's budget
	second   time.Time
	left     int
	saidFail bool
	asked    atomic.Uint64
}

// addrSets is what the Boundary knows of the machine's addresses.
type addrSets struct {
	host      map[netip.Addr]bool
	container map[netip.Addr]bool
	// subnets are the prefixes of container bridges (every port a
	// container's veth): any address in them but the host's is a
	// container's, also one whose namespace has not been read yet (a
	// container that just started).
	subnets []netip.Prefix
	// forwarding: the host routes IPv4 or IPv6 (ip_forward).
	forwarding bool
}

// NewBoundary returns a Boundary that knows no address yet (every flow
// with a unicast local address is then Forwarded, or Local without
// forwarding: call SetAddrs first).
func NewBoundary(cfg BoundaryConfig) *Boundary {
	if cfg.TrackerRate <= 0 {
		cfg.TrackerRate = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Boundary{cfg: cfg}
	b.sets.Store(&addrSets{})
	return b
}

// SetAddrs replaces the addresses: host, the monitor's namespace's
// (with each IPv4 prefix's broadcast address); containers, those of the
// containers' namespaces; subnets, the prefixes of container bridges
// (any address in them but the host's is a container's); forwarding,
// whether the host routes.
func (b *Boundary) SetAddrs(host, containers, subnets []netip.Prefix, forwarding bool) {
	s := &addrSets{host: make(map[netip.Addr]bool, 2*len(host)), container: make(map[netip.Addr]bool, len(containers)), forwarding: forwarding}
	for _, p := range subnets {
		s.subnets = append(s.subnets, p.Masked())
	}
	for _, p := range host {
		s.host[p.Addr()] = true
		if p.Addr().Is4() && p.Bits() < 31 {
			s.host[broadcast(p)] = true
		}
	}
	for _, p := range containers {
		if a := p.Addr(); !a.IsLoopback() && !s.host[a] {
			s.container[a] = true
		}
	}
	b.sets.Store(s)
}

// broadcast is an IPv4 prefix's broadcast address.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	bits := p.Bits()
	for i := range a {
		hostBits := min(max(32-bits-8*(3-i), 0), 8)
		a[i] |= byte(1<<hostBits - 1)
	}
	return netip.AddrFrom4(a)
}

// SetTracker sets BoundaryConfig.Tracker (made after the Boundary when
// it judges ends by the Boundary's addresses). Call it before the first
// Classify.
func (b *Boundary) SetTracker(t Tracker) { b.cfg.Tracker = t }

// IsLocal reports whether addr is an address of the monitor's namespace
// (loopback included); of another namespace, never (its flows are
// attributed there).
func (b *Boundary) IsLocal(ns uint32, addr netip.Addr) bool {
	if !b.own(ns) {
		return false
	}
	addr = addr.Unmap()
	return addr.IsLoopback() || b.sets.Load().host[addr]
}

// IsContainer reports whether addr is an address of a container (of a
// namespace behind one of the monitor's bridged veths, or in the subnet of
// a container bridge).
func (b *Boundary) IsContainer(ns uint32, addr netip.Addr) bool {
	return b.own(ns) && b.sets.Load().isContainer(addr.Unmap())
}

func (s *addrSets) isContainer(a netip.Addr) bool {
	if s.container[a] {
		return true
	}
	for _, p := range s.subnets {
		if p.Contains(a) && !s.host[a] {
			return true
		}
	}
	return false
}

func (b *Boundary) own(ns uint32) bool { return ns == 0 || ns == b.cfg.Self }

// Asked counts the questions put to the Tracker.
func (b *Boundary) Asked() uint64 { return b.asked.Load() }

// Classify is conntable.Config.Classify (see Boundary).
func (b *Boundary) Classify(k flow.Key) conntable.Class {
	if !b.own(k.NetNS) {
		return conntable.Local
	}
	l, r := k.Local.Addr().Unmap(), k.Remote.Addr().Unmap()
	if l.IsMulticast() || l.IsUnspecified() || l.IsLoopback() || l == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return conntable.Local
	}
	s := b.sets.Load()
	if s.host[l] {
		// Only a host that forwards has NATed copies of other stacks'
		// flows: one that does not asks nothing.
		if b.cfg.Tracker != nil && s.forwarding && b.take() {
			c, err := b.cfg.Tracker.Classify(k)
			if err != nil {
				b.fail(err)
			}
			return c
		}
		return conntable.Local
	}
	switch {
	case s.isContainer(l) || s.isContainer(r):
		return conntable.Elsewhere
	case s.forwarding:
		return conntable.Forwarded
	}
	return conntable.Local
}

// take spends one of the second's questions to the Tracker.
func (b *Boundary) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.cfg.Now()
	if now.Sub(b.second) >= time.Second {
		b.second, b.left = now, b.cfg.TrackerRate
	}
	if b.left <= 0 {
		return false
	}
	b.left--
	b.asked.Add(1)
	return true
}

// fail says once that the Tracker could not be asked.
func (b *Boundary) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.saidFail || b.cfg.Log == nil {
		return
	}
	b.saidFail = true
	fmt.Fprintf(b.cfg.Log, "hogs: connection tracking cannot be read (%v; it needs CAP_NET_ADMIN): NATed copies of containers' flows count as the host's\n", err)
}

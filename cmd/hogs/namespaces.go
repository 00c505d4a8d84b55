//go:build linux && !hogs_small

package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/internal/netns"
	"hogs/internal/nsattr"
	"hogs/proc"
	"hogs/rawcap"
)

// namespacesBuiltIn: this build attributes flows in every network
// namespace (the small build leaves it out).
const namespacesBuiltIn = true

// namespaces is the machinery that attributes flows in every network
// namespace of the host: frames seen on a host-side veth carry the peer's
// namespace (the capture tags them: rawcap.Live.SetPeers), flows are resolved in their namespace
// (nsattr.Attributor), and each byte counts once (nsattr.Boundary, the
// connection table's Classify).
type namespaces struct {
	sc       *netns.Scanner
	live     monitor.Live
	boundary *nsattr.Boundary
	follow   *nsattr.Follower
	owners   *flow.Owners
	fsys     proc.FS
	// cgroupOwner names the cgroup of a socket whose process is not
	// found, in every namespace (nil: none).
	cgroupOwner func(uint64) (flow.Process, bool)
	log         *lineLog
	attr        *nsattr.Attributor // the last made by wrap
	// deferCgroup: kernel socket events lead, so the namespaces'
	// resolvers leave the cgroup fallback to a flow's retry.
	deferCgroup atomic.Bool
	tracker     *tracker // nil: no connection tracking
}

// openNamespaces sets up the namespace machinery, before the capture
// opens (attach gives it the capture); an error when it cannot run here:
// then hogs counts the monitor's own namespace only, as without it.
func openNamespaces(owners *flow.Owners, fsys proc.FS, cgroupOwner func(uint64) (flow.Process, bool)) (*namespaces, error) {
	sc, err := netns.NewScanner(netns.Config{})
	if err != nil {
		return nil, err
	}
	n := &namespaces{sc: sc, owners: owners, fsys: fsys, cgroupOwner: cgroupOwner, log: &lineLog{}}
	n.boundary = nsattr.NewBoundary(nsattr.BoundaryConfig{Self: sc.Self(), Log: n.log})
	// Connection tracking tells the NATed copies of containers' flows on
	// the uplink (masquerade out, a port forward in).
	if n.tracker, err = newTracker(sc, n.boundary); err == nil {
		n.boundary.SetTracker(n.tracker)
	}
	if n.follow, err = nsattr.NewFollower(sc, n.boundary); err != nil {
		sc.Close()
		return nil, err
	}
	return n, nil
}

// attach makes the live capture give the frames of host-side veths of
// containers their peer's namespace (rawcap.Live.SetPeers: the capture
// tags them as it places them, at no cost per frame beyond a store), and
// ask the Follower at once about a container just made.
func (n *namespaces) attach(live monitor.Live) {
	n.live = live
	live.SetPeerHook(n.follow.Kick)
	n.follow.Follow(livePeers{live.Live})
}

// deferCgroupOwners makes the namespaces' resolvers made from now on
// leave the cgroup fallback to a flow's retry, as the monitor's own does
// behind kernel socket events (proc.Resolver.DeferCgroupOwners).
func (n *namespaces) deferCgroupOwners() { n.deferCgroup.Store(true) }

// source is what the monitor reads: the capture itself.
func (n *namespaces) source() monitor.Source { return n.live }

// livePeers hands the Follower's peer table to the live capture.
type livePeers struct{ *rawcap.Live }

func (p livePeers) SetPeers(peers map[int32]netns.Peer, top int) {
	m := make(map[int]uint32, len(peers))
	for idx, peer := range peers {
		m[int(idx)] = peer.NetNS
	}
	p.Live.SetPeers(m)
}

// wrap returns the attributor of every namespace, own resolving the
// monitor's. Start the last one made (start).
func (n *namespaces) wrap(own monitor.Attributor) monitor.Attributor {
	n.attr = nsattr.New(nsattr.Config{Scanner: n.sc, Own: own, New: nsattr.ProcFactory(n.fsys, n.owners, n.cgroupOwner, n.deferCgroup.Load), Log: n.log,
		OnScan: func(list []netns.Namespace) { n.follow.Refresh(list) }, Wanted: n.follow.Behind, Quiet: n.follow.Quiet})
	return n.attr
}

// start scans the namespaces once (making their attributors, reading
// their veth peers and addresses) and returns the lines to show at start:
// the namespaces that cannot be attributed, and why. What is found later
// (a new container that cannot be joined, connection tracking refused)
// is said once on later (nil: nowhere).
func (n *namespaces) start(later io.Writer) []string {
	if n.attr != nil {
		n.attr.Start()
	} else if list, err := n.sc.Scan(nil); err == nil {
		n.follow.Refresh(list)
	}
	var notes []string
	var failed map[uint32]error
	if n.attr != nil {
		failed = n.attr.Failed()
	}
	if len(failed) > 0 {
		inodes := make([]uint32, 0, len(failed))
		perm := false
		for ns, err := range failed {
			inodes = append(inodes, ns)
			perm = perm || errors.Is(err, unix.EPERM)
		}
		slices.Sort(inodes)
		list := make([]string, 0, min(len(inodes), 5))
		for _, ns := range inodes[:min(len(inodes), 5)] {
			list = append(list, fmt.Sprint(ns))
		}
		if len(inodes) > 5 {
			list = append(list, fmt.Sprintf("and %d more", len(inodes)-5))
		}
		why := "they cannot be joined: " + failed[inodes[0]].Error()
		if perm {
			why = "joining a network namespace (setns) needs cap_sys_admin"
		}
		notes = append(notes, fmt.Sprintf("the traffic of %d other network namespaces (%s) shows as unknown: %s", len(inodes), strings.Join(list, ", "), why))
	}
	n.log.quiet(later) // the lines so far are summed up in notes
	return notes
}

// classify is the connection table's Classify.
func (n *namespaces) classify(k flow.Key) conntable.Class { return n.boundary.Classify(k) }

// close stops the machinery.
func (n *namespaces) close() error {
	if n.attr != nil {
		n.attr.Close()
	}
	n.follow.Close()
	if n.tracker != nil {
		n.tracker.Close()
	}
	return n.sc.Close()
}

// lineLog collects lines said at start; later ones go to w (nil: none).
type lineLog struct {
	mu    sync.Mutex
	lines []string
	done  bool
	w     io.Writer
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.lines = append(l.lines, string(p))
	} else if l.w != nil {
		l.w.Write(p)
	}
	return len(p), nil
}

// quiet ends the start: later lines go to w.
func (l *lineLog) quiet(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done, l.w = true, w
}

//go:build linux

package nsattr

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/internal/netns"
)

// Factory makes the attributor of namespace ns. run runs a function inside
// the namespace (on a locked thread that joined it); member reports
// whether a process is in the namespace.
type Factory func(ns netns.Namespace, run func(func() error) error, member func(pid int) bool) (monitor.Attributor, error)

// Namespaces finds the host's namespaces and runs code inside them:
// netns.Scanner, or a fake in tests.
type Namespaces interface {
	// Self is the monitor's own namespace.
	Self() uint32
	// Scan appends the namespaces that exist now to buf[:0].
	Scan(buf []netns.Namespace) ([]netns.Namespace, error)
	// ScanKnown is a cheaper Scan that may miss a namespace only
	// processes made since the last Scan are in (netns.Scanner.ScanKnown).
	ScanKnown(buf []netns.Namespace) ([]netns.Namespace, error)
	// Run runs f inside namespace inode.
	Run(inode uint32, f func() error) error
	// NetNSOf is the namespace of process pid, read now if no scan has;
	// false if it cannot be read.
	NetNSOf(pid int) (uint32, bool)
	// RequestFull makes a coming Scan read every process's namespace
	// again (one seen before may have moved to a new namespace).
	RequestFull()
	// Stats describes the last Scan.
	Stats() netns.ScanStats
}

var _ Namespaces = (*netns.Scanner)(nil)

// Config sets up an Attributor.
type Config struct {
	// Scanner finds the namespaces; its Self is the Own attributor's
	// namespace.
	Scanner Namespaces
	// Own attributes the flows of the monitor's own namespace.
	Own monitor.Attributor
	// New makes the attributor of any other namespace.
	New Factory
	// RetryFailed is how long a namespace whose attributor could not be
	// made waits before it is tried again (10 s).
	RetryFailed time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives one line per namespace whose flows cannot be
	// attributed (nil: none).
	Log io.Writer
	// Quiet, if set, reports that no namespace's flows can be in sight
	// (no container behind a bridged veth, Follower.Quiet): Recheck then
	// scans every 5 s instead of every 3 s (a scan reads /proc).
	Quiet func() bool
	// Wanted, if set, picks the namespaces whose attributors a scan makes
	// ahead of their first flow (those whose flows can appear: the
	// containers behind bridged veths, Follower.Behind); others' are made
	// when a key names them. Nil: every namespace's.
	Wanted func(ns uint32) bool
	// OnScan, if set, is called after each scan of the namespaces (from
	// Resolve, Recheck or Start), before Wanted is asked, with the
	// namespaces found: where the
	// veth peer table of a Source is refreshed (Follower.Refresh), so
	// that frames of a new namespace are tagged once its attributor
	// exists. It must not keep list.
	OnScan func(list []netns.Namespace)
}

// Attributor routes flows to their namespace's attributor. Resolve and
// Recheck are meant for one goroutine (the monitor serialises them);
// Stats and Alive may be called concurrently with them.
type Attributor struct {
	cfg Config

	mu       sync.Mutex // guards per for Stats
	per      map[uint32]*member
	buf      []netns.Namespace
	scanned  time.Time
	present  map[uint32]netns.Namespace // the last scan's
	subKeys  []flow.Key
	subOwn   []flow.Owner
	subIndex []int
	order    []uint32
	// saidDenied: the processes whose namespace is unreadable were
	// reported (once).
	saidDenied bool
}

type member struct {
	attr     monitor.Attributor // nil while failed
	failedAt time.Time
	err      error // why it failed
}

// scanEvery bounds the scans made on a miss.
const scanEvery = time.Second

// quietScanEvery is how often Recheck scans while Config.Quiet says no
// container is in sight.
const quietScanEvery = 5 * time.Second

// recheckScanEvery is how often Recheck scans otherwise. What a scan
// finds is not waited for: a new container's first frame kicks the
// Follower (which scans), and a key naming a namespace not known scans at
// once (scanEvery), both reading every new process's namespace; a walk
// asks a process's namespace when it needs it (Namespaces.NetNSOf). The
// periodic scan (ScanKnown) drops the namespaces gone and finds those
// mounted; at every refresh it cost more than the rest of a refresh with
// 50 containers (listing /proc), and reading each new process's namespace
// in it cost more than the listing where processes come and go by the
// hundred.
const recheckScanEvery = 3 * time.Second

var _ monitor.Attributor = (*Attributor)(nil)

// New returns an Attributor with no namespace attributors made yet.
func New(cfg Config) *Attributor {
	if cfg.RetryFailed <= 0 {
		cfg.RetryFailed = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Attributor{cfg: cfg, per: map[uint32]*member{}, present: map[uint32]netns.Namespace{}}
}

// own reports whether ns names the monitor's own namespace.
func (a *Attributor) own(ns uint32) bool { return ns == 0 || ns == a.cfg.Scanner.Self() }

// Resolve resolves each namespace's keys with its attributor.
func (a *Attributor) Resolve(keys []flow.Key, owners []flow.Owner) error {
	mixed := false
	for _, k := range keys {
		if !a.own(k.NetNS) {
			mixed = true
			break
		}
	}
	if !mixed {
		return a.cfg.Own.Resolve(keys, owners)
	}
	// The namespaces in the order they first appear.
	a.order = a.order[:0]
	for _, k := range keys {
		ns := k.NetNS
		if a.own(ns) {
			ns = 0
		}
		seen := false
		for _, o := range a.order {
			if o == ns {
				seen = true
				break
			}
		}
		if !seen {
			a.order = append(a.order, ns)
		}
	}
	var firstErr error
	for _, ns := range a.order {
		a.subKeys, a.subIndex = a.subKeys[:0], a.subIndex[:0]
		for i, k := range keys {
			if k.NetNS == ns || (ns == 0 && a.own(k.NetNS)) {
				a.subKeys = append(a.subKeys, k)
				a.subIndex = append(a.subIndex, i)
			}
		}
		a.subOwn = slices.Grow(a.subOwn[:0], len(a.subKeys))[:len(a.subKeys)]
		clear(a.subOwn)
		attr := a.cfg.Own
		if ns != 0 {
			attr = a.attributorOf(ns)
		}
		if attr != nil {
			if err := attr.Resolve(a.subKeys, a.subOwn); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("namespace %d: %w", ns, err)
			}
		}
		for j, i := range a.subIndex {
			owners[i] = a.subOwn[j] // Unresolved where attr is nil
		}
	}
	return firstErr
}

// attributorOf returns namespace ns's attributor, making it on first need;
// nil if the namespace is not found or its attributor cannot be made.
func (a *Attributor) attributorOf(ns uint32) monitor.Attributor {
	a.mu.Lock()
	m := a.per[ns]
	a.mu.Unlock()
	now := a.cfg.Now()
	if m != nil && (m.attr != nil || now.Sub(m.failedAt) < a.cfg.RetryFailed) {
		return m.attr
	}
	if _, ok := a.present[ns]; !ok && (a.scanned.IsZero() || now.Sub(a.scanned) >= scanEvery) {
		a.cfg.Scanner.RequestFull() // a known process may have moved there
		a.scan(now, true)           // makes the attributors of the namespaces it finds
		a.mu.Lock()
		m = a.per[ns]
		a.mu.Unlock()
		if m != nil {
			return m.attr
		}
	}
	n, ok := a.present[ns]
	if !ok {
		return nil // not (yet) found: the flow is retried
	}
	return a.prepare(n, m, now).attr
}

// prepare makes the attributor of namespace n (m: its failed attempt, or
// nil) and records it, or the failure, once.
func (a *Attributor) prepare(n netns.Namespace, m *member, now time.Time) *member {
	attr, err := a.make(n)
	if m == nil {
		m = &member{}
	}
	if err != nil {
		if m.failedAt.IsZero() && a.cfg.Log != nil {
			fmt.Fprintf(a.cfg.Log, "hogs: flows in network namespace %d stay unknown: %v\n", n.Inode, err)
		}
		m.failedAt, m.err = now, err
	} else {
		m.attr, m.err = attr, nil
	}
	a.mu.Lock()
	a.per[n.Inode] = m
	a.mu.Unlock()
	return m
}

// make opens namespace n and has the Factory make its attributor.
func (a *Attributor) make(n netns.Namespace) (monitor.Attributor, error) {
	run := func(f func() error) error { return a.cfg.Scanner.Run(n.Inode, f) }
	member := func(pid int) bool {
		ns, ok := a.cfg.Scanner.NetNSOf(pid)
		return !ok || ns == n.Inode // one whose namespace cannot be read may be in it
	}
	return a.cfg.New(n, run, member)
}

// scan reads the set of namespaces, makes the attributors of those new
// (before their first flow: a short connection's socket is gone by the
// time a lookup made after its first packet is ready) and drops the
// attributors of those gone.
func (a *Attributor) scan(now time.Time, discover bool) error {
	a.scanned = now
	scan := a.cfg.Scanner.ScanKnown
	if discover {
		scan = a.cfg.Scanner.Scan
	}
	list, err := scan(a.buf)
	if err != nil {
		return err
	}
	a.buf = list
	if d := a.cfg.Scanner.Stats().Denied; d > 0 && !a.saidDenied && a.cfg.Log != nil {
		a.saidDenied = true
		fmt.Fprintf(a.cfg.Log, "hogs: the network namespaces of %d processes cannot be read (other users' processes need CAP_SYS_PTRACE): containers only they are in are not seen\n", d)
	}
	clear(a.present)
	for _, n := range list {
		a.present[n.Inode] = n
	}
	a.mu.Lock()
	for ns, m := range a.per {
		if _, ok := a.present[ns]; ok {
			continue
		}
		if c, ok := m.attr.(io.Closer); ok {
			c.Close()
		}
		delete(a.per, ns)
	}
	a.mu.Unlock()
	if a.cfg.OnScan != nil {
		a.cfg.OnScan(list)
	}
	for _, n := range list {
		if a.own(n.Inode) || a.cfg.Wanted != nil && !a.cfg.Wanted(n.Inode) {
			continue
		}
		a.mu.Lock()
		m := a.per[n.Inode]
		a.mu.Unlock()
		if m == nil || (m.attr == nil && now.Sub(m.failedAt) >= a.cfg.RetryFailed) {
			a.prepare(n, m, now)
		}
	}
	return nil
}

// Start scans the namespaces once, making the attributors of those found
// (failures are said on Log), before the first flow.
func (a *Attributor) Start() error { return a.scan(a.cfg.Now(), true) }

// Failed lists the namespaces whose attributor could not be made, with
// the error of the last attempt.
func (a *Attributor) Failed() map[uint32]error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out map[uint32]error
	for ns, m := range a.per {
		if m.attr == nil && m.err != nil {
			if out == nil {
				out = map[uint32]error{}
			}
			out[ns] = m.err
		}
	}
	return out
}

// Recheck rescans the namespaces (every recheckScanEvery, quietScanEvery
// while Quiet) and rechecks every attributor's young flows.
func (a *Attributor) Recheck(changed func(flow.Key, flow.Owner) bool) error {
	now := a.cfg.Now()
	every := recheckScanEvery
	if a.cfg.Quiet != nil && a.cfg.Quiet() {
		every = quietScanEvery
	}
	if a.scanned.IsZero() || now.Sub(a.scanned) >= every {
		if err := a.scan(now, false); err != nil {
			return err
		}
	}
	err := a.cfg.Own.Recheck(changed)
	a.mu.Lock()
	attrs := make([]monitor.Attributor, 0, len(a.per))
	for _, m := range a.per {
		if m.attr != nil {
			attrs = append(attrs, m.attr)
		}
	}
	a.mu.Unlock()
	for _, at := range attrs {
		if e := at.Recheck(changed); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// Alive asks the Own attributor: processes are the same whichever
// namespace their sockets are in.
func (a *Attributor) Alive(p flow.Process) bool { return a.cfg.Own.Alive(p) }

// Stats sums the attributors' counters.
func (a *Attributor) Stats() monitor.AttributionStats {
	s := a.cfg.Own.Stats()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.per {
		if m.attr == nil {
			continue
		}
		o := m.attr.Stats()
		s.Lookups += o.Lookups
		s.TableReads += o.TableReads
		s.Scans += o.Scans
		s.ScansInVain += o.ScansInVain
		s.Links += o.Links
	}
	return s
}

// Namespaces counts the namespaces (other than the monitor's) whose
// attributor is made.
func (a *Attributor) Namespaces() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, m := range a.per {
		if m.attr != nil {
			n++
		}
	}
	return n
}

// Close closes every namespace attributor that is an io.Closer.
func (a *Attributor) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for ns, m := range a.per {
		if c, ok := m.attr.(io.Closer); ok {
			c.Close()
		}
		delete(a.per, ns)
	}
	return nil
}

//go:build linux

package nsattr

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/internal/netns"
)

// fakeNamespaces is a host whose namespaces the test lists.
type fakeNamespaces struct {
	mu      sync.Mutex
	self    uint32
	present []uint32
	pids    map[int]uint32
	runs    []uint32 // namespaces Run entered
	scans   int
	denied  int // processes whose namespace link is unreadable
	// fullRequests counts RequestFull calls.
	fullRequests int
}

func (f *fakeNamespaces) Self() uint32 { return f.self }

func (f *fakeNamespaces) Scan(buf []netns.Namespace) ([]netns.Namespace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scans++
	buf = buf[:0]
	for _, ino := range f.present {
		buf = append(buf, netns.Namespace{Inode: ino, Self: ino == f.self})
	}
	return buf, nil
}

func (f *fakeNamespaces) ScanKnown(buf []netns.Namespace) ([]netns.Namespace, error) {
	return f.Scan(buf)
}

func (f *fakeNamespaces) Run(inode uint32, fn func() error) error {
	f.mu.Lock()
	f.runs = append(f.runs, inode)
	f.mu.Unlock()
	return fn()
}

func (f *fakeNamespaces) Stats() netns.ScanStats {
	return netns.ScanStats{Processes: len(f.pids), Denied: f.denied}
}

func (f *fakeNamespaces) RequestFull() {
	f.mu.Lock()
	f.fullRequests++
	f.mu.Unlock()
}

func (f *fakeNamespaces) NetNSOf(pid int) (uint32, bool) {
	ns, ok := f.pids[pid]
	return ns, ok
}

// fakeAttr owns every key it is asked about as owner, and records calls.
type fakeAttr struct {
	owner    flow.Owner
	resolved [][]flow.Key
	rechecks int
	closed   bool
	lookups  atomic.Uint64 // Stats may be read concurrently, as proc.Resolver's
}

func (a *fakeAttr) Resolve(keys []flow.Key, owners []flow.Owner) error {
	a.resolved = append(a.resolved, slices.Clone(keys))
	a.lookups.Add(1)
	for i := range owners {
		owners[i] = a.owner
	}
	return nil
}
func (a *fakeAttr) Recheck(func(flow.Key, flow.Owner) bool) error { a.rechecks++; return nil }
func (a *fakeAttr) Alive(p flow.Process) bool                     { return p.PID == 1 }
func (a *fakeAttr) Stats() monitor.AttributionStats {
	return monitor.AttributionStats{Attributor: "fake", Lookups: a.lookups.Load(), Scans: 1}
}
func (a *fakeAttr) Close() error { a.closed = true; return nil }

func key(ns uint32, port uint16) flow.Key {
	return flow.Key{Proto: flow.TCP, NetNS: ns,
		Local:  netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), port),
		Remote: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), 80)}
}

type harness struct {
	nss     *fakeNamespaces
	own     *fakeAttr
	made    map[uint32]*fakeAttr
	fail    map[uint32]error
	members map[uint32]func(int) bool
	now     time.Time
	log     strings.Builder
	onScan  int
	a       *Attributor
}

func newHarness() *harness {
	h := &harness{
		nss:     &fakeNamespaces{self: 100, present: []uint32{100, 200, 400}, pids: map[int]uint32{7: 200, 8: 400}},
		own:     &fakeAttr{owner: 1},
		made:    map[uint32]*fakeAttr{},
		fail:    map[uint32]error{},
		members: map[uint32]func(int) bool{},
		now:     time.Unix(1000, 0),
	}
	h.a = New(Config{
		Scanner: h.nss, Own: h.own, Log: &h.log, Now: func() time.Time { return h.now },
		OnScan: func([]netns.Namespace) { h.onScan++ },
		New: func(ns netns.Namespace, run func(func() error) error, member func(int) bool) (monitor.Attributor, error) {
			var err error
			if e := run(func() error { return h.fail[ns.Inode] }); e != nil {
				err = e
			}
			if err != nil {
				return nil, err
			}
			fa := &fakeAttr{owner: flow.Owner(ns.Inode)}
			h.made[ns.Inode] = fa
			h.members[ns.Inode] = member
			return fa, nil
		},
	})
	return h
}

func TestResolveOwnNamespaceOnly(t *testing.T) {
	h := newHarness()
	keys := []flow.Key{key(0, 1), key(100, 2), key(0, 3)}
	owners := make([]flow.Owner, len(keys))
	if err := h.a.Resolve(keys, owners); err != nil {
		t.Fatal(err)
	}
	if len(h.own.resolved) != 1 || !slices.Equal(h.own.resolved[0], keys) {
		t.Errorf("own attributor asked %v, want one call with every key", h.own.resolved)
	}
	if !slices.Equal(owners, []flow.Owner{1, 1, 1}) || h.nss.scans != 0 || len(h.made) != 0 {
		t.Errorf("owners %v, %d scans, %d made: want all own, no scan", owners, h.nss.scans, len(h.made))
	}
}

func TestResolveRoutesByNamespace(t *testing.T) {
	h := newHarness()
	keys := []flow.Key{key(200, 1), key(0, 2), key(300, 3), key(200, 4), key(100, 5)}
	owners := make([]flow.Owner, len(keys))
	if err := h.a.Resolve(keys, owners); err != nil {
		t.Fatal(err)
	}
	if want := []flow.Owner{200, 1, flow.Unresolved, 200, 1}; !slices.Equal(owners, want) {
		t.Errorf("owners %v, want %v", owners, want)
	}
	if got := h.made[200].resolved; len(got) != 1 || !slices.Equal(got[0], []flow.Key{keys[0], keys[3]}) {
		t.Errorf("namespace 200's attributor asked %v", got)
	}
	if got := h.own.resolved; len(got) != 1 || !slices.Equal(got[0], []flow.Key{keys[1], keys[4]}) {
		t.Errorf("own attributor asked %v", got)
	}
	if _, ok := h.made[300]; ok {
		t.Error("an attributor was made for a namespace no scan found")
	}
	// The scan made the attributors of every namespace it found, before
	// their first flow.
	if !slices.Equal(h.nss.runs, []uint32{200, 400}) || h.made[400] == nil || len(h.made[400].resolved) != 0 {
		t.Errorf("entered namespaces %v, want [200 400] (400 made, not asked yet)", h.nss.runs)
	}
	// The membership test given to the factory uses the scanner's map.
	m := h.members[200]
	if !m(7) || m(8) || !m(9) {
		t.Errorf("member(7, 8, 9) = %v %v %v; want true (in it), false (elsewhere), true (not scanned yet)", m(7), m(8), m(9))
	}

	// 300 appears: found at the next scan, which waits a second.
	h.nss.present = append(h.nss.present, 300)
	h.a.Resolve(keys[2:3], owners[2:3])
	if owners[2] != flow.Unresolved {
		t.Errorf("namespace 300 resolved within a second of the last scan")
	}
	h.now = h.now.Add(scanEvery)
	h.a.Resolve(keys[2:3], owners[2:3])
	if owners[2] != 300 {
		t.Errorf("namespace 300 after a second: owner %d", owners[2])
	}
}

func TestResolveFactoryFails(t *testing.T) {
	h := newHarness()
	h.fail[400] = errors.New("operation not permitted (joining a network namespace needs CAP_SYS_ADMIN)")
	keys := []flow.Key{key(400, 1)}
	owners := make([]flow.Owner, 1)
	for range 3 {
		if err := h.a.Resolve(keys, owners); err != nil {
			t.Fatal(err)
		}
		if owners[0] != flow.Unresolved {
			t.Fatalf("owner %d for a namespace that cannot be entered", owners[0])
		}
	}
	if n := strings.Count(h.log.String(), "\n"); n != 1 || !strings.Contains(h.log.String(), "CAP_SYS_ADMIN") || !strings.Contains(h.log.String(), "400") {
		t.Errorf("log %q: want one line naming the namespace and the capability", h.log.String())
	}
	if n := countOf(h.nss.runs, 400); n != 1 {
		t.Errorf("tried %d times within RetryFailed, want 1", n)
	}
	delete(h.fail, 400)
	h.now = h.now.Add(10 * time.Second)
	h.a.Resolve(keys, owners)
	if owners[0] != 400 {
		t.Errorf("after RetryFailed: owner %d, want 400", owners[0])
	}
	if n := strings.Count(h.log.String(), "\n"); n != 1 {
		t.Errorf("log has %d lines after the retry, want still 1", n)
	}
}

func TestRecheckDropsGoneNamespaces(t *testing.T) {
	h := newHarness()
	keys := []flow.Key{key(200, 1), key(400, 2)}
	h.a.Resolve(keys, make([]flow.Owner, 2))
	h.now = h.now.Add(recheckScanEvery)
	if err := h.a.Recheck(func(flow.Key, flow.Owner) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if h.onScan != h.nss.scans || h.onScan != 2 {
		t.Errorf("OnScan called %d times for %d scans, want 2", h.onScan, h.nss.scans)
	}
	if h.own.rechecks != 1 || h.made[200].rechecks != 1 || h.made[400].rechecks != 1 {
		t.Errorf("rechecks own %d, 200 %d, 400 %d; want 1 each", h.own.rechecks, h.made[200].rechecks, h.made[400].rechecks)
	}
	st := h.a.Stats()
	if st.Lookups != 0+1+1 || st.Scans != 3 || st.Attributor != "fake" || h.a.Namespaces() != 2 {
		t.Errorf("Stats = %+v", st)
	}
	h.nss.present = []uint32{100, 400}
	h.now = h.now.Add(recheckScanEvery)
	h.a.Recheck(func(flow.Key, flow.Owner) bool { return true })
	if !h.made[200].closed || h.made[400].closed {
		t.Errorf("closed: 200 %v, 400 %v; want only the gone namespace's", h.made[200].closed, h.made[400].closed)
	}
	if h.made[400].rechecks != 2 || h.made[200].rechecks != 1 {
		t.Errorf("a gone namespace's attributor was rechecked")
	}
	if !h.a.Alive(flow.Process{PID: 1}) || h.a.Alive(flow.Process{PID: 2}) {
		t.Error("Alive does not ask the own attributor")
	}
	h.a.Close()
	if !h.made[400].closed {
		t.Error("Close left an attributor open")
	}
}

// Stats from another goroutine while flows resolve (run under -race).
func TestStatsConcurrent(t *testing.T) {
	h := newHarness()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			h.a.Stats()
		}
	}()
	owners := make([]flow.Owner, 2)
	for i := range 200 {
		h.a.Resolve([]flow.Key{key(200, uint16(i)), key(400, uint16(i))}, owners)
	}
	<-done
}

func countOf(s []uint32, v uint32) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// Processes whose namespace cannot be read are said once, with the
// capability that would show them.
func TestDeniedSaidOnce(t *testing.T) {
	h := newHarness()
	h.nss.denied = 3
	for range 3 {
		if err := h.a.Recheck(func(flow.Key, flow.Owner) bool { return true }); err != nil {
			t.Fatal(err)
		}
		h.now = h.now.Add(recheckScanEvery)
	}
	if got := h.log.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "3 processes") || !strings.Contains(got, "CAP_SYS_PTRACE") {
		t.Errorf("log %q: want one line counting the processes and naming CAP_SYS_PTRACE", got)
	}
}

// TestWantedNamespaces: a scan makes ahead only the attributors of the
// namespaces Wanted accepts (asked after OnScan); another's is made when a
// key names it.
func TestWantedNamespaces(t *testing.T) {
	h := newHarness()
	scanned := false
	h.a.cfg.OnScan = func([]netns.Namespace) { scanned = true }
	h.a.cfg.Wanted = func(ns uint32) bool {
		if !scanned {
			t.Error("Wanted asked before OnScan")
		}
		return ns == 400
	}
	if err := h.a.Start(); err != nil {
		t.Fatal(err)
	}
	if h.made[400] == nil || h.made[200] != nil || h.a.Namespaces() != 1 {
		t.Fatalf("made ahead %v, want only 400", h.made)
	}
	owners := make([]flow.Owner, 1)
	if err := h.a.Resolve([]flow.Key{key(200, 1)}, owners); err != nil {
		t.Fatal(err)
	}
	if h.made[200] == nil || owners[0] != 200 {
		t.Errorf("a key of namespace 200: owner %d, attributor made %v", owners[0], h.made[200] != nil)
	}
}

// TestQuietRecheck: while Quiet reports no container in sight, Recheck
// scans every 5 s; otherwise every 3 s (recheckScanEvery).
func TestQuietRecheck(t *testing.T) {
	h := newHarness()
	quiet := true
	h.a.cfg.Quiet = func() bool { return quiet }
	ok := func(flow.Key, flow.Owner) bool { return true }
	for range 4 {
		h.a.Recheck(ok)
		h.now = h.now.Add(time.Second)
	}
	if h.nss.scans != 1 {
		t.Errorf("quiet: %d scans in 4 s, want 1", h.nss.scans)
	}
	h.now = h.now.Add(time.Second)
	h.a.Recheck(ok)
	if h.nss.scans != 2 {
		t.Errorf("quiet: %d scans after 5 s, want 2", h.nss.scans)
	}
	quiet = false
	for range 6 {
		h.now = h.now.Add(time.Second)
		h.a.Recheck(ok)
	}
	if h.nss.scans != 4 {
		t.Errorf("containers in sight: %d scans in 6 s, want one every 3 s (4)", h.nss.scans)
	}
}

package kevents

import (
	"net/netip"
	"slices"
	"testing"

	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/proc"
)

// fakeRecords holds records by key bytes, as the kernel's maps would.
type fakeRecords struct {
	flows, ports map[string]record
	closed       bool
}

func (f *fakeRecords) flow(key []byte, r *record) bool {
	got, ok := f.flows[string(key)]
	*r = got
	return ok
}

func (f *fakeRecords) port(key []byte, r *record) bool {
	got, ok := f.ports[string(key)]
	*r = got
	return ok
}

func (f *fakeRecords) Close() error { f.closed = true; return nil }

var _ records = (*fakeRecords)(nil)

// fakeFallback answers from a map and records what it was asked.
type fakeFallback struct {
	owners   map[flow.Key]flow.Owner
	asked    [][]flow.Key
	rechecks int
}

func (f *fakeFallback) Resolve(keys []flow.Key, owners []flow.Owner) error {
	f.asked = append(f.asked, slices.Clone(keys))
	for i, k := range keys {
		owners[i] = f.owners[k]
	}
	return nil
}

func (f *fakeFallback) Recheck(func(flow.Key, flow.Owner) bool) error { f.rechecks++; return nil }
func (f *fakeFallback) Alive(flow.Process) bool                       { return true }
func (f *fakeFallback) Stats() monitor.AttributionStats {
	return monitor.AttributionStats{Attributor: "proc", Lookups: 7}
}

var _ monitor.Attributor = (*fakeFallback)(nil)

const testNetNS = 4026531840

// testAttributor returns an Attributor over fake records whose processes
// are not in /proc (an empty proc root), at monotonic time now.
func testAttributor(t *testing.T, rec *fakeRecords, fb monitor.Attributor, now uint64) *Attributor {
	t.Helper()
	a, err := newAttributor(Config{Fallback: fb, FS: proc.NewFS(t.TempDir()), NetNS: testNetNS, PasswdPath: "/nonexistent"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	a.now = func() uint64 { return now }
	return a
}

func tcpFlowKey(t *testing.T, family uint8, local, remote string) string {
	t.Helper()
	b := make([]byte, flowKeySize)
	if !flowKey(b, testNetNS, flow.TCP, family, netip.MustParseAddrPort(local), netip.MustParseAddrPort(remote)) {
		t.Fatalf("no key for %s %s family %d", local, remote, family)
	}
	return string(b)
}

func udpPortKey(port uint16) string {
	b := make([]byte, portKeySize)
	portKey(b, testNetNS, flow.UDP, port)
	return string(b)
}

func rec(tgid uint32, comm string, closed uint64, flags uint32) record {
	r := record{TGID: tgid, UID: 1000, StartNS: 12_345_000_000, Closed: closed, Flags: flags}
	copy(r.Comm[:], comm)
	return r
}

func TestResolve(t *testing.T) {
	const sec = uint64(1e9)
	now := 100 * sec
	recs := &fakeRecords{
		flows: map[string]record{
			tcpFlowKey(t, afInet, "10.0.0.1:4000", "10.0.0.2:80"):       rec(11, "curl", 0, 0),
			tcpFlowKey(t, afInet6, "10.0.0.1:4001", "10.0.0.2:80"):      rec(12, "python3", 0, 0), // a v4-mapped IPv6 socket
			tcpFlowKey(t, afInet6, "[fd00::1]:4002", "[fd00::2]:443"):   rec(13, "wget", 0, 0),
			tcpFlowKey(t, afInet, "10.0.0.1:4003", "10.0.0.2:80"):       rec(14, "short", now-2*sec, 0),  // closed 2 s ago
			tcpFlowKey(t, afInet, "10.0.0.1:4004", "10.0.0.2:80"):       rec(15, "stale", now-10*sec, 0), // closed 10 s ago
			tcpFlowKey(t, afInet, "10.0.0.1:8080", "10.0.0.9:5555"):     rec(16, "server", 0, recordPassive),
			tcpFlowKey(t, afInet, "192.168.0.1:22", "192.168.0.7:6000"): rec(17, "sshd", 0, 0),
		},
		ports: map[string]record{udpPortKey(53): rec(18, "dnsd", 0, recordUDP)},
	}
	fb := &fakeFallback{owners: map[flow.Key]flow.Owner{}}
	a := testAttributor(t, recs, fb, now)
	fromProc := a.owners.Intern(flow.Process{PID: 99, Name: "proc-found"})
	k := func(proto uint8, local, remote string) flow.Key {
		return flow.Key{Proto: proto, Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote)}
	}
	procKey := k(flow.TCP, "10.0.0.1:4004", "10.0.0.2:80")
	fb.owners[procKey] = fromProc
	otherNS := k(flow.TCP, "192.168.0.1:22", "192.168.0.7:6000")
	otherNS.NetNS = 12345 // not the namespace the record is in

	tests := []struct {
		key     flow.Key
		pid     int
		name    string
		byProc  bool
		comment string
	}{
		{k(flow.TCP, "10.0.0.1:4000", "10.0.0.2:80"), 11, "curl", false, "IPv4 socket"},
		{k(flow.TCP, "10.0.0.1:4001", "10.0.0.2:80"), 12, "python3", false, "IPv6 socket, IPv4 traffic"},
		{k(flow.TCP, "[fd00::1]:4002", "[fd00::2]:443"), 13, "wget", false, "IPv6"},
		{k(flow.TCP, "10.0.0.1:4003", "10.0.0.2:80"), 14, "short", false, "closed within the linger"},
		{procKey, 99, "proc-found", true, "closed long ago: the fallback decides"},
		{k(flow.TCP, "10.0.0.1:8080", "10.0.0.9:5555"), 16, "server", false, "accepted: the listener's owner"},
		{k(flow.UDP, "10.0.0.1:53", "10.0.0.3:40000"), 18, "dnsd", false, "UDP by local port"},
		{k(flow.TCP, "10.0.0.1:53", "10.0.0.3:40000"), 0, "", true, "TCP never recorded"},
		{otherNS, 0, "", true, "another namespace"},
	}
	keys := make([]flow.Key, len(tests))
	for i, tt := range tests {
		keys[i] = tt.key
	}
	owners := make([]flow.Owner, len(keys))
	if err := a.Resolve(keys, owners); err != nil {
		t.Fatal(err)
	}
	var wantAsked []flow.Key
	for i, tt := range tests {
		if tt.byProc {
			wantAsked = append(wantAsked, tt.key)
		}
		p, ok := a.owners.Lookup(owners[i])
		if tt.pid == 0 {
			if owners[i] != flow.Unresolved {
				t.Errorf("%s: owner %d (%+v), want unresolved", tt.comment, owners[i], p)
			}
			continue
		}
		if !ok || p.PID != tt.pid || p.Name != tt.name {
			t.Errorf("%s: %+v (ok %v), want PID %d named %q", tt.comment, p, ok, tt.pid, tt.name)
		}
		if !tt.byProc && (p.StartTime != 1234 || p.UID != 1000 || p.User != "1000") {
			t.Errorf("%s: start %d uid %d user %q, want 1234 ticks, uid 1000 shown as 1000", tt.comment, p.StartTime, p.UID, p.User)
		}
	}
	if len(fb.asked) != 1 || !slices.Equal(fb.asked[0], wantAsked) {
		t.Errorf("fallback asked %v, want once for %v", fb.asked, wantAsked)
	}
	if hits, misses := a.Counts(); hits != 6 || misses != 3 {
		t.Errorf("Counts = %d, %d; want 6 hits, 3 misses", hits, misses)
	}
	if s := a.Stats(); s.Attributor != "kernel+proc" || s.Lookups != 7 {
		t.Errorf("Stats = %+v, want kernel+proc with the fallback's 7 lookups", s)
	}
	// The same process found again is the same owner.
	again := []flow.Owner{0}
	if err := a.Resolve(keys[:1], again); err != nil || again[0] != owners[0] {
		t.Errorf("resolved again: %d (%v), want %d", again[0], err, owners[0])
	}
	if err := a.Close(); err != nil || !recs.closed {
		t.Errorf("Close: %v, records closed %v", err, recs.closed)
	}
}

// TestRecheckProvisional: an accepted connection given to its listener's
// owner moves to the process the fallback finds for it; one the fallback
// never finds is asked about confirmPasses times, then left.
func TestRecheckProvisional(t *testing.T) {
	moved := flow.Key{Proto: flow.TCP, Local: netip.MustParseAddrPort("10.0.0.1:80"), Remote: netip.MustParseAddrPort("10.0.0.2:1000")}
	unseen := flow.Key{Proto: flow.TCP, Local: netip.MustParseAddrPort("10.0.0.1:80"), Remote: netip.MustParseAddrPort("10.0.0.2:1001")}
	recs := &fakeRecords{flows: map[string]record{
		tcpFlowKey(t, afInet, "10.0.0.1:80", "10.0.0.2:1000"): rec(20, "server", 0, recordPassive),
		tcpFlowKey(t, afInet, "10.0.0.1:80", "10.0.0.2:1001"): rec(20, "server", 0, recordPassive),
	}}
	fb := &fakeFallback{owners: map[flow.Key]flow.Owner{}}
	a := testAttributor(t, recs, fb, 1)
	owners := make([]flow.Owner, 2)
	if err := a.Resolve([]flow.Key{moved, unseen}, owners); err != nil {
		t.Fatal(err)
	}
	child := a.owners.Intern(flow.Process{PID: 21, Name: "child"})
	fb.owners[moved] = child
	var changes []flow.Key
	for pass := range confirmPasses + 2 {
		if err := a.Recheck(func(k flow.Key, o flow.Owner) bool {
			if o != child {
				t.Errorf("moved %v to %d, want the child %d", k, o, child)
			}
			changes = append(changes, k)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		wantAsked := 2
		switch {
		case pass >= confirmPasses:
			wantAsked = 0
		case pass > 0:
			wantAsked = 1
		}
		if got := len(fb.asked[len(fb.asked)-1]); pass < confirmPasses && got != wantAsked {
			t.Errorf("pass %d: fallback asked about %d flows, want %d", pass, got, wantAsked)
		}
	}
	if !slices.Equal(changes, []flow.Key{moved}) {
		t.Errorf("changes %v, want only %v", changes, moved)
	}
	if fb.rechecks != confirmPasses+2 {
		t.Errorf("fallback Recheck called %d times, want %d", fb.rechecks, confirmPasses+2)
	}
	// Resolve found both in the records: only Recheck asked, confirmPasses times.
	if len(fb.asked) != confirmPasses {
		t.Errorf("fallback asked %d times, want %d", len(fb.asked), confirmPasses)
	}
	// A provisional connection that closed is not asked about.
	fb.asked = nil
	closing := flow.Key{Proto: flow.TCP, Local: netip.MustParseAddrPort("10.0.0.1:80"), Remote: netip.MustParseAddrPort("10.0.0.2:1002")}
	closingKey := tcpFlowKey(t, afInet, "10.0.0.1:80", "10.0.0.2:1002")
	recs.flows[closingKey] = rec(20, "server", 0, recordPassive)
	if err := a.Resolve([]flow.Key{closing}, owners[:1]); err != nil {
		t.Fatal(err)
	}
	recs.flows[closingKey] = rec(20, "server", 1, recordPassive)
	if err := a.Recheck(func(flow.Key, flow.Owner) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if len(fb.asked) != 0 || len(a.provisional) != 0 {
		t.Errorf("closed connection: fallback asked %v, %d still provisional", fb.asked, len(a.provisional))
	}
}

func TestNoFallback(t *testing.T) {
	a := testAttributor(t, &fakeRecords{}, nil, 1)
	owners := []flow.Owner{5}
	key := flow.Key{Proto: flow.TCP, Local: netip.MustParseAddrPort("10.0.0.1:80"), Remote: netip.MustParseAddrPort("10.0.0.2:1000")}
	if err := a.Resolve([]flow.Key{key}, owners); err != nil || owners[0] != flow.Unresolved {
		t.Errorf("Resolve: %v, owner %d; want unresolved", err, owners[0])
	}
	if err := a.Recheck(func(flow.Key, flow.Owner) bool { t.Error("changed called"); return true }); err != nil {
		t.Error(err)
	}
	if s := a.Stats(); s.Attributor != "kernel" || s.Lookups != 0 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestFlowKeyLayout(t *testing.T) {
	b := make([]byte, flowKeySize)
	if !flowKey(b, 0x01020304, flow.TCP, afInet, netip.MustParseAddrPort("10.0.0.1:4660"), netip.MustParseAddrPort("10.0.0.2:80")) {
		t.Fatal("no key")
	}
	want := make([]byte, flowKeySize)
	copy(want, []byte{0x04, 0x03, 0x02, 0x01, 0, 80, 0x34, 0x12, 6, 2}) // little-endian host
	copy(want[16:], []byte{10, 0, 0, 1})
	copy(want[32:], []byte{10, 0, 0, 2})
	if string(b) != string(want) {
		t.Errorf("IPv4 key\n got % x\nwant % x", b, want)
	}
	if !flowKey(b, 1, flow.TCP, afInet6, netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2")) {
		t.Fatal("no v4-mapped key")
	}
	if mapped := netip.AddrFrom16([16]byte(b[16:32])); mapped != netip.MustParseAddr("::ffff:10.0.0.1") {
		t.Errorf("v4-mapped local address %v", mapped)
	}
	if flowKey(b, 1, flow.TCP, afInet, netip.MustParseAddrPort("[fd00::1]:1"), netip.MustParseAddrPort("10.0.0.2:2")) {
		t.Error("an IPv6 address made an IPv4 key")
	}
	if flowKey(b, 1, flow.TCP, 99, netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2")) {
		t.Error("an unknown family made a key")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	r := rec(1, "a-fifteen-chars", 5, recordUDP)
	r.Cgroup, r.Seen = 77, 9
	b := make([]byte, recordSize)
	encodeRecord(r, b)
	var got record
	if !decodeRecord(b, &got) || got != r || got.CommName() != "a-fifteen-chars" {
		t.Errorf("round trip: %+v, want %+v", got, r)
	}
	if decodeRecord(b[:recordSize-1], &got) {
		t.Error("decoded a short record")
	}
}

// FuzzDecodeRecord: any bytes from the kernel's map decode without panic,
// and a record re-encodes to the bytes it came from (padding aside).
func FuzzDecodeRecord(f *testing.F) {
	b := make([]byte, recordSize)
	encodeRecord(rec(42, "nginx", 0, recordPassive), b)
	f.Add(b)
	f.Add(make([]byte, recordSize))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r record
		if !decodeRecord(b, &r) {
			if len(b) == recordSize {
				t.Fatal("a record-sized input did not decode")
			}
			return
		}
		out := make([]byte, recordSize)
		encodeRecord(r, out)
		// Padding bytes 44..48 are not decoded.
		copy(out[44:48], b[44:48])
		if string(out) != string(b) {
			t.Fatalf("re-encoded % x\nfrom % x", out, b)
		}
		_ = r.CommName()
	})
}

package conntable

import (
	"fmt"
	"hogs/internal/flow"
	"math"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"hogs/decode"
	"hogs/internal/allocs"
)

const second = int64(1e9)

func key(local, remote string) flow.Key {
	return flow.Key{Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote), Proto: decode.ProtoTCP}
}

// udpKey is key for a UDP flow.
func udpKey(local, remote string) flow.Key {
	k := key(local, remote)
	k.Proto = flow.UDP
	return k
}

// all returns every flow of the table at now, unresolved ones included
// (a Snapshot copies only the largest of those).
func all(tab *Table, now int64) []FlowStat {
	var out []FlowStat
	for i := range tab.shards {
		s := &tab.shards[i]
		s.mu.Lock()
		for _, f := range s.flows {
			sr, rr := f.rates(now)
			out = append(out, f.stat(sr, rr))
		}
		s.mu.Unlock()
	}
	return out
}

func find(t *testing.T, snap Snapshot, k flow.Key) FlowStat {
	t.Helper()
	for _, f := range snap.Flows {
		if f.Key == k {
			return f
		}
	}
	for _, u := range snap.Unknown {
		for _, f := range u.Largest {
			if f.Key == k {
				return f
			}
		}
	}
	t.Fatalf("flow %v not in snapshot", k)
	return FlowStat{}
}

func TestAddCountsPerDirection(t *testing.T) {
	tab := New(Config{})
	k := key("10.0.0.1:40000", "10.0.0.2:443")
	if !tab.Add(k, true, 100, 0, "eth0") {
		t.Error("first packet of a flow: isNew false")
	}
	if tab.Add(k, true, 200, 1, "eth1") {
		t.Error("second packet: isNew true")
	}
	tab.Add(k, false, 1500, 2, "eth0")
	f := find(t, tab.Snapshot(3), k)
	if f.Sent != (flow.Counter{Packets: 2, Bytes: 300}) || f.Recv != (flow.Counter{Packets: 1, Bytes: 1500}) || f.Device != "eth0" || f.First != 0 || f.Last != 2 {
		t.Errorf("flow %+v", f)
	}
}

// TestSameLocalPortDifferentFlows: a forking server's children share the
// local port; each connection is its own flow with its own owner (nethogs
// merges them into the first).
func TestSameLocalPortDifferentFlows(t *testing.T) {
	tab := New(Config{})
	a, b := key("10.0.0.1:80", "10.0.0.9:50000"), key("10.0.0.1:80", "10.0.0.9:50001")
	tab.Add(a, false, 100, 0, "eth0")
	tab.Add(b, false, 300, 0, "eth0")
	tab.SetOwner(a, 11)
	tab.SetOwner(b, 22)
	snap := tab.Snapshot(1)
	if fa, fb := find(t, snap, a), find(t, snap, b); fa.Owner != 11 || fb.Owner != 22 || fa.Recv.Bytes != 100 || fb.Recv.Bytes != 300 {
		t.Errorf("flows %+v and %+v", fa, fb)
	}
}

func TestRatesFallToZero(t *testing.T) {
	tab := New(Config{})
	k := key("10.0.0.1:40000", "10.0.0.2:443")
	// 1000 bytes sent in each of seconds 10..14, 500 received in second 14.
	for s := int64(10); s < 15; s++ {
		tab.Add(k, true, 1000, s*second+second/2, "eth0")
	}
	tab.Add(k, false, 500, 14*second+second/3, "eth0")
	tests := []struct {
		now        int64
		sent, recv float64
	}{
		{14*second + second/2, 5000.0 / 4, 500.0 / 4}, // first seen at 10.5: four seconds observed
		{15 * second, 5000 / 4.5, 500 / 4.5},          // 10.5..15
		{16 * second, 4000.0 / 5, 500.0 / 5},          // 11..16: a full window
		{18 * second, 2000.0 / 5, 500.0 / 5},          // 13..18
		{19*second + second/2, 500.0 / 5, 250.0 / 5},  // 14.5..19.5: half of second 14
		{20 * second, 0, 0},                           // 15..20: traffic stopped five seconds ago
		{100 * second, 0, 0},
	}
	for _, tt := range tests {
		f := find(t, tab.Snapshot(tt.now), k)
		if math.Abs(f.SentRate-tt.sent) > 1e-9 || math.Abs(f.RecvRate-tt.recv) > 1e-9 {
			t.Errorf("at %.1fs: rates %.1f/%.1f B/s, want %.1f/%.1f", float64(tt.now)/1e9, f.SentRate, f.RecvRate, tt.sent, tt.recv)
		}
	}
}

func TestSweepKeepsTotals(t *testing.T) {
	tab := New(Config{})
	old, live := key("10.0.0.1:40000", "10.0.0.2:443"), key("10.0.0.1:40001", "10.0.0.2:443")
	tab.Add(old, true, 100, 0, "eth0")
	tab.Add(old, false, 50, 1*second, "eth0")
	tab.SetOwner(old, 7)
	tab.Add(live, true, 10, 59*second, "eth0")
	tab.SetOwner(live, 7)
	if n := tab.Sweep(60*second, 50*second); n != 1 {
		t.Fatalf("Sweep expired %d flows, want 1", n)
	}
	snap := tab.Snapshot(60 * second)
	if len(snap.Flows) != 1 || snap.Flows[0].Key != live {
		t.Errorf("flows after sweep: %+v", snap.Flows)
	}
	if r := snap.Retired[7]; r.Sent != (flow.Counter{Packets: 1, Bytes: 100}) || r.Recv != (flow.Counter{Packets: 1, Bytes: 50}) || r.Flows != 1 {
		t.Errorf("retired totals of owner 7: %+v", r)
	}
}

func TestMaxFlowsEvictsOldestAndKeepsTotals(t *testing.T) {
	tab := New(Config{MaxFlows: 640})
	const n = 5000
	for i := range n {
		k := flow.Key{Local: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(i)),
			Remote: netip.MustParseAddrPort("10.9.9.9:443"), Proto: decode.ProtoUDP}
		tab.Add(k, true, 10, int64(i), "eth0")
	}
	snap, flows := tab.Snapshot(n), all(tab, n)
	if len(flows) > 640 || snap.Unknown[UnknownUDP].Flows != len(flows) {
		t.Errorf("%d flows tracked (snapshot: %d), cap 640", len(flows), snap.Unknown[UnknownUDP].Flows)
	}
	if snap.Evictions == 0 || snap.Evictions+uint64(len(flows)) != n || snap.NewFlows != n {
		t.Errorf("evictions %d + flows %d != %d added (new flows %d)", snap.Evictions, len(flows), n, snap.NewFlows)
	}
	var bytes uint64
	for _, f := range flows {
		bytes += f.Sent.Bytes
		if f.Last < n-640*2 {
			t.Errorf("an old flow (last seen %d) survived eviction", f.Last)
		}
	}
	u := snap.Unknown[UnknownUDP]
	bytes += u.Retired.Sent.Bytes
	if bytes != n*10 || u.Sent.Bytes != n*10 || snap.Unknown[UnknownTCP].Sent.Bytes != 0 {
		t.Errorf("bytes in flows and retired totals: %d, unknown UDP %d, unknown TCP %d; want %d, %d, 0",
			bytes, u.Sent.Bytes, snap.Unknown[UnknownTCP].Sent.Bytes, n*10, n*10)
	}
}

func TestConcurrentAdd(t *testing.T) {
	tab := New(Config{})
	keys := []flow.Key{key("10.0.0.1:1", "10.0.0.2:2"), key("10.0.0.1:3", "10.0.0.2:4"), key("[2001:db8::1]:5", "[2001:db8::2]:6")}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				tab.Add(keys[(i+w)%len(keys)], i%2 == 0, 1, int64(i), "eth0")
			}
		}()
	}
	wg.Wait()
	var total uint64
	for _, f := range all(tab, 0) {
		total += f.Sent.Packets + f.Recv.Packets
	}
	if total != 40000 {
		t.Errorf("%d packets counted, want 40000", total)
	}
}

// TestLookupCandidates: only flows that can have a local socket are
// offered, the connections this host opened first, then those with
// packets both ways, then the rest, at most max, each again only after a
// backoff that doubles.
func TestLookupCandidates(t *testing.T) {
	tab := New(Config{})
	a := tab.NewAdder()
	add := func(k flow.Key, out, reset bool) { a.AddSeen(&k, out, reset, 60, 0, "eth0") }
	udp := udpKey
	ours := key("10.0.0.1:40001", "10.0.0.2:443") // this host's SYN
	add(ours, true, false)
	accepted := key("10.0.0.1:22", "10.0.0.5:50000") // SYN, SYN-ACK, ACK
	add(accepted, false, false)
	add(accepted, true, false)
	add(accepted, false, false)
	udpServer := udp("10.0.0.1:514", "10.0.0.3:5000") // receives only, twice
	add(udpServer, false, false)
	add(udpServer, false, false)
	resolved := key("10.0.0.1:40002", "10.0.0.2:443")
	add(resolved, true, false)
	tab.SetOwner(resolved, 7)
	// Not worth a lookup: a SYN answered by a reset, a SYN never
	// answered, a SYN answered by a SYN-ACK that the peer never answers
	// (a SYN flood on a listening port), a UDP packet answered (by ICMP,
	// which is not counted).
	synRST := key("10.0.0.1:80", "10.0.0.9:1234")
	add(synRST, false, false)
	add(synRST, true, true)
	add(key("10.0.0.1:81", "10.0.0.9:1235"), false, false)
	halfOpen := key("10.0.0.1:22", "10.0.0.9:1237")
	add(halfOpen, false, false)
	add(halfOpen, true, false)
	add(udp("10.0.0.1:53", "10.0.0.9:1236"), false, false)
	a.Flush()

	sec := RetryBase
	for _, step := range []struct {
		now      int64
		max      int
		want     []flow.Key // in order
		backlog  int
		hopeless int
	}{
		{0, 1, []flow.Key{ours}, 2, 4},
		{0, 1, []flow.Key{accepted}, 1, 4}, // ours is not due again
		{0, 10, []flow.Key{udpServer}, 0, 4},
		{sec - 1, 10, nil, 0, 4},
		{sec, 10, []flow.Key{ours, accepted, udpServer}, 0, 4},
		{2 * sec, 10, nil, 0, 4}, // the second wait is 2 s
		{3 * sec, 2, []flow.Key{ours, accepted}, 1, 4},
	} {
		got, backlog, hopeless := tab.LookupCandidates(nil, step.max, step.now)
		if !slices.Equal(got, step.want) || backlog != step.backlog || hopeless != step.hopeless {
			t.Errorf("at %v, max %d: %v, backlog %d, %d hopeless; want %v, %d, %d",
				step.now, step.max, got, backlog, hopeless, step.want, step.backlog, step.hopeless)
		}
	}
	if tab.SetOwner(key("10.0.0.1:9", "10.0.0.2:9"), 5) {
		t.Error("SetOwner of a flow not in the table reported true")
	}
}

func TestAddHitPathAllocatesNothing(t *testing.T) {
	tab := New(Config{})
	keys := make([]flow.Key, 100)
	for i := range keys {
		keys[i] = key(fmt.Sprintf("10.0.0.1:%d", 1000+i), "[2001:db8::2]:443")
		tab.Add(keys[i], true, 1, 0, "eth0")
	}
	least := allocs.Least(5, 100, func() {
		for i, k := range keys {
			tab.Add(k, i%2 == 0, 1500, int64(i)*second/10, "eth0")
		}
	})
	if least != 0 {
		t.Errorf("Add on existing flows allocates %v per round, want 0", least)
	}
}

func TestKeyOf(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	p := decode.Packet{Family: decode.IPv4, Proto: decode.ProtoTCP, Src: a, Dst: b, SrcPort: 443, DstPort: 50000, Flags: decode.FlagPorts}
	tests := []struct {
		dir  decode.Direction
		want flow.Key
		out  bool
	}{
		{decode.DirOut, flow.Key{Local: netip.AddrPortFrom(a, 443), Remote: netip.AddrPortFrom(b, 50000), Proto: 6}, true},
		{decode.DirIn, flow.Key{Local: netip.AddrPortFrom(b, 50000), Remote: netip.AddrPortFrom(a, 443), Proto: 6}, false},
		// No direction recorded: the ephemeral (higher) port is local.
		{decode.DirUnknown, flow.Key{Local: netip.AddrPortFrom(b, 50000), Remote: netip.AddrPortFrom(a, 443), Proto: 6}, false},
	}
	for _, tt := range tests {
		var k flow.Key
		out, ok := KeyOf(&p, tt.dir, &k)
		if !ok || k != tt.want || out != tt.out {
			t.Errorf("KeyOf(%v) = %v, %v, %v; want %v, %v", tt.dir, k, out, ok, tt.want, tt.out)
		}
	}
	noPorts := decode.Packet{Family: decode.IPv4, Proto: decode.ProtoICMP, Src: a, Dst: b}
	if _, ok := KeyOf(&noPorts, decode.DirOut, new(flow.Key)); ok {
		t.Error("KeyOf of a packet without ports: ok")
	}
}

// TestAdderMemo: an Adder counts like Table.Add, also when the flow it
// remembers expired or was evicted in between.
func TestAdderMemo(t *testing.T) {
	tab := New(Config{})
	a := tab.NewAdder()
	k := key("10.0.0.1:40000", "10.0.0.2:443")
	if !a.Add(&k, true, 100, 0, "eth0") || a.Add(&k, true, 100, 1, "eth0") {
		t.Fatal("isNew wrong")
	}
	a.Flush()                     // as the capture loop does before it waits
	tab.Sweep(100*second, second) // k expires: its 200 bytes retire
	if !a.Add(&k, false, 50, 100*second, "eth0") {
		t.Error("a packet after expiry did not open a new flow")
	}
	other := key("10.0.0.1:40001", "10.0.0.2:443")
	a.Add(&other, true, 7, 100*second, "eth0")
	a.Add(&k, true, 1, 100*second, "eth0")
	snap := tab.Snapshot(100 * second)
	if f := find(t, snap, k); f.Recv.Bytes != 50 || f.Sent.Bytes != 1 {
		t.Errorf("flow after expiry: %+v", f)
	}
	if r := snap.Unknown[UnknownTCP].Retired; r.Sent.Bytes != 200 {
		t.Errorf("retired: %+v, want the 200 bytes from before expiry", r)
	}
	least := allocs.Least(5, 1000, func() { a.Add(&k, true, 1, 100*second, "eth0") })
	if least != 0 {
		t.Errorf("Adder.Add on the remembered flow allocates %v", least)
	}
}

// TestOpenThenAdd: a flow opened ahead of its first counted packet (the
// handshake watcher) is new once, keeps its owner, and counts only what Add
// accounts afterwards.
func TestOpenThenAdd(t *testing.T) {
	tab := New(Config{})
	k := key("10.0.0.1:40000", "10.0.0.2:443")
	if first, answered := tab.Open(k, true, 5, "eth0"); !first || !answered {
		t.Fatalf("Open of a missing flow: isNew %v, answered %v", first, answered)
	}
	if again, answered := tab.Open(k, true, 6, "eth0"); again || answered {
		t.Errorf("second Open: isNew %v, answered %v", again, answered)
	}
	if got, _, _ := tab.LookupCandidates(nil, 10, 6); len(got) != 1 || got[0] != k {
		t.Errorf("lookup candidates after Open = %v", got)
	}
	tab.SetOwner(k, 7)
	if f := find(t, tab.Snapshot(6), k); f.Sent != (flow.Counter{}) || f.Recv != (flow.Counter{}) || f.First != 5 || f.Last != 5 || f.Owner != 7 {
		t.Errorf("opened flow %+v", f)
	}
	if tab.NewAdder().Add(&k, true, 60, 8, "eth0") {
		t.Error("Add after Open: isNew true (the flow would be resolved twice)")
	}
	if f := find(t, tab.Snapshot(9), k); f.Sent != (flow.Counter{Packets: 1, Bytes: 60}) || f.Owner != 7 || f.Last != 8 {
		t.Errorf("flow after Add %+v", f)
	}
}

// TestAdderHoldsRuns: an Adder holds a run of one flow's packets and adds
// it at the latest after maxPending packets, at the next second, when
// another flow's packet comes, or on Flush; held packets of a flow that
// expired meanwhile are not lost and the flow counts as new again.
func TestAdderHoldsRuns(t *testing.T) {
	tab := New(Config{})
	a := tab.NewAdder()
	k, other := key("10.0.0.1:40000", "10.0.0.2:443"), key("10.0.0.1:40001", "10.0.0.2:443")
	sent := func(k flow.Key) uint64 { return find(t, tab.Snapshot(10*second), k).Sent.Packets }

	a.Add(&k, true, 10, 0, "eth0") // opens the flow: added at once
	for i := 1; i < maxPending; i++ {
		a.Add(&k, true, 10, int64(i), "eth0")
	}
	if got := sent(k); got != 1 {
		t.Errorf("after a run of %d: table has %d packets, want 1 (the rest held)", maxPending, got)
	}
	a.Add(&k, true, 10, maxPending, "eth0") // the held run is full: it goes in
	if got := sent(k); got != maxPending+1 {
		t.Errorf("after %d+1 packets: table has %d, want %d", maxPending, got, maxPending+1)
	}
	a.Add(&k, true, 10, second+1, "eth0") // held
	a.Add(&k, true, 10, 2*second, "eth0") // a new second: the one held before goes in
	if got := sent(k); got != maxPending+2 {
		t.Errorf("after the second changed: %d, want %d", got, maxPending+2)
	}
	a.Add(&other, false, 5, second+2, "eth0") // another flow: k's run goes in
	if got := sent(k); got != maxPending+3 {
		t.Errorf("after another flow's packet: %d, want %d", got, maxPending+3)
	}
	a.Add(&other, false, 5, second+3, "eth0")
	a.Flush()
	if f := find(t, tab.Snapshot(10*second), other); f.Recv != (flow.Counter{Packets: 2, Bytes: 10}) {
		t.Errorf("after Flush: %+v", f.Recv)
	}
	snap := tab.Snapshot(2 * second)
	// First seen at 0, so the rate is over the two seconds observed.
	if f := find(t, snap, k); f.Sent.Bytes != 10*(maxPending+3) || f.Last != 2*second || f.SentRate != float64(10*(maxPending+3))/2 {
		t.Errorf("flow k %+v", f)
	}

	// A held packet of a flow that expires before the Adder adds it.
	a.Add(&other, false, 5, 2*second, "eth0") // held
	tab.Sweep(100*second, second)             // both flows expire
	if !a.Add(&other, false, 5, 100*second, "eth0") {
		t.Error("a packet after expiry did not report a new flow")
	}
	a.Flush()
	snap = tab.Snapshot(100 * second)
	retired := snap.Unknown[UnknownTCP].Retired
	if f := find(t, snap, other); f.Recv.Packets+retired.Recv.Packets != 4 {
		t.Errorf("flow %+v and retired %+v: want 4 received packets in all", f.Recv, retired.Recv)
	}
}

// TestAddToRun: AddToRun adds to the flow of the current run, refuses
// without a run and once that flow has left the table; Run changes when a
// packet goes to another flow, not for one of the same flow.
func TestAddToRun(t *testing.T) {
	tab := New(Config{})
	a := tab.NewAdder()
	if a.AddToRun(true, 10, 0) {
		t.Fatal("AddToRun without a run: true")
	}
	k, other := key("10.0.0.1:40000", "10.0.0.2:443"), key("10.0.0.1:40001", "10.0.0.2:443")
	a.Add(&k, true, 10, 0, "eth0")
	run := a.RunID()
	a.Add(&k, false, 10, 1, "eth0")
	if a.RunID() != run {
		t.Error("Run changed for a packet of the same flow")
	}
	if !a.AddToRun(true, 5, 2) || !a.AddToRun(false, 7, 3) {
		t.Fatal("AddToRun on the current run: false")
	}
	// 1,001 calls of 0 bytes each (AllocsPerRun's warm-up included).
	least := allocs.Least(5, 1000, func() { a.AddToRun(true, 0, 3) })
	if least != 0 {
		t.Errorf("AddToRun allocates %v", least)
	}
	a.Flush()
	if f := find(t, tab.Snapshot(3), k); f.Sent != (flow.Counter{Packets: 2 + 5*1001, Bytes: 15}) || f.Recv != (flow.Counter{Packets: 2, Bytes: 17}) || f.Last != 3 {
		t.Errorf("flow after AddToRun: %+v", f)
	}
	a.Add(&other, true, 1, 4, "eth0")
	if a.RunID() == run {
		t.Error("Run unchanged after a packet of another flow")
	}
	a.Flush()
	tab.Sweep(100*second, second) // other expires
	if a.AddToRun(true, 1, 100*second) {
		t.Error("AddToRun to a flow gone from the table: true")
	}
}

// TestRatesWhileYoung: a steady 4,250 B/s flow shows 4,250 B/s from its
// first refresh on, not a fifth of it per second missing from the window.
func TestRatesWhileYoung(t *testing.T) {
	tab := New(Config{})
	k := key("10.0.0.1:40000", "10.0.0.2:443")
	step := second / 10
	for at := int64(0); at < 8*second; at += step {
		tab.Add(k, false, 425, at, "eth0")
		if at%second == 0 && at > 0 {
			// The refresh comes just before the packet of its instant.
			if got := find(t, tab.Snapshot(at-1), k).RecvRate; math.Abs(got-4250)/4250 > 0.025 {
				t.Errorf("at %ds: %.0f B/s, want 4250 within 2.5%%", at/second, got)
			}
		}
	}
}

// TestAddSeenWorthy: AddSeen reports the packet that makes a flow worth a
// socket lookup, also within a run of one flow's packets: this host's
// first packet of a connection it opens, the peer's answer to this host's
// SYN-ACK, this host's first answer on UDP, a UDP flow's second packet
// received; never a reset, and never again.
func TestAddSeenWorthy(t *testing.T) {
	udp := udpKey
	type pkt struct {
		out, reset, worthy bool
	}
	for _, tc := range []struct {
		name string
		k    flow.Key
		pkts []pkt
	}{
		{"this host connects", key("10.0.0.1:40000", "10.0.0.2:443"), []pkt{{true, false, true}, {false, false, false}, {true, false, false}}},
		{"a peer connects", key("10.0.0.1:22", "10.0.0.5:50000"), []pkt{{false, false, false}, {true, false, false}, {false, false, true}, {false, false, false}}},
		{"SYN flood, listening port", key("10.0.0.1:22", "10.0.0.6:50000"), []pkt{{false, false, false}, {true, false, false}}},
		{"SYN to a closed port", key("10.0.0.1:23", "10.0.0.6:50000"), []pkt{{false, false, false}, {true, true, false}, {false, false, false}, {true, true, false}}},
		{"UDP answered", udp("10.0.0.1:53", "10.0.0.7:5000"), []pkt{{false, false, false}, {true, false, true}, {false, false, false}}},
		{"UDP received twice", udp("10.0.0.1:514", "10.0.0.7:5000"), []pkt{{false, false, false}, {false, false, true}, {false, false, false}}},
	} {
		tab := New(Config{})
		a := tab.NewAdder()
		for i, p := range tc.pkts {
			if _, worthy := a.AddSeen(&tc.k, p.out, p.reset, 60, int64(i), "eth0"); worthy != p.worthy {
				t.Errorf("%s: packet %d (out %v, reset %v): worthy %v, want %v", tc.name, i, p.out, p.reset, worthy, p.worthy)
			}
		}
	}
}

package conntable

import (
	"net/netip"
	"testing"

	"hogs/internal/allocs"
	"hogs/internal/flow"
)

// fullTable returns a table capped at 64 flows (one a shard, one slot of
// probation a shard) with every shard full: a flow this host opened, with
// an owner (1).
func fullTable(t *testing.T) *Table {
	t.Helper()
	return fullTableOf(t, Config{MaxFlows: 64})
}

// fullTableOf is fullTable for a table made with cfg (MaxFlows 64).
func fullTableOf(t *testing.T, cfg Config) *Table {
	t.Helper()
	tab := New(cfg)
	for i := 0; entriesOf(tab) < shardCount; i++ {
		if i > 100_000 {
			t.Fatal("could not fill every shard")
		}
		k := key("10.1.0.1:1000", "10.1.0.2:443")
		k.Local = netip.AddrPortFrom(k.Local.Addr(), uint16(1000+i))
		pk := pack(&k)
		if s := tab.shard(&pk); len(s.flows) == 0 {
			tab.Add(k, true, 60, 0, "eth0")
			tab.SetOwner(k, 1)
		}
	}
	return tab
}

func entriesOf(tab *Table) int {
	n := 0
	for i := range tab.shards {
		s := &tab.shards[i]
		s.mu.Lock()
		n += len(s.flows)
		s.mu.Unlock()
	}
	return n
}

// inMap reports whether flow k has an entry (not on probation).
func inMap(tab *Table, k flow.Key) bool {
	pk := pack(&k)
	s := tab.shard(&pk)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flows[pk] != nil
}

// TestProbation: in a full table, the flows whose first packet is received
// wait on probation and behave as entries do: the same packets make them
// worth a lookup (then they get an entry, with every packet counted),
// the rest (a SYN flood's, a scan's) stay on probation, counted in the
// unknown rows and listed while there are few; an owner found takes the
// flow's every byte.
func TestProbation(t *testing.T) {
	udp := udpKey
	type pkt struct {
		out, reset, worthy bool
	}
	for _, tc := range []struct {
		name  string
		k     flow.Key
		pkts  []pkt
		entry bool // has an entry at the end
	}{
		{"a peer connects", key("10.0.0.1:22", "10.0.0.5:50000"), []pkt{{false, false, false}, {true, false, false}, {false, false, true}, {false, false, false}}, true},
		{"SYN flood, listening port", key("10.0.0.1:22", "10.0.0.6:50000"), []pkt{{false, false, false}, {true, false, false}}, false},
		{"SYN to a closed port", key("10.0.0.1:23", "10.0.0.6:50000"), []pkt{{false, false, false}, {true, true, false}, {false, false, false}, {true, true, false}}, false},
		{"UDP answered", udp("10.0.0.1:53", "10.0.0.7:5000"), []pkt{{false, false, false}, {true, false, true}, {false, false, false}}, true},
		{"UDP received twice", udp("10.0.0.1:514", "10.0.0.7:5000"), []pkt{{false, false, false}, {false, false, true}, {false, false, false}}, true},
		{"many packets, never answered", key("10.0.0.1:24", "10.0.0.8:50000"), []pkt{{}, {}, {}, {}, {}, {}, {}, {}, {}}, true},
	} {
		tab := fullTable(t)
		i := unknownIndex(tc.k.Proto)
		base := tab.Snapshot(0).Unknown[i] // the full table's flows before their owner
		a := tab.NewAdder()
		var sent, recv uint64
		for j, p := range tc.pkts {
			isNew, worthy := a.AddSeen(&tc.k, p.out, p.reset, 60, int64(j), "eth0")
			if worthy != p.worthy || isNew != (j == 0) {
				t.Errorf("%s: packet %d (out %v, reset %v): new %v, worthy %v; want %v, %v", tc.name, j, p.out, p.reset, isNew, worthy, j == 0, p.worthy)
			}
			if j == 0 && inMap(tab, tc.k) {
				t.Fatalf("%s: the first packet gave the flow an entry in a full table", tc.name)
			}
			if p.out {
				sent++
			} else {
				recv++
			}
		}
		a.Flush()
		if inMap(tab, tc.k) != tc.entry {
			t.Errorf("%s: entry %v, want %v", tc.name, !tc.entry, tc.entry)
		}
		now := int64(len(tc.pkts))
		snap := tab.Snapshot(now)
		f := find(t, snap, tc.k)
		if f.Sent.Packets != sent || f.Recv.Packets != recv || f.Sent.Bytes+f.Recv.Bytes != 60*(sent+recv) || f.First != 0 || f.Device != "eth0" {
			t.Errorf("%s: flow %+v; want %d sent, %d received", tc.name, f, sent, recv)
		}
		if u := snap.Unknown[i]; u.Recv.Packets != recv || u.EverSent.Packets-base.EverSent.Packets != sent || u.Flows != 1 || snap.NewFlows != shardCount+1 || tab.Len() < shardCount {
			t.Errorf("%s: unknown row received %+v, ever sent %+v, %d flows; %d new flows, Len %d", tc.name, u.Recv, u.EverSent, u.Flows, snap.NewFlows, tab.Len())
		}
		if !tc.entry {
			if tab.SetOwner(tc.k, 9) {
				t.Errorf("%s: SetOwner of a flow on probation reported true", tc.name)
			}
			continue
		}
		if !tab.SetOwner(tc.k, 9) {
			t.Fatalf("%s: SetOwner failed", tc.name)
		}
		snap = tab.Snapshot(now)
		o := find(t, snap, tc.k)
		u := snap.Unknown[i]
		if o.Owner != 9 || o.Recv.Packets != recv || o.Sent.Packets != sent || u.Recv.Packets != 0 || u.Sent != base.Sent || u.EverRecv.Packets != recv {
			t.Errorf("%s: owned flow %+v, unknown row received %+v, ever %+v", tc.name, o, u.Recv, u.EverRecv)
		}
	}
}

// TestProbationThreshold: a shard's received flows get entries until it
// holds an eighth of its cap; then they go on probation.
func TestProbationThreshold(t *testing.T) {
	tab := New(Config{MaxFlows: 64 * 16}) // 16 a shard: probation from 2
	var k flow.Key
	state := uint64(88172645463325252)
	for range 10_000 {
		floodKey(&state, &k)
		pk := pack(&k)
		s := tab.shard(&pk)
		before := len(s.flows)
		tab.addSeen(k, false, false, 60, 0, "eth0")
		if got, want := inMap(tab, k), before < 2; got != want {
			t.Fatalf("a shard of %d flows: the new flow has an entry: %v, want %v", before, got, want)
		}
	}
}

// TestProbationTotals floods a full table with one-packet flows and
// answered ones: the unknown rows count every packet at every step and
// never go down, flows leave only by eviction (counted) or expiry, and
// the entries stay at the cap.
func TestProbationTotals(t *testing.T) {
	tab := New(Config{MaxFlows: 640})
	a := tab.NewAdder()
	var k flow.Key
	state := uint64(88172645463325252)
	var prev UnknownStat
	const n = 200_000
	for i := range n {
		floodKey(&state, &k)
		now := int64(i) * 20_000
		a.AddSeen(&k, false, false, 60, now, "eth0")
		if i%7 == 0 {
			a.AddSeen(&k, true, i%14 == 0, 60, now, "eth0") // answered, or by a reset
		}
		if i%10_000 == 9_999 {
			a.Flush()
			snap := tab.Snapshot(now)
			u := snap.Unknown[UnknownTCP]
			want := uint64(i + 1)
			if u.Recv.Packets != want || u.EverRecv.Packets != want || u.Recv.Bytes != 60*want || u.Sent.Packets < prev.Sent.Packets {
				t.Fatalf("after %d packets: unknown TCP %+v (before %+v)", want, u, prev)
			}
			if entries, flows := entriesOf(tab), tab.Len(); entries > 640 || snap.Evictions+uint64(flows) != snap.NewFlows || flows != u.Flows {
				t.Fatalf("%d entries, %d flows (%d in the row), %d evicted of %d", entries, flows, u.Flows, snap.Evictions, snap.NewFlows)
			}
			prev = u
		}
	}
	if expired := tab.Sweep(n*20_000+100*second, second); tab.Len() != 0 || expired == 0 {
		t.Fatalf("after the sweep: %d flows, %d expired", tab.Len(), expired)
	}
	snap := tab.Snapshot(n*20_000 + 100*second)
	u := snap.Unknown[UnknownTCP]
	if u.Recv != prev.Recv || u.Sent != prev.Sent || u.Flows != 0 || u.Retired.Recv != prev.Recv || u.Retired.Flows != snap.NewFlows {
		t.Errorf("after the sweep: unknown TCP %+v; before %+v", u, prev)
	}
}

// TestFloodPathAllocatesNothing: past the cap, a flood's new flows cost
// no allocation.
func TestFloodPathAllocatesNothing(t *testing.T) {
	tab := New(Config{})
	a := tab.NewAdder()
	var k flow.Key
	state := uint64(88172645463325252)
	now := int64(0)
	add := func() {
		floodKey(&state, &k)
		now += 20_000
		a.AddSeen(&k, false, false, 60, now, "eth0")
	}
	for range 2 * DefaultMaxFlows {
		add()
	}
	least := allocs.Least(5, 10, func() {
		for range 1000 {
			add()
		}
	})
	if least != 0 {
		t.Errorf("1,000 flood packets past the cap allocate %v times, want 0", least)
	}
}

package conntable

import (
	"testing"

	"hogs/internal/flow"
)

// TestClassify: a flow Classify calls Elsewhere counts nowhere (not in
// the unknown rows, not retired when it leaves, never given an owner); a
// Forwarded one is Config.Forwarded's from its first packet and counts
// only what it received; a Local one is unknown until resolved. The
// Adder's held runs obey the same rules.
func TestClassify(t *testing.T) {
	const fwd = flow.Owner(7)
	local, elsewhere, forwarded := key("10.0.0.1:1000", "10.0.0.2:80"), key("10.9.0.2:1000", "1.1.1.1:80"), key("192.0.2.1:1000", "198.51.100.1:80")
	classes := map[flow.Key]Class{elsewhere: Elsewhere, forwarded: Forwarded}
	calls := 0
	tab := New(Config{Forwarded: fwd, Classify: func(k flow.Key) Class { calls++; return classes[k] }})
	ad := tab.NewAdder()
	for i := range 10 {
		for _, k := range []flow.Key{local, elsewhere, forwarded} {
			ad.AddSeen(&k, i%2 == 0, false, 100, int64(i)*second/10, "br0")
			ad.AddSeen(&k, i%2 == 0, false, 100, int64(i)*second/10, "br0") // held
		}
	}
	ad.Flush()
	if calls != 3 {
		t.Errorf("Classify called %d times, want once per flow (3)", calls)
	}
	if tab.SetOwner(elsewhere, 3) != true || tab.SetOwner(forwarded, 3) != true {
		t.Fatal("SetOwner: flows not in the table")
	}
	snap := tab.Snapshot(second)
	u := snap.Unknown[UnknownTCP]
	if u.Sent.Bytes != 1000 || u.Recv.Bytes != 1000 || u.Flows != 1 {
		t.Errorf("unknown: sent %d recv %d flows %d, want 1000 1000 1 (the local flow only)", u.Sent.Bytes, u.Recv.Bytes, u.Flows)
	}
	if len(snap.Flows) != 1 {
		t.Fatalf("owned flows %+v, want the forwarded one only", snap.Flows)
	}
	f := snap.Flows[0]
	if f.Key != forwarded || f.Owner != fwd || f.Sent.Bytes != 0 || f.Recv.Bytes != 1000 {
		t.Errorf("forwarded flow %v owner %d sent %d recv %d, want owner %d, 0 sent, 1000 received", f.Key, f.Owner, f.Sent.Bytes, f.Recv.Bytes, fwd)
	}
	if snap.Elsewhere != 1 {
		t.Errorf("Elsewhere = %d, want 1", snap.Elsewhere)
	}
	// Expired: the forwarded flow's totals stay with its owner, the
	// elsewhere flow leaves nothing.
	tab.Sweep(100*second, second)
	snap = tab.Snapshot(100 * second)
	if len(snap.Retired) != 1 || snap.Retired[fwd].Recv.Bytes != 1000 || snap.Retired[fwd].Sent.Bytes != 0 {
		t.Errorf("retired %+v, want only owner %d with 1000 received", snap.Retired, fwd)
	}
	if u := snap.Unknown[UnknownTCP]; u.EverSent.Bytes != 1000 || u.EverRecv.Bytes != 1000 {
		t.Errorf("unknown ever %d/%d, want 1000/1000", u.EverSent.Bytes, u.EverRecv.Bytes)
	}
}

// TestClassifyBeforeProbation: in a table full enough that new received
// flows go on probation (whose bytes count in the unknown rows), a flow
// Classify calls Forwarded or Elsewhere still gets its entry and its class
// at its first packet: a flood on a router or a container host does not
// move forwarded or container traffic into the unknown rows.
func TestClassifyBeforeProbation(t *testing.T) {
	const fwd = flow.Owner(7)
	elsewhere, forwarded := key("10.9.0.2:1000", "1.1.1.1:80"), key("192.0.2.1:1000", "198.51.100.1:80")
	classes := map[flow.Key]Class{elsewhere: Elsewhere, forwarded: Forwarded}
	tab := fullTableOf(t, Config{MaxFlows: 64, Forwarded: fwd, Classify: func(k flow.Key) Class { return classes[k] }})
	// A received local flow goes on probation: the rule this test relies on.
	probe := key("10.1.0.1:9", "203.0.113.9:4444")
	tab.Add(probe, false, 60, 0, "eth0")
	if inMap(tab, probe) {
		t.Fatal("a received local flow in a full table got an entry: probation is off, the test proves nothing")
	}
	before := tab.Snapshot(second).Unknown[UnknownTCP]
	tab.Add(forwarded, false, 100, 0, "eth0")
	tab.Add(elsewhere, false, 100, 0, "br0")
	if !inMap(tab, forwarded) || !inMap(tab, elsewhere) {
		t.Fatalf("forwarded in map %v, elsewhere in map %v: want both entries", inMap(tab, forwarded), inMap(tab, elsewhere))
	}
	snap := tab.Snapshot(second)
	if u := snap.Unknown[UnknownTCP]; u.EverRecv.Bytes != before.EverRecv.Bytes {
		t.Errorf("unknown received %d bytes, %d before: forwarded or elsewhere bytes went to the unknown row", u.EverRecv.Bytes, before.EverRecv.Bytes)
	}
	var got uint64
	for _, f := range snap.Flows {
		if f.Owner == fwd {
			got += f.Recv.Bytes
		}
	}
	if got != 100 {
		t.Errorf("forwarded row received %d bytes, want 100", got)
	}
}

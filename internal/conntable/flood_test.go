package conntable

import (
	"bytes"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"hogs/internal/flow"
)

// floodKey is the i-th packet of a random-tuple flood: every packet a new
// flow (xorshift over the remote address and both ports).
func floodKey(state *uint64, k *flow.Key) {
	x := *state
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*state = x
	k.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), uint16(x))
	k.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(x >> 16), byte(x >> 24), byte(x >> 32), byte(x >> 40)}), uint16(x>>48))
	k.Proto = flow.TCP
}

// TestFloodMemoryBounded pushes millions of random tuples through an
// Adder (half of them completing a handshake), with a refresh's Snapshot and Sweep every 50,000 packets (a
// second of the flood), and checks the table stays at its cap and
// the Go heap bounded: the default cap with room for the ring and the rest
// of hogs under 128 MiB resident.
func TestFloodMemoryBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("the flood takes seconds, minutes under -race or with -short; memory is measured without")
	}
	tab := New(Config{})
	a := tab.NewAdder()
	var k flow.Key
	state := uint64(88172645463325252)
	var peak uint64
	var ms runtime.MemStats
	const packets = 3_000_000
	for i := range packets {
		floodKey(&state, &k)
		now := int64(i) * 20_000 // 50,000 packets a second
		a.AddSeen(&k, false, false, 60, now, "eth0")
		if i%2 == 0 {
			// Half the flows complete a handshake (this host answers,
			// the peer answers back): they get entries, which fill the
			// cap while the others fill the probation slots, the most
			// memory the table can take.
			a.AddSeen(&k, true, false, 60, now, "eth0")
			a.AddSeen(&k, false, false, 60, now, "eth0")
		}
		if i%50_000 == 49_999 {
			a.Flush()
			snap := tab.Snapshot(now)
			tab.Sweep(now, 50*second)
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapSys-ms.HeapReleased)
			if u := snap.Unknown[UnknownTCP]; len(u.Largest) > UnknownDetail || len(snap.Flows) != 0 {
				t.Fatalf("snapshot copies %d unknown flows, %d owned", len(u.Largest), len(snap.Flows))
			}
		}
	}
	entries := 0
	for i := range tab.shards {
		entries += len(tab.shards[i].flows)
	}
	if limit := tab.maxPerShard * shardCount; entries > limit || limit > DefaultMaxFlows+shardCount {
		t.Errorf("%d flows with an entry after the flood, cap %d (%d asked for)", entries, limit, DefaultMaxFlows)
	}
	if n, limit := tab.Len()-entries, shardCount*maxProbeSlots; n > limit {
		t.Errorf("%d flows on probation, %d slots", n, limit)
	}
	snap := tab.Snapshot(packets * 20_000)
	if u, want := snap.Unknown[UnknownTCP], uint64(packets+packets/2); u.Recv.Packets != want || u.Recv.Bytes != want*60 || u.Sent.Packets != packets/2 {
		t.Errorf("unknown TCP received %+v, sent %+v; want %d and %d packets of 60 bytes", u.Recv, u.Sent, want, packets/2)
	}
	t.Logf("%d flows, %d evicted; peak heap in use by the runtime %.1f MiB; the test process's %s", tab.Len(), snap.Evictions, float64(peak)/(1<<20), peakRSS())
	if peak > heapBudget {
		t.Errorf("heap peaked at %.1f MiB, budget %d MiB", float64(peak)/(1<<20), heapBudget>>20)
	}
}

// heapBudget is the table's share of the 128 MiB: the rest is the 16 MiB
// ring, the binary, stacks and the views (hogs's resident memory under
// make bench-flood, whose flood leaves the table at a few MiB: 40 MiB).
// The cap's entries take about 75 MiB of heap at the peak (garbage
// collection's headroom included), the probation slots 7 MiB.
const heapBudget = 88 << 20

// peakRSS is the VmHWM line of /proc/self/status (peak resident memory), or
// a note where there is none.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "peak RSS unknown here"
	}
	for line := range bytes.Lines(b) {
		if bytes.HasPrefix(line, []byte("VmHWM:")) {
			return string(bytes.Join(bytes.Fields(line), []byte(" ")))
		}
	}
	return "peak RSS unknown here"
}

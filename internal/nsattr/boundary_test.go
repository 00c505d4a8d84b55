//go:build linux

package nsattr

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"hogs/internal/conntable"
	"hogs/internal/flow"
)

// fakeTracker answers from a table; errs fail the lookup.
type fakeTracker struct {
	class map[flow.Key]conntable.Class
	err   error
	asked int
}

func (f *fakeTracker) Classify(k flow.Key) (conntable.Class, error) {
	f.asked++
	return f.class[k], f.err
}

func tcp(local, remote string) flow.Key {
	return flow.Key{Proto: flow.TCP, Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote)}
}

// The host: bridge 10.90.0.1/24 to containers 10.90.0.2 and .3, uplink
// 192.168.90.1/24 to the remote 192.168.90.2, masquerading; a routed
// client 10.91.0.2 behind a second uplink.
func TestBoundaryClassify(t *testing.T) {
	const self = 4026531840
	masq := tcp("192.168.90.1:40001", "192.168.90.2:7000") // the uplink copy of 10.90.0.2:5555's connection
	dnat := tcp("192.168.90.1:8080", "192.168.90.2:41000") // a port forward to 10.90.0.3:80
	tr := &fakeTracker{class: map[flow.Key]conntable.Class{masq: conntable.Elsewhere, dnat: conntable.Elsewhere}}
	b := NewBoundary(BoundaryConfig{Self: self, Tracker: tr})
	host := []netip.Prefix{netip.MustParsePrefix("10.90.0.1/24"), netip.MustParsePrefix("192.168.90.1/24"), netip.MustParsePrefix("10.91.0.1/24")}
	ctrs := []netip.Prefix{netip.MustParsePrefix("10.90.0.2/24"), netip.MustParsePrefix("10.90.0.3/24"), netip.MustParsePrefix("127.0.0.1/8")}
	b.SetAddrs(host, ctrs, nil, true)
	inCtr := tcp("10.90.0.2:5555", "192.168.90.2:7000")
	inCtr.NetNS = 4026532001
	tests := []struct {
		name  string
		k     flow.Key
		want  conntable.Class
		asked bool
	}{
		{"a container's flow, tagged at its veth", inCtr, conntable.Local, false},
		{"the bridge's copy of a container's flow out", tcp("192.168.90.2:7000", "10.90.0.2:5555"), conntable.Elsewhere, false},
		{"the bridge's copy of a port forward in", tcp("192.168.90.2:41000", "10.90.0.3:80"), conntable.Elsewhere, false},
		{"the masqueraded uplink copy", masq, conntable.Elsewhere, true},
		{"the port forward's uplink copy", dnat, conntable.Elsewhere, true},
		{"a host process to a container", tcp("10.90.0.1:33000", "10.90.0.2:80"), conntable.Local, true},
		{"a host process to the remote", tcp("192.168.90.1:33001", "192.168.90.2:7000"), conntable.Local, true},
		{"routed only", tcp("192.168.90.2:7000", "10.91.0.2:40000"), conntable.Forwarded, false},
		{"routed only, the other copy", tcp("10.91.0.2:40000", "192.168.90.2:7000"), conntable.Forwarded, false},
		{"subnet broadcast", tcp("10.90.0.255:67", "10.90.0.2:68"), conntable.Local, true},
		{"limited broadcast", tcp("255.255.255.255:67", "10.90.0.2:68"), conntable.Local, false},
		{"multicast", tcp("224.0.0.251:5353", "10.91.0.2:5353"), conntable.Local, false},
		{"loopback", tcp("127.0.0.1:80", "127.0.0.1:9000"), conntable.Local, false},
		{"own namespace by inode", func() flow.Key { k := tcp("192.168.90.2:7000", "10.91.0.2:40000"); k.NetNS = self; return k }(), conntable.Forwarded, false},
	}
	for _, tt := range tests {
		before := tr.asked
		k := tt.k
		if got := b.Classify(k); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		if asked := tr.asked > before; asked != tt.asked {
			t.Errorf("%s: tracker asked %v, want %v", tt.name, asked, tt.asked)
		}
	}
	if !b.IsLocal(0, netip.MustParseAddr("::ffff:10.90.0.1")) || b.IsLocal(0, netip.MustParseAddr("10.90.0.2")) || b.IsLocal(7, netip.MustParseAddr("10.90.0.1")) {
		t.Error("IsLocal wrong")
	}
	if !b.IsContainer(0, netip.MustParseAddr("10.90.0.3")) || b.IsContainer(0, netip.MustParseAddr("127.0.0.1")) || b.IsContainer(0, netip.MustParseAddr("10.90.0.1")) {
		t.Error("IsContainer wrong")
	}
	// A host that does not forward: what no socket here has is another
	// hosts' traffic (a promiscuous capture), not forwarded.
	b.SetAddrs(host, ctrs, nil, false)
	if k := tcp("192.168.90.2:7000", "10.91.0.2:40000"); b.Classify(k) != conntable.Local {
		t.Error("without forwarding, a foreign flow is not Local")
	}
	if before, k := tr.asked, masq; b.Classify(k) != conntable.Local || tr.asked != before {
		t.Error("without forwarding, the tracker is asked (there can be no NATed copy)")
	}
	if k := tcp("192.168.90.2:7000", "10.90.0.2:5555"); b.Classify(k) != conntable.Elsewhere {
		t.Error("without forwarding, a container's bridge copy is not Elsewhere")
	}
	// A container just started, its namespace not read yet: its address
	// is in a container bridge's subnet.
	b.SetAddrs(host, ctrs, []netip.Prefix{netip.MustParsePrefix("10.90.0.1/24")}, true)
	if k := tcp("192.168.90.2:7000", "10.90.0.9:5555"); b.Classify(k) != conntable.Elsewhere || !b.IsContainer(0, netip.MustParseAddr("10.90.0.9")) {
		t.Error("an address in a container bridge's subnet is not a container's")
	}
	if b.IsContainer(0, netip.MustParseAddr("10.90.0.1")) || b.IsContainer(0, netip.MustParseAddr("10.91.0.9")) {
		t.Error("the host's own address, or one outside the subnet, taken for a container's")
	}
}

// The tracker is asked at most TrackerRate times a second; its failure
// is said once, and the flow is what it answered.
func TestBoundaryTrackerBudget(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := &fakeTracker{err: errors.New("operation not permitted")}
	var log strings.Builder
	b := NewBoundary(BoundaryConfig{Tracker: tr, TrackerRate: 3, Log: &log, Now: func() time.Time { return now }})
	b.SetAddrs([]netip.Prefix{netip.MustParsePrefix("192.168.90.1/24")}, nil, nil, true)
	k := tcp("192.168.90.1:1", "192.168.90.2:2")
	for range 10 {
		b.Classify(k)
	}
	if tr.asked != 3 || b.Asked() != 3 {
		t.Errorf("asked %d (%d counted) in one second, want 3", tr.asked, b.Asked())
	}
	now = now.Add(time.Second)
	b.Classify(k)
	if tr.asked != 4 {
		t.Errorf("asked %d after a second, want 4", tr.asked)
	}
	if n := strings.Count(log.String(), "\n"); n != 1 || !strings.Contains(log.String(), "CAP_NET_ADMIN") {
		t.Errorf("log %q: want one line naming CAP_NET_ADMIN", log.String())
	}
}

func TestBroadcast(t *testing.T) {
	for p, want := range map[string]string{"10.90.0.1/24": "10.90.0.255", "10.0.0.1/8": "10.255.255.255", "172.16.5.1/20": "172.16.15.255", "192.0.2.1/30": "192.0.2.3", "0.0.0.0/0": "255.255.255.255"} {
		if got := broadcast(netip.MustParsePrefix(p)); got.String() != want {
			t.Errorf("broadcast(%s) = %s, want %s", p, got, want)
		}
	}
}

// TestBoundaryConcurrent: flows are classified from several goroutines
// while the addresses are replaced (run under -race); each answer is one
// of the two address sets'.
func TestBoundaryConcurrent(t *testing.T) {
	b := NewBoundary(BoundaryConfig{Tracker: lockedTracker{}, TrackerRate: 1 << 30})
	host := []netip.Prefix{netip.MustParsePrefix("10.90.0.1/24")}
	a := []netip.Prefix{netip.MustParsePrefix("10.90.0.2/24")}
	b.SetAddrs(host, a, nil, true)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			k := tcp("192.168.1.1:80", "10.90.0.2:5000")
			for range 2000 {
				if c := b.Classify(k); c != conntable.Elsewhere && c != conntable.Forwarded {
					t.Errorf("class %v", c)
					return
				}
			}
		}()
	}
	for i := range 200 {
		if i%2 == 0 {
			b.SetAddrs(host, a, nil, true)
		} else {
			b.SetAddrs(host, nil, nil, true)
		}
	}
	for range 4 {
		<-done
	}
}

// lockedTracker is a Tracker safe for concurrent use.
type lockedTracker struct{}

func (lockedTracker) Classify(flow.Key) (conntable.Class, error) { return conntable.Local, nil }

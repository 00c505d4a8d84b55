//go:build linux

package nsattr

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"

	"hogs/internal/netlab"
	"hogs/internal/netns"
)

// TestContainerBridges: a bridge whose every port is a container's veth
// is a container bridge; one with a NIC among its ports, or with no
// container port, is not.
func TestContainerBridges(t *testing.T) {
	links := []netns.Link{
		{Index: 1, Name: "lo"},
		{Index: 2, Name: "eth0"},
		{Index: 3, Name: "docker0", Kind: "bridge"},
		{Index: 4, Name: "veth1", Kind: "veth", Master: 3, PeerNSID: 0},
		{Index: 5, Name: "veth2", Kind: "veth", Master: 3, PeerNSID: 1},
		{Index: 6, Name: "br-lan", Kind: "bridge"},
		{Index: 7, Name: "eth1", Master: 6},
		{Index: 8, Name: "veth3", Kind: "veth", Master: 6, PeerNSID: 2},
		{Index: 9, Name: "br-empty", Kind: "bridge"},
	}
	peers := map[int32]netns.Peer{4: {NetNS: 11}, 5: {NetNS: 12}, 8: {NetNS: 13}}
	got := slices.Sorted(maps.Keys(containerBridges(links, peers)))
	if !slices.Equal(got, []int32{3}) {
		t.Errorf("container bridges %v, want [3] (docker0)", got)
	}
	if b := Bridged(links); len(b) != 4 || b[0].Index != 4 || b[3].Index != 8 {
		t.Errorf("Bridged = %+v, want the four ports", b)
	}
}

// TestFollowerLive: in a host namespace bridging a container, a Follower
// finds the container behind its veth, reads the container's addresses
// and the bridge's subnet into the Boundary, and installs the veth's peer
// in the Source; Kick and Refresh may run at once (run under -race).
func TestFollowerLive(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	host, ctr := netlab.New(t), netlab.New(t)
	for _, args := range [][]string{{"link", "add", "br0", "type", "bridge"}, {"addr", "add", "10.205.0.1/24", "dev", "br0"}, {"link", "set", "br0", "up"},
		{"link", "add", "vA", "type", "veth", "peer", "name", "eth0", "netns", ctr}, {"link", "set", "vA", "master", "br0", "up"}} {
		netlab.IP(t, host, args...)
	}
	netlab.IP(t, ctr, "addr", "add", "10.205.0.2/24", "dev", "eth0")
	ctrIno, err := netns.InodeOf("/run/netns/" + ctr)
	if err != nil {
		t.Fatal(err)
	}
	var (
		sc *netns.Scanner
		f  *Follower
		b  *Boundary
	)
	netlab.Run(t, host, func() {
		if sc, err = netns.NewScanner(netns.Config{}); err != nil {
			t.Fatal(err)
		}
		b = NewBoundary(BoundaryConfig{Self: sc.Self()})
		if f, err = NewFollower(sc, b); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { f.Close(); sc.Close() })
	src := NewSource(&listSource{})
	f.Follow(src)
	list, err := sc.Scan(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			f.Kick()
		}
	}()
	for range 5 {
		if err := f.Refresh(list); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if !f.Behind(ctrIno) {
		t.Errorf("the container %d is not behind a bridged veth", ctrIno)
	}
	if !b.IsContainer(0, netip.MustParseAddr("10.205.0.2")) || !b.IsContainer(0, netip.MustParseAddr("10.205.0.77")) || !b.IsLocal(0, netip.MustParseAddr("10.205.0.1")) {
		t.Error("the container's address, the bridge's subnet or the host's address not known to the Boundary")
	}
	links := netlab.IP(t, host, "-o", "link", "show", "vA")
	var idx int
	fmt.Sscanf(links, "%d:", &idx)
	if got := src.peers.Load().lookup(idx); got != ctrIno {
		t.Errorf("vA (%d) tagged with namespace %d, want %d", idx, got, ctrIno)
	}
}

//go:build linux

package nsattr

import (
	"maps"
	"slices"
	"testing"

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

//go:build linux

package rawcap

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hogs/decode"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// verdict is what a plan says about one device, without its name and
// header length.
type verdict struct{ Selected, Count, CountTagged bool }

// The verdicts the plan rules produce.
var (
	notSelected    = verdict{}
	counted        = verdict{Selected: true, Count: true, CountTagged: true}
	untaggedOnly   = verdict{Selected: true, Count: true} // tagged traffic counted on a selected VLAN device
	countedOnUpper = verdict{Selected: true}              // counted on a selected master
)

// Hand-built device tables. Indexes are what a kernel could hand out.
var (
	hostDevices = []Device{
		{Index: 1, Name: "lo", Up: true, Loopback: true, HWType: arphrdLoopback},
		{Index: 2, Name: "eth0", Up: true, HWType: arphrdEther},
		{Index: 3, Name: "wlan0", Up: true, HWType: arphrdEther},
		{Index: 4, Name: "eth1", HWType: arphrdEther}, // down
		{Index: 5, Name: "wg0", Up: true, HWType: arphrdNone, Kind: "wireguard"},
	}
	bridgeDevices = []Device{
		{Index: 1, Name: "lo", Up: true, Loopback: true, HWType: arphrdLoopback},
		{Index: 2, Name: "eth0", Up: true, HWType: arphrdEther, Master: 4},
		{Index: 3, Name: "eth1", Up: true, HWType: arphrdEther, Master: 4},
		{Index: 4, Name: "br0", Up: true, HWType: arphrdEther, Kind: "bridge"},
	}
	// containerBridgeDevices: br0 with an uplink port and two host-side
	// veths whose peers are in container namespaces.
	containerBridgeDevices = []Device{
		{Index: 2, Name: "eth0", Up: true, HWType: arphrdEther, Master: 4},
		{Index: 4, Name: "br0", Up: true, HWType: arphrdEther, Kind: "bridge"},
		{Index: 5, Name: "vethA", Up: true, HWType: arphrdEther, Kind: "veth", Master: 4, PeerElsewhere: true},
		{Index: 6, Name: "vethB", Up: true, HWType: arphrdEther, Kind: "veth", Master: 4, PeerElsewhere: true},
	}
	bondDevices = []Device{
		{Index: 2, Name: "eth0", Up: true, HWType: arphrdEther, Master: 4},
		{Index: 3, Name: "eth1", Up: true, HWType: arphrdEther, Master: 4},
		{Index: 4, Name: "bond0", Up: true, HWType: arphrdEther, Kind: "bond"},
	}
	// bondInBridgeDevices stacks eth0 → bond0 → br0.
	bondInBridgeDevices = []Device{
		{Index: 2, Name: "eth0", Up: true, HWType: arphrdEther, Master: 4},
		{Index: 4, Name: "bond0", Up: true, HWType: arphrdEther, Kind: "bond", Master: 5},
		{Index: 5, Name: "br0", Up: true, HWType: arphrdEther, Kind: "bridge"},
	}
	vlanDevices = []Device{
		{Index: 2, Name: "eth0", Up: true, HWType: arphrdEther},
		{Index: 7, Name: "eth0.100", Up: true, HWType: arphrdEther, Kind: "vlan", Link: 2},
	}
	// qinqDevices stacks eth0.100.200 on eth0.100 on eth0.
	qinqDevices = []Device{
		{Index: 2, Name: "eth0", Up: true, HWType: arphrdEther},
		{Index: 7, Name: "eth0.100", Up: true, HWType: arphrdEther, Kind: "vlan", Link: 2},
		{Index: 8, Name: "eth0.100.200", Up: true, HWType: arphrdEther, Kind: "vlan", Link: 7},
	}
	// vlanPortDevices has a VLAN device that is itself a bridge port.
	vlanPortDevices = []Device{
		{Index: 2, Name: "eth0", Up: true, HWType: arphrdEther},
		{Index: 7, Name: "eth0.100", Up: true, HWType: arphrdEther, Kind: "vlan", Link: 2, Master: 9},
		{Index: 9, Name: "br100", Up: true, HWType: arphrdEther, Kind: "bridge"},
	}
	hugeIndexDevices = []Device{
		{Index: 1, Name: "lo", Up: true, Loopback: true, HWType: arphrdLoopback},
		{Index: 1 << 20, Name: "veth-huge", Up: true, HWType: arphrdEther, Master: 1<<20 + 1},
		{Index: 1<<20 + 1, Name: "br-huge", Up: true, HWType: arphrdEther, Kind: "bridge"},
		{Index: 1<<31 - 1, Name: "tun-max", Up: true, HWType: arphrdNone, Kind: "tun"},
	}
)

func TestSelectionPlan(t *testing.T) {
	tests := []struct {
		name string
		devs []Device
		sel  Selection
		want map[string]verdict // every device of devs
	}{
		{"default selection: up, not loopback", hostDevices, Selection{},
			map[string]verdict{"lo": notSelected, "eth0": counted, "wlan0": counted, "eth1": notSelected, "wg0": counted}},
		{"-a adds loopback and down devices", hostDevices, Selection{All: true},
			map[string]verdict{"lo": counted, "eth0": counted, "wlan0": counted, "eth1": counted, "wg0": counted}},
		{"named devices, even loopback and down", hostDevices, Selection{Names: []string{"lo", "eth1"}},
			map[string]verdict{"lo": counted, "eth0": notSelected, "wlan0": notSelected, "eth1": counted, "wg0": notSelected}},
		{"-a does not widen named devices", hostDevices, Selection{Names: []string{"wlan0"}, All: true},
			map[string]verdict{"lo": notSelected, "eth0": notSelected, "wlan0": counted, "eth1": notSelected, "wg0": notSelected}},
		{"named device that does not exist", hostDevices, Selection{Names: []string{"eth9"}},
			map[string]verdict{"lo": notSelected, "eth0": notSelected, "wlan0": notSelected, "eth1": notSelected, "wg0": notSelected}},

		{"bridge ports counted on the bridge", bridgeDevices, Selection{},
			map[string]verdict{"lo": notSelected, "eth0": countedOnUpper, "eth1": countedOnUpper, "br0": counted}},
		{"bridge port named alone is counted", bridgeDevices, Selection{Names: []string{"eth0"}},
			map[string]verdict{"lo": notSelected, "eth0": counted, "eth1": notSelected, "br0": notSelected}},
		{"bridge port named with its bridge", bridgeDevices, Selection{Names: []string{"eth0", "br0"}},
			map[string]verdict{"lo": notSelected, "eth0": countedOnUpper, "eth1": notSelected, "br0": counted}},
		{"bridge ports with -a", bridgeDevices, Selection{All: true},
			map[string]verdict{"lo": counted, "eth0": countedOnUpper, "eth1": countedOnUpper, "br0": counted}},

		{"container veths counted on the bridge without Boundaries", containerBridgeDevices, Selection{},
			map[string]verdict{"eth0": countedOnUpper, "br0": counted, "vethA": countedOnUpper, "vethB": countedOnUpper}},
		{"namespace boundaries count on the veth", containerBridgeDevices, Selection{Boundaries: true},
			map[string]verdict{"eth0": countedOnUpper, "br0": counted, "vethA": counted, "vethB": counted}},

		{"bond slaves counted on the bond", bondDevices, Selection{},
			map[string]verdict{"eth0": countedOnUpper, "eth1": countedOnUpper, "bond0": counted}},
		{"bond slaves named alone", bondDevices, Selection{Names: []string{"eth0", "eth1"}},
			map[string]verdict{"eth0": counted, "eth1": counted, "bond0": notSelected}},
		{"bond in bridge: all counted on the bridge", bondInBridgeDevices, Selection{},
			map[string]verdict{"eth0": countedOnUpper, "bond0": countedOnUpper, "br0": counted}},
		{"bond in bridge: slave and bridge named, bond not", bondInBridgeDevices, Selection{Names: []string{"eth0", "br0"}},
			map[string]verdict{"eth0": countedOnUpper, "bond0": notSelected, "br0": counted}},

		{"VLAN parent counts untagged only", vlanDevices, Selection{},
			map[string]verdict{"eth0": untaggedOnly, "eth0.100": counted}},
		{"VLAN parent named alone counts tagged too", vlanDevices, Selection{Names: []string{"eth0"}},
			map[string]verdict{"eth0": counted, "eth0.100": notSelected}},
		{"VLAN device whose parent is not selected", vlanDevices, Selection{Names: []string{"eth0.100"}},
			map[string]verdict{"eth0": notSelected, "eth0.100": counted}},
		{"stacked VLANs: tags counted on the top", qinqDevices, Selection{Names: []string{"eth0", "eth0.100.200"}},
			map[string]verdict{"eth0": untaggedOnly, "eth0.100": notSelected, "eth0.100.200": counted}},
		{"stacked VLANs, all selected", qinqDevices, Selection{},
			map[string]verdict{"eth0": untaggedOnly, "eth0.100": untaggedOnly, "eth0.100.200": counted}},
		{"VLAN device in a bridge", vlanPortDevices, Selection{},
			map[string]verdict{"eth0": untaggedOnly, "eth0.100": countedOnUpper, "br100": counted}},

		{"huge interface indexes", hugeIndexDevices, Selection{},
			map[string]verdict{"lo": notSelected, "veth-huge": countedOnUpper, "br-huge": counted, "tun-max": counted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := tt.sel.Plan(tt.devs)
			for _, d := range tt.devs {
				entry, ok := plan.Lookup(d.Index)
				if !ok {
					t.Errorf("Lookup(%d) (%s): not in plan", d.Index, d.Name)
					continue
				}
				got := verdict{Selected: entry.Selected, Count: entry.Count, CountTagged: entry.CountTagged}
				if want := tt.want[d.Name]; got != want {
					t.Errorf("%s: got %+v, want %+v", d.Name, got, want)
				}
				if entry.Name != d.Name || entry.LinkHeaderLen != d.LinkHeaderLen() {
					t.Errorf("Lookup(%d) = name %q, header %d; want %q, %d", d.Index, entry.Name, entry.LinkHeaderLen, d.Name, d.LinkHeaderLen())
				}
			}
			if len(tt.want) != len(tt.devs) {
				t.Fatalf("test table lists %d verdicts for %d devices", len(tt.want), len(tt.devs))
			}
		})
	}
}

func TestPlanLookupUnknownIndex(t *testing.T) {
	plan := Selection{}.Plan(hugeIndexDevices)
	for _, ifindex := range []int{-1, 0, 2, 3, 1<<16 - 1, 1 << 16, 1<<20 - 1, 1<<20 + 2, math.MaxInt} {
		if entry, ok := plan.Lookup(ifindex); ok {
			t.Errorf("Lookup(%d) = %+v, true; want not found", ifindex, entry)
		}
	}
	var nilPlan *Plan
	if _, ok := nilPlan.Lookup(1); ok {
		t.Error("nil Plan: Lookup(1) found a device")
	}
	if _, ok := (Selection{}).Plan(nil).Lookup(1); ok {
		t.Error("empty Plan: Lookup(1) found a device")
	}
}

func TestPlanDevices(t *testing.T) {
	devs := []Device{
		{Index: 3, Name: "eth1", Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}},
		{Index: 1, Name: "lo"},
		{Index: 2, Name: "eth0"},
		{Index: 2, Name: "eth0-duplicate"},
	}
	plan := Selection{All: true}.Plan(devs)
	devs[0].Name = "changed by the caller"
	devs[0].Addrs[0] = netip.MustParsePrefix("198.51.100.1/24")

	got := plan.Devices()
	var names []string
	for _, d := range got {
		names = append(names, d.Name)
	}
	if want := []string{"lo", "eth0", "eth1"}; !slices.Equal(names, want) {
		t.Fatalf("Devices() names = %q, want %q (sorted by index, first of a duplicate index kept)", names, want)
	}
	if want := netip.MustParsePrefix("192.0.2.1/24"); got[2].Addrs[0] != want {
		t.Errorf("the plan shares the caller's Addrs: got %v, want %v", got[2].Addrs[0], want)
	}
	got[2].Addrs[0] = netip.Prefix{}
	if again := plan.Devices(); again[2].Addrs[0] != netip.MustParsePrefix("192.0.2.1/24") {
		t.Error("Devices() returns the plan's own Addrs")
	}
}

func TestPlanLookupAllocations(t *testing.T) {
	plan := Selection{}.Plan(slices.Concat(hostDevices[1:], hugeIndexDevices))
	indexes := []int{1, 2, 3, 4, 5, 6, 1 << 20, 1<<20 + 1, 1<<31 - 1, 1<<20 + 7, -1}
	var found int
	lookups := func() {
		for _, ifindex := range indexes {
			if entry, ok := plan.Lookup(ifindex); ok && entry.Count {
				found++
			}
		}
	}
	fewest := -1.0
	for range 5 {
		allocs := testing.AllocsPerRun(1000, lookups)
		if fewest < 0 || allocs < fewest {
			fewest = allocs
		}
	}
	if fewest != 0 {
		t.Errorf("Plan.Lookup allocates: %v allocations per %d lookups", fewest, len(indexes))
	}
	if found == 0 {
		t.Error("no lookup found a counted device")
	}
}

func BenchmarkPlanLookup(b *testing.B) {
	plan := Selection{}.Plan(slices.Concat(bridgeDevices, hugeIndexDevices[1:]))
	indexes := []int{2, 4, 1 << 20, 3, 99}
	var counted int
	for i := 0; b.Loop(); i++ {
		if entry, ok := plan.Lookup(indexes[i%len(indexes)]); ok && entry.Count {
			counted++
		}
	}
	_ = counted
}

func TestSelectionResolve(t *testing.T) {
	devs := []Device{{Index: 2, Name: "wlan0"}, {Index: 1, Name: "lo"}, {Index: 3, Name: "eth0"}}
	tests := []struct {
		name    string
		sel     Selection
		devs    []Device
		wantErr string // "" for success
	}{
		{"default set", Selection{}, devs, ""},
		{"default set, no devices", Selection{All: true}, nil, ""},
		{"existing names", Selection{Names: []string{"eth0", "lo", "eth0"}}, devs, ""},
		{"unknown name", Selection{Names: []string{"eth9"}}, devs,
			`unknown device "eth9"; devices: eth0, lo, wlan0`},
		{"unknown among known", Selection{Names: []string{"eth0", "eth9", "wlan0"}}, devs,
			`unknown device "eth9"; devices: eth0, lo, wlan0`},
		{"several unknown, each once", Selection{Names: []string{"eth9", "eth0", "ppp0", "eth9"}}, devs,
			`unknown devices "eth9", "ppp0"; devices: eth0, lo, wlan0`},
		{"names are exact", Selection{Names: []string{"ETH0"}}, devs,
			`unknown device "ETH0"; devices: eth0, lo, wlan0`},
		{"no devices at all", Selection{Names: []string{"eth0"}}, nil,
			`unknown device "eth0"; devices: (none)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sel.Resolve(tt.devs)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Resolve: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("Resolve error = %v, want %s", err, tt.wantErr)
			}
		})
	}
}

func TestDeviceLinkLayer(t *testing.T) {
	tests := []struct {
		device          Device
		wantHeaderLen   int
		wantDescription string
	}{
		{Device{Name: "eth0", HWType: arphrdEther}, 14, "Ethernet link detected"},
		{Device{Name: "lo", HWType: arphrdLoopback, Loopback: true}, 0, "Ethernet link detected"},
		{Device{Name: "tap0", HWType: arphrdEther, Kind: "tun"}, 14, "Ethernet link detected"},
		{Device{Name: "ppp0", HWType: arphrdPPP}, 0, "PPP link detected"},
		{Device{Name: "tun0", HWType: arphrdNone, Kind: "tun"}, 0, "Linux Cooked Socket link detected"},
		{Device{Name: "wg0", HWType: arphrdNone, Kind: "wireguard"}, 0, "Linux Cooked Socket link detected"},
		{Device{Name: "tun1", HWType: unix.ARPHRD_RAWIP, Kind: "tun"}, 0, "Linux Cooked Socket link detected"},
		{Device{Name: "ipip0", HWType: unix.ARPHRD_TUNNEL, Kind: "ipip"}, 0, "No PPP or Ethernet link: 768"},
		{Device{Name: "gre0", HWType: unix.ARPHRD_IPGRE, Kind: "gre"}, 0, "No PPP or Ethernet link: 778"},
	}
	for _, tt := range tests {
		if got := tt.device.LinkHeaderLen(); got != tt.wantHeaderLen {
			t.Errorf("%s (ARPHRD %d): LinkHeaderLen() = %d, want %d", tt.device.Name, tt.device.HWType, got, tt.wantHeaderLen)
		}
		if got := tt.device.LinkDescription(); got != tt.wantDescription {
			t.Errorf("%s (ARPHRD %d): LinkDescription() = %q, want %q", tt.device.Name, tt.device.HWType, got, tt.wantDescription)
		}
	}
	// The portable constants must match the kernel's.
	for _, c := range []struct{ ours, kernel int }{
		{arphrdEther, unix.ARPHRD_ETHER}, {arphrdPPP, unix.ARPHRD_PPP},
		{arphrdLoopback, unix.ARPHRD_LOOPBACK}, {arphrdNone, unix.ARPHRD_NONE},
	} {
		if c.ours != c.kernel {
			t.Errorf("ARPHRD constant %d, kernel's is %d", c.ours, c.kernel)
		}
	}
}

// netlinkMessage builds one netlink message for the parser tests.
func netlinkMessage(msgType, flags uint16, seq uint32, body ...[]byte) []byte {
	payload := slices.Concat(body...)
	msg := make([]byte, unix.NLMSG_HDRLEN, nlAlign(unix.NLMSG_HDRLEN+len(payload)))
	binary.NativeEndian.PutUint32(msg[0:4], uint32(unix.NLMSG_HDRLEN+len(payload)))
	binary.NativeEndian.PutUint16(msg[4:6], msgType)
	binary.NativeEndian.PutUint16(msg[6:8], flags)
	binary.NativeEndian.PutUint32(msg[8:12], seq)
	msg = append(msg, payload...)
	return append(msg, make([]byte, cap(msg)-len(msg))...)
}

// netlinkAttr builds one attribute, padded.
func netlinkAttr(typ uint16, value []byte) []byte {
	attr := make([]byte, unix.SizeofRtAttr, nlAlign(unix.SizeofRtAttr+len(value)))
	binary.NativeEndian.PutUint16(attr[0:2], uint16(unix.SizeofRtAttr+len(value)))
	binary.NativeEndian.PutUint16(attr[2:4], typ)
	attr = append(attr, value...)
	return append(attr, make([]byte, cap(attr)-len(attr))...)
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func ifinfomsg(hwType uint16, index int32, flags uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint16(b[2:4], hwType)
	binary.NativeEndian.PutUint32(b[4:8], uint32(index))
	binary.NativeEndian.PutUint32(b[8:12], flags)
	return b
}

func ifaddrmsg(family, prefixLen uint8, index uint32) []byte {
	b := make([]byte, unix.SizeofIfAddrmsg)
	b[0], b[1] = family, prefixLen
	binary.NativeEndian.PutUint32(b[4:8], index)
	return b
}

func TestNetlinkParseLink(t *testing.T) {
	linkInfo := func(kind string) []byte {
		return netlinkAttr(unix.IFLA_LINKINFO|unix.NLA_F_NESTED, netlinkAttr(unix.IFLA_INFO_KIND, []byte(kind+"\x00")))
	}
	tests := []struct {
		name string
		body []byte
		want Device
	}{
		{"vlan on a parent",
			slices.Concat(ifinfomsg(arphrdEther, 7, unix.IFF_UP|unix.IFF_BROADCAST), netlinkAttr(unix.IFLA_IFNAME, []byte("eth0.100\x00")),
				netlinkAttr(unix.IFLA_LINK, u32(2)), linkInfo("vlan"), netlinkAttr(unix.IFLA_MASTER, u32(9))),
			Device{Index: 7, Name: "eth0.100", Up: true, HWType: arphrdEther, Kind: "vlan", Link: 2, Master: 9}},
		{"plain NIC: IFLA_LINK is itself",
			slices.Concat(ifinfomsg(arphrdEther, 2, 0), netlinkAttr(unix.IFLA_IFNAME, []byte("eth0\x00")), netlinkAttr(unix.IFLA_LINK, u32(2))),
			Device{Index: 2, Name: "eth0", HWType: arphrdEther}},
		{"veth: IFLA_LINK is the peer",
			slices.Concat(ifinfomsg(arphrdEther, 3, unix.IFF_UP), netlinkAttr(unix.IFLA_IFNAME, []byte("veth0\x00")), netlinkAttr(unix.IFLA_LINK, u32(4)), linkInfo("veth")),
			Device{Index: 3, Name: "veth0", Up: true, HWType: arphrdEther, Kind: "veth"}},
		{"veth whose peer is in another namespace",
			slices.Concat(ifinfomsg(arphrdEther, 3, unix.IFF_UP), netlinkAttr(unix.IFLA_IFNAME, []byte("veth0\x00")), netlinkAttr(unix.IFLA_LINK, u32(4)),
				netlinkAttr(unix.IFLA_LINK_NETNSID, u32(1)), linkInfo("veth")),
			Device{Index: 3, Name: "veth0", Up: true, HWType: arphrdEther, Kind: "veth", PeerElsewhere: true}},
		{"macvlan whose parent is in another namespace",
			slices.Concat(ifinfomsg(arphrdEther, 5, 0), netlinkAttr(unix.IFLA_IFNAME, []byte("mv0\x00")), netlinkAttr(unix.IFLA_LINK, u32(2)),
				netlinkAttr(unix.IFLA_LINK_NETNSID, u32(0)), linkInfo("macvlan")),
			Device{Index: 5, Name: "mv0", HWType: arphrdEther, Kind: "macvlan"}},
		{"loopback",
			slices.Concat(ifinfomsg(arphrdLoopback, 1, unix.IFF_UP|unix.IFF_LOOPBACK|unix.IFF_RUNNING), netlinkAttr(unix.IFLA_IFNAME, []byte("lo\x00"))),
			Device{Index: 1, Name: "lo", Up: true, Loopback: true, HWType: arphrdLoopback}},
	}
	for _, tt := range tests {
		got, err := parseLink(tt.body)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !devicesEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	for _, body := range [][]byte{
		ifinfomsg(arphrdEther, 2, 0)[:10],
		slices.Concat(ifinfomsg(arphrdEther, 2, 0), []byte{200, 0, 3, 0, 'e'}),                   // attribute longer than the message
		slices.Concat(ifinfomsg(arphrdEther, 2, 0), []byte{2, 0, 3, 0}),                          // attribute shorter than its header
		slices.Concat(ifinfomsg(arphrdEther, 2, 0), netlinkAttr(unix.IFLA_MASTER, []byte{1, 2})), // short u32
	} {
		if _, err := parseLink(body); !errors.Is(err, errMalformed) {
			t.Errorf("parseLink(%x) error = %v, want %v", body, err, errMalformed)
		}
	}
}

func TestNetlinkParseAddr(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		wantIndex int
		want      string // "" when the address is skipped
	}{
		{"IPv4", slices.Concat(ifaddrmsg(unix.AF_INET, 24, 2), netlinkAttr(unix.IFA_ADDRESS, []byte{192, 0, 2, 1}), netlinkAttr(unix.IFA_LOCAL, []byte{192, 0, 2, 1})),
			2, "192.0.2.1/24"},
		{"IPv4 point-to-point: local, not peer", slices.Concat(ifaddrmsg(unix.AF_INET, 32, 5), netlinkAttr(unix.IFA_ADDRESS, []byte{10, 0, 0, 2}), netlinkAttr(unix.IFA_LOCAL, []byte{10, 0, 0, 1})),
			5, "10.0.0.1/32"},
		{"IPv6", slices.Concat(ifaddrmsg(unix.AF_INET6, 64, 3), netlinkAttr(unix.IFA_ADDRESS, netip.MustParseAddr("2001:db8::1").AsSlice())),
			3, "2001:db8::1/64"},
		{"other family", slices.Concat(ifaddrmsg(unix.AF_MCTP, 0, 3), netlinkAttr(unix.IFA_LOCAL, []byte{8})), 0, ""},
	}
	for _, tt := range tests {
		index, prefix, ok, err := parseAddr(tt.body)
		switch {
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case ok != (tt.want != ""):
			t.Errorf("%s: ok = %v", tt.name, ok)
		case ok && (index != tt.wantIndex || prefix.String() != tt.want):
			t.Errorf("%s: got %d %v, want %d %s", tt.name, index, prefix, tt.wantIndex, tt.want)
		}
	}
	if _, _, _, err := parseAddr([]byte{2, 24, 0}); !errors.Is(err, errMalformed) {
		t.Errorf("short ifaddrmsg: error = %v, want %v", err, errMalformed)
	}
}

func TestNetlinkDumpReply(t *testing.T) {
	const seq = 42
	link := func(index int32) []byte {
		return netlinkMessage(unix.RTM_NEWLINK, unix.NLM_F_MULTI, seq, ifinfomsg(arphrdEther, index, 0))
	}
	done := func(flags uint16, code int32) []byte {
		return netlinkMessage(unix.NLMSG_DONE, unix.NLM_F_MULTI|flags, seq, u32(uint32(code)))
	}
	errorMsg := func(code int32) []byte {
		return netlinkMessage(unix.NLMSG_ERROR, 0, seq, u32(uint32(code)), make([]byte, unix.NLMSG_HDRLEN))
	}
	stale := netlinkMessage(unix.RTM_NEWLINK, unix.NLM_F_MULTI, seq-1, ifinfomsg(arphrdEther, 99, 0))
	tests := []struct {
		name            string
		datagrams       [][]byte
		wantIndexes     []int32
		wantInterrupted bool
		wantErr         error // nil, errMalformed, or a syscall.Errno
	}{
		{"multi-part answer", [][]byte{slices.Concat(link(1), link(2)), link(3), done(0, 0)}, []int32{1, 2, 3}, false, nil},
		{"answer and done in one datagram", [][]byte{slices.Concat(link(1), done(0, 0))}, []int32{1}, false, nil},
		{"old DONE without a result", [][]byte{link(1), netlinkMessage(unix.NLMSG_DONE, 0, seq)}, []int32{1}, false, nil},
		{"stale messages skipped", [][]byte{slices.Concat(stale, link(1)), stale, done(0, 0)}, []int32{1}, false, nil},
		{"interrupted", [][]byte{link(1), netlinkMessage(unix.RTM_NEWLINK, unix.NLM_F_MULTI|unix.NLM_F_DUMP_INTR, seq, ifinfomsg(1, 2, 0)), done(unix.NLM_F_DUMP_INTR, 0)},
			[]int32{1, 2}, true, nil},
		{"noop skipped", [][]byte{slices.Concat(netlinkMessage(unix.NLMSG_NOOP, 0, seq), link(1)), done(0, 0)}, []int32{1}, false, nil},
		{"error reply", [][]byte{errorMsg(-int32(unix.EBUSY))}, nil, false, unix.EBUSY},
		{"failed dump", [][]byte{link(1), done(0, -int32(unix.EMSGSIZE))}, []int32{1}, false, unix.EMSGSIZE},
		{"acknowledgement ends", [][]byte{link(1), errorMsg(0)}, []int32{1}, false, nil},
		{"truncated header", [][]byte{link(1)[:10]}, nil, false, errMalformed},
		{"length beyond datagram", [][]byte{link(1)[:unix.NLMSG_HDRLEN+4]}, nil, false, errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var indexes []int32
			reply := dumpReply{seq: seq, handle: func(msgType uint16, body []byte) error {
				d, err := parseLink(body)
				indexes = append(indexes, int32(d.Index))
				return err
			}}
			var finished bool
			var err error
			for i, datagram := range tt.datagrams {
				if finished {
					t.Fatalf("answer ended before datagram %d", i)
				}
				finished, err = reply.add(datagram)
				if err != nil {
					break
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !finished {
				t.Fatal("answer did not end")
			}
			if !slices.Equal(indexes, tt.wantIndexes) {
				t.Errorf("handled indexes %v, want %v", indexes, tt.wantIndexes)
			}
			if reply.interrupted != tt.wantInterrupted {
				t.Errorf("interrupted = %v, want %v", reply.interrupted, tt.wantInterrupted)
			}
		})
	}

	// A failing handler does not end the answer early: the rest is read and
	// the first error returned.
	handlerErr := errors.New("bad link")
	calls := 0
	reply := dumpReply{seq: seq, handle: func(uint16, []byte) error { calls++; return handlerErr }}
	if finished, err := reply.add(slices.Concat(link(1), link(2))); finished || err != nil {
		t.Fatalf("add = %v, %v", finished, err)
	}
	if finished, err := reply.add(done(0, 0)); !finished || err != nil {
		t.Fatalf("add(DONE) = %v, %v", finished, err)
	}
	if calls != 1 || reply.handleErr != handlerErr {
		t.Errorf("handler called %d times, handleErr %v; want once, %v", calls, reply.handleErr, handlerErr)
	}
}

// devicesEqual compares two devices field by field.
func devicesEqual(a, b Device) bool {
	return a.Index == b.Index && a.Name == b.Name && a.Up == b.Up && a.Loopback == b.Loopback &&
		a.HWType == b.HWType && a.Kind == b.Kind && a.Master == b.Master && a.Link == b.Link &&
		slices.Equal(a.Addrs, b.Addrs)
}

// TestNetlinkHostDevices reads the test's own namespace, which needs no
// privileges.
func TestNetlinkHostDevices(t *testing.T) {
	nl, err := OpenNetlink()
	if err != nil {
		t.Fatal(err)
	}
	devs, err := nl.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(devs, func(a, b Device) int { return cmp.Compare(a.Index, b.Index) }) {
		t.Errorf("devices not sorted by index: %+v", devs)
	}
	loopbacks := 0
	for i, d := range devs {
		if d.Name == "" || d.Index <= 0 || (i > 0 && devs[i-1].Index == d.Index) {
			t.Errorf("bad device %+v", d)
		}
		if d.Loopback {
			loopbacks++
		}
	}
	if loopbacks != 1 {
		t.Errorf("%d loopback devices in %+v, want 1", loopbacks, devs)
	}

	// Concurrent dumps share one socket.
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() {
			again, err := nl.Devices()
			if err == nil && len(again) == 0 {
				err = errors.New("no devices")
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Devices: %v", err)
		}
	}

	if err := nl.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case _, ok := <-nl.Changes():
		if ok {
			// A pending signal may precede the close.
			if _, ok := <-nl.Changes(); ok {
				t.Error("Changes still open after Close")
			}
		}
	case <-time.After(2 * time.Second):
		t.Error("Changes not closed within 2s of Close")
	}
	if _, err := nl.Devices(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Devices after Close: error = %v, want %v", err, os.ErrClosed)
	}
	if err := nl.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// wantDevice describes an expected device by names rather than indexes.
type wantDevice struct {
	name         string
	up, loopback bool
	hwType       uint16
	kind         string
	master, link string
	addrs        []string
}

// namespaceTopology builds, in ns, veth0 ⇄ veth1 with veth1 a port of br0,
// a macvlan mv0 and (if the kernel has 8021q) a VLAN veth0.100 on veth0, a
// tun device tun0 and a dummy device dummy0 (an ifb device ifb0 if the
// kernel lacks dummy), and returns what Devices should report. IPv6
// link-local addresses are turned off (addrgenmode none) so that the
// address lists are exact.
func namespaceTopology(t *testing.T, ns string) []wantDevice {
	ipCmd(t, ns, "link", "set", "lo", "up")
	ipCmd(t, ns, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
	ipCmd(t, ns, "link", "add", "br0", "type", "bridge")
	ipCmd(t, ns, "link", "set", "veth1", "master", "br0")
	ipCmd(t, ns, "link", "add", "link", "veth0", "name", "mv0", "type", "macvlan", "mode", "bridge")
	ipCmd(t, ns, "tuntap", "add", "mode", "tun", "name", "tun0")
	t.Cleanup(func() { runIP(ns, "tuntap", "del", "mode", "tun", "name", "tun0") }) // before the namespace goes

	want := []wantDevice{
		{name: "lo", up: true, loopback: true, hwType: unix.ARPHRD_LOOPBACK, addrs: []string{"127.0.0.1/8", "::1/128"}},
		{name: "veth0", up: true, hwType: unix.ARPHRD_ETHER, kind: "veth", addrs: []string{"10.98.0.1/24"}},
		{name: "veth1", up: true, hwType: unix.ARPHRD_ETHER, kind: "veth", master: "br0"},
		{name: "br0", up: true, hwType: unix.ARPHRD_ETHER, kind: "bridge", addrs: []string{"10.99.0.1/24", "fd00:99::1/64"}},
		{name: "mv0", up: true, hwType: unix.ARPHRD_ETHER, kind: "macvlan", link: "veth0", addrs: []string{"fd00:97::2/64"}},
		{name: "tun0", hwType: unix.ARPHRD_NONE, kind: "tun"},
	}
	standalone := wantDevice{name: "dummy0", hwType: unix.ARPHRD_ETHER, kind: "dummy", addrs: []string{"192.0.2.1/24"}}
	if _, err := runIP(ns, "link", "add", "dummy0", "type", "dummy"); err != nil {
		t.Run("dummy device", func(t *testing.T) { t.Skipf("kernel lacks dummy devices (%v): using ifb0 instead", err) })
		standalone.name, standalone.kind = "ifb0", "ifb"
		ipCmd(t, ns, "link", "add", "ifb0", "type", "ifb")
	}
	want = append(want, standalone)
	ipCmd(t, ns, "addr", "add", "192.0.2.1/24", "dev", standalone.name) // stays down

	upDevices := []string{"veth0", "veth1", "br0", "mv0"}
	if _, err := runIP(ns, "link", "add", "link", "veth0", "name", "veth0.100", "type", "vlan", "id", "100"); err != nil {
		t.Run("vlan device", func(t *testing.T) {
			t.Skipf("kernel lacks 802.1Q VLAN devices (CONFIG_VLAN_8021Q): %v", err)
		})
	} else {
		want = append(want, wantDevice{name: "veth0.100", up: true, hwType: unix.ARPHRD_ETHER, kind: "vlan", link: "veth0",
			addrs: []string{"10.100.0.1/24", "fd00:100::1/64"}})
		upDevices = append(upDevices, "veth0.100")
	}
	for _, dev := range upDevices {
		ipCmd(t, ns, "link", "set", "dev", dev, "addrgenmode", "none")
		ipCmd(t, ns, "link", "set", "dev", dev, "up")
	}
	for _, d := range want {
		for _, addr := range d.addrs {
			if d.name == "lo" || d.name == standalone.name {
				continue
			}
			args := []string{"addr", "add", addr, "dev", d.name}
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			ipCmd(t, ns, args...)
		}
	}
	return want
}

// checkDevices compares what Devices reported with what was built.
func checkDevices(t *testing.T, got []Device, want []wantDevice) {
	t.Helper()
	names := make(map[int]string)
	for _, d := range got {
		names[d.Index] = d.Name
	}
	wanted := make(map[string]wantDevice)
	for _, w := range want {
		wanted[w.name] = w
	}
	for _, d := range got {
		w, ok := wanted[d.Name]
		if !ok {
			t.Errorf("unexpected device %+v", d)
			continue
		}
		delete(wanted, d.Name)
		var addrs []string
		for _, a := range d.Addrs {
			addrs = append(addrs, a.String())
		}
		slices.Sort(addrs)
		gotDevice := wantDevice{name: d.Name, up: d.Up, loopback: d.Loopback, hwType: d.HWType, kind: d.Kind,
			master: names[d.Master], link: names[d.Link], addrs: addrs}
		w.addrs = slices.Sorted(slices.Values(w.addrs))
		if !reflect.DeepEqual(gotDevice, w) {
			t.Errorf("%s: got  %+v\n\twant %+v", d.Name, gotDevice, w)
		}
		if (d.Master != 0 && names[d.Master] == "") || (d.Link != 0 && names[d.Link] == "") {
			t.Errorf("%s: Master %d or Link %d is no device of the namespace", d.Name, d.Master, d.Link)
		}
	}
	for name := range wanted {
		t.Errorf("device %s missing", name)
	}
}

// deviceNames returns the names of devs.
func deviceNames(devs []Device) []string {
	var names []string
	for _, d := range devs {
		names = append(names, d.Name)
	}
	return names
}

// netnsOfThread identifies the network namespace of the calling thread.
func netnsOfThread(t *testing.T) unix.Stat_t {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// onHostThread runs f on a fresh locked thread of the host namespace
// (the test process's), failing if the thread is in any other.
func onHostThread(t *testing.T, f func()) {
	t.Helper()
	var host, thread unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &host); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		thread = netnsOfThread(t)
		if thread.Dev == host.Dev && thread.Ino == host.Ino {
			f()
		}
	}()
	<-done
	if thread.Dev != host.Dev || thread.Ino != host.Ino {
		t.Fatalf("thread in network namespace %d:%d, not the host's %d:%d", thread.Dev, thread.Ino, host.Dev, host.Ino)
	}
}

// awaitChange waits up to 2s for a change signal after action.
// awaitQuiet runs action and fails if a change is signalled within
// 500 ms.
func awaitQuiet(t *testing.T, nl *Netlink, what string, action func()) {
	t.Helper()
	for quiet := false; !quiet; {
		select {
		case <-nl.Changes():
		case <-time.After(300 * time.Millisecond):
			quiet = true
		}
	}
	action()
	select {
	case <-nl.Changes():
		t.Errorf("%s: a change signalled", what)
	case <-time.After(500 * time.Millisecond):
	}
}

func awaitChange(t *testing.T, nl *Netlink, what string, action func()) {
	t.Helper()
	// Let the notifications of earlier steps pass, so that the signal
	// awaited is this step's.
	for quiet := false; !quiet; {
		select {
		case <-nl.Changes():
		case <-time.After(300 * time.Millisecond):
			quiet = true
		}
	}
	start := time.Now()
	action()
	select {
	case _, ok := <-nl.Changes():
		if !ok {
			t.Fatalf("%s: Changes closed", what)
		}
		t.Logf("%s: change signalled after %v", what, time.Since(start).Round(time.Microsecond))
	case <-time.After(2 * time.Second):
		t.Fatalf("%s: no change signalled within 2s", what)
	}
}

func TestNetlinkInNetns(t *testing.T) {
	ns := newNetns(t)
	want := namespaceTopology(t, ns)

	var nl *Netlink
	var nsDevs []Device
	inNetns(t, ns, func() {
		var target unix.Stat_t
		if err := unix.Stat("/run/netns/"+ns, &target); err != nil {
			t.Fatal(err)
		}
		if thread := netnsOfThread(t); thread.Dev != target.Dev || thread.Ino != target.Ino {
			t.Fatalf("inNetns: thread in network namespace %d:%d, not %s's %d:%d", thread.Dev, thread.Ino, ns, target.Dev, target.Ino)
		}
		var err error
		if nl, err = OpenNetlink(); err != nil {
			t.Fatal(err)
		}
		if nsDevs, err = nl.Devices(); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { nl.Close() }) // runs before the namespace is deleted
	checkDevices(t, nsDevs, want)

	// Isolation: the host's own view is disjoint from the namespace's,
	// apart from names both have (lo, and any the host happens to share).
	hostNetlink, err := OpenNetlink()
	if err != nil {
		t.Fatal(err)
	}
	defer hostNetlink.Close()
	hostDevs, err := hostNetlink.Devices()
	if err != nil {
		t.Fatal(err)
	}
	hostNames, nsNames := deviceNames(hostDevs), deviceNames(nsDevs)
	for _, name := range hostNames {
		if slices.Contains(nsNames, name) && !slices.ContainsFunc(want, func(w wantDevice) bool { return w.name == name }) {
			t.Errorf("host device %s seen in the namespace", name)
		}
	}
	onlyInNamespace := 0
	for _, name := range nsNames {
		if !slices.Contains(hostNames, name) {
			onlyInNamespace++
		}
	}
	t.Logf("host devices %q; namespace devices %q", hostNames, nsNames)
	if onlyInNamespace == 0 {
		t.Log("every namespace device name also exists on the host: isolation shown by the exact device list only")
	}

	// The same Netlink, used from threads of the host namespace, keeps
	// reading the namespace it was opened in.
	t.Run("changes", func(t *testing.T) {
		awaitChange(t, nl, "link added", func() {
			ipCmd(t, ns, "link", "add", "veth2", "type", "veth", "peer", "name", "veth3")
		})
		awaitChange(t, nl, "IPv4 address added", func() { ipCmd(t, ns, "addr", "add", "10.95.0.1/24", "dev", "br0") })
		awaitChange(t, nl, "IPv6 address added", func() { ipCmd(t, ns, "addr", "add", "fd00:95::1/64", "dev", "br0", "nodad") })
		awaitChange(t, nl, "link up", func() { ipCmd(t, ns, "link", "set", "dev", "veth2", "up") })

		var devs []Device
		var err error
		onHostThread(t, func() { devs, err = nl.Devices() })
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(want)
		for i := range want {
			if want[i].name == "br0" {
				want[i].addrs = append(slices.Clone(want[i].addrs), "10.95.0.1/24", "fd00:95::1/64")
			}
		}
		want = append(want,
			wantDevice{name: "veth2", up: true, hwType: unix.ARPHRD_ETHER, kind: "veth"},
			wantDevice{name: "veth3", hwType: unix.ARPHRD_ETHER, kind: "veth"})
		// veth2 is up with IPv6 on: it may gain a link-local address.
		for i, d := range devs {
			if d.Name == "veth2" {
				devs[i].Addrs = slices.DeleteFunc(slices.Clone(d.Addrs), func(p netip.Prefix) bool { return p.Addr().IsLinkLocalUnicast() })
			}
		}
		checkDevices(t, devs, want)

		// A notification of a link as the last Devices saw it (its MTU
		// is not a Device field) is not signalled; veth3 is down, so no
		// address of it appears meanwhile.
		awaitQuiet(t, nl, "MTU of a known link changed", func() { ipCmd(t, ns, "link", "set", "dev", "veth3", "mtu", "1400") })

		awaitChange(t, nl, "address removed", func() { ipCmd(t, ns, "addr", "del", "10.95.0.1/24", "dev", "br0") })
		awaitChange(t, nl, "link removed", func() { ipCmd(t, ns, "link", "del", "veth2") })
		onHostThread(t, func() { devs, err = nl.Devices() })
		if err != nil {
			t.Fatal(err)
		}
		if names := deviceNames(devs); slices.Contains(names, "veth2") || slices.Contains(names, "veth3") {
			t.Errorf("deleted veth pair still listed: %q", names)
		}
	})

	t.Run("plan", func(t *testing.T) {
		hasVLAN := slices.ContainsFunc(want, func(w wantDevice) bool { return w.kind == "vlan" })
		veth0 := counted
		if hasVLAN {
			veth0 = untaggedOnly
		}
		tests := []struct {
			sel  Selection
			want map[string]verdict // devices not listed: notSelected
		}{
			{Selection{}, map[string]verdict{"veth0": veth0, "veth1": countedOnUpper, "br0": counted, "mv0": counted, "veth0.100": counted}},
			{Selection{All: true}, map[string]verdict{"lo": counted, "veth0": veth0, "veth1": countedOnUpper, "br0": counted, "mv0": counted,
				"tun0": counted, "dummy0": counted, "ifb0": counted, "veth0.100": counted}},
			{Selection{Names: []string{"veth1", "tun0"}}, map[string]verdict{"veth1": counted, "tun0": counted}},
		}
		for _, tt := range tests {
			plan := tt.sel.Plan(nsDevs)
			for _, d := range nsDevs {
				entry, ok := plan.Lookup(d.Index)
				if !ok {
					t.Errorf("%+v: %s not in plan", tt.sel, d.Name)
					continue
				}
				got := verdict{Selected: entry.Selected, Count: entry.Count, CountTagged: entry.CountTagged}
				if want := tt.want[d.Name]; got != want {
					t.Errorf("%+v: %s: got %+v, want %+v", tt.sel, d.Name, got, want)
				}
				wantHeader := 14
				if d.Name == "tun0" || d.Name == "lo" {
					wantHeader = 0 // no link header; lo counts without its internal one
				}
				if entry.LinkHeaderLen != wantHeader {
					t.Errorf("%s: LinkHeaderLen %d, want %d", d.Name, entry.LinkHeaderLen, wantHeader)
				}
			}
		}
		for _, d := range nsDevs {
			t.Logf("%-10s %s", d.Name, d.LinkDescription())
		}
	})
}

// TestNetlinkDevicesUnderChurn lists a namespace with enough devices that
// a dump spans many datagrams while devices come and go, so that the
// kernel flags dumps as interrupted (NLM_F_DUMP_INTR) and Devices retries
// them: every list returned must be complete and consistent.
func TestNetlinkDevicesUnderChurn(t *testing.T) {
	ns := newNetns(t)
	const pairs = 150
	var batch strings.Builder
	for i := range pairs {
		fmt.Fprintf(&batch, "link add stable%da type veth peer name stable%db\n", i, i)
	}
	create := exec.Command("ip", "-n", ns, "-batch", "-")
	create.Stdin = strings.NewReader(batch.String())
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("creating %d veth pairs: %v: %s", pairs, err, out)
	}
	var nl *Netlink
	inNetns(t, ns, func() {
		var err error
		if nl, err = OpenNetlink(); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { nl.Close() })

	stop, churnDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(churnDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("churn%d", i%4)
			runIP(ns, "link", "add", name, "type", "veth", "peer", "name", name+"p")
			runIP(ns, "link", "del", name)
		}
	}()
	defer func() { close(stop); <-churnDone }()

	calls := 0
	for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); calls++ {
		devs, err := nl.Devices()
		if err != nil {
			t.Fatalf("Devices under churn: %v", err)
		}
		stable := 0
		for i, d := range devs {
			if i > 0 && devs[i-1].Index >= d.Index {
				t.Fatalf("devices not sorted or duplicated at %d: %+v, %+v", i, devs[i-1], d)
			}
			if strings.HasPrefix(d.Name, "stable") {
				stable++
			}
		}
		if stable != 2*pairs {
			t.Fatalf("a dump listed %d of the %d stable devices", stable, 2*pairs)
		}
	}
	nl.mu.Lock()
	retries := nl.retries
	nl.mu.Unlock()
	t.Logf("%d consistent dumps; %d interrupted dumps retried", calls, retries)
}

// TestPlanPeers: with Boundaries, a bridged veth whose peer is elsewhere
// is a boundary; the namespace SetPeers gives it (withPeers) tags its
// frames, direction turned round, when they are placed; other devices'
// frames carry namespace 0, also a frame that carried another before.
func TestPlanPeers(t *testing.T) {
	plan := Selection{Boundaries: true}.Plan(containerBridgeDevices).withPeers(map[int]uint32{5: 4026532001, 2: 99})
	for _, tc := range []struct {
		ifindex  int
		boundary bool
		ns       uint32
		in, want decode.Direction
	}{
		{5, true, 4026532001, decode.DirIn, decode.DirOut},
		{5, true, 4026532001, decode.DirOut, decode.DirIn},
		{6, true, 0, decode.DirIn, decode.DirIn}, // its namespace not known yet
		{4, false, 0, decode.DirOut, decode.DirOut},
	} {
		e := plan.entry(tc.ifindex)
		if e == nil || e.Boundary != tc.boundary || e.NetNS != tc.ns {
			t.Fatalf("entry %d: %+v, want boundary %v namespace %d", tc.ifindex, e, tc.boundary, tc.ns)
		}
		f := Frame{Interface: tc.ifindex, Direction: tc.in, NetNS: 12345}
		if !place(e, &f) || f.NetNS != tc.ns || f.Direction != tc.want {
			t.Errorf("frame of %d placed: namespace %d direction %v, want %d %v", tc.ifindex, f.NetNS, f.Direction, tc.ns, tc.want)
		}
	}
	if e := plan.entry(2); e.NetNS != 0 {
		t.Errorf("eth0 (not a boundary) took namespace %d", e.NetNS)
	}
	// Without Boundaries no device is one.
	if e := (Selection{}).Plan(containerBridgeDevices).withPeers(map[int]uint32{5: 1}).entry(5); e.Boundary || e.NetNS != 0 {
		t.Errorf("without Boundaries: %+v", e)
	}
}

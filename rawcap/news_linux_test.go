//go:build linux

package rawcap

import (
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// portMsg is the RTM_NEWLINK of a bridge port vc0 (index 4, master 3).
func portMsg(flags uint32, master uint32) []byte {
	return netlinkMessage(unix.RTM_NEWLINK, 0, 0, ifinfomsg(arphrdEther, 4, flags),
		netlinkAttr(unix.IFLA_IFNAME, []byte("vc0\x00")), netlinkAttr(unix.IFLA_MASTER, u32(master)),
		netlinkAttr(unix.IFLA_LINKINFO|unix.NLA_F_NESTED, netlinkAttr(unix.IFLA_INFO_KIND, []byte("veth\x00"))))
}

func TestNetlinkNews(t *testing.T) {
	n := &Netlink{}
	port := Device{Index: 4, Name: "vc0", Up: true, HWType: arphrdEther, Kind: "veth", Master: 3}
	if !n.news(portMsg(unix.IFF_UP, 3), false) {
		t.Fatal("a link before any Devices is not news")
	}
	n.setKnown([]Device{{Index: 1, Name: "lo", Up: true, Loopback: true}, port})
	tests := []struct {
		name string
		b    []byte
		cut  bool
		want bool
	}{
		{"the same link again (operational state settled)", portMsg(unix.IFF_UP|unix.IFF_RUNNING, 3), false, false},
		{"two such messages in one datagram", slices.Concat(portMsg(unix.IFF_UP, 3), portMsg(unix.IFF_UP|unix.IFF_LOWER_UP, 3)), false, false},
		{"a bridge's notification of its port", func() []byte {
			b := portMsg(0, 3)
			b[unix.NLMSG_HDRLEN] = unix.AF_BRIDGE
			return b
		}(), false, false},
		{"taken down", portMsg(0, 3), false, true},
		{"another master", portMsg(unix.IFF_UP, 9), false, true},
		{"one same, one changed", slices.Concat(portMsg(unix.IFF_UP, 3), portMsg(0, 3)), false, true},
		{"a link not known", netlinkMessage(unix.RTM_NEWLINK, 0, 0, ifinfomsg(arphrdEther, 5, unix.IFF_UP), netlinkAttr(unix.IFLA_IFNAME, []byte("vc1\x00"))), false, true},
		{"a link gone", netlinkMessage(unix.RTM_DELLINK, 0, 0, ifinfomsg(arphrdEther, 4, 0)), false, true},
		{"an address", netlinkMessage(unix.RTM_NEWADDR, 0, 0, ifaddrmsg(unix.AF_INET, 24, 4)), false, true},
		{"truncated datagram", portMsg(unix.IFF_UP, 3), true, true},
		{"malformed header", portMsg(unix.IFF_UP, 3)[:10], false, true},
		{"length beyond the datagram", portMsg(unix.IFF_UP, 3)[:40], false, true},
		{"empty", nil, false, true},
	}
	for _, tt := range tests {
		if got := n.news(tt.b, tt.cut); got != tt.want {
			t.Errorf("%s: news = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Addresses do not count: the known link has none.
	port.Addrs = []netip.Prefix{netip.MustParsePrefix("10.93.0.2/16")}
	n.setKnown([]Device{port})
	if n.news(portMsg(unix.IFF_UP, 3), false) {
		t.Error("a link whose Devices result had addresses differs from its notification")
	}
}

func FuzzNetlinkNews(f *testing.F) {
	f.Add(portMsg(unix.IFF_UP, 3))
	f.Add(slices.Concat(portMsg(unix.IFF_UP, 3), portMsg(0, 3)))
	f.Add(netlinkMessage(unix.RTM_NEWADDR, 0, 0, ifaddrmsg(unix.AF_INET, 24, 4)))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := &Netlink{}
		n.setKnown([]Device{{Index: 4, Name: "vc0", Up: true, HWType: arphrdEther, Kind: "veth", Master: 3}})
		if n.news(b, false) == false && len(b) == 0 {
			t.Fatal("an empty datagram is no news")
		}
		if !n.news(b, true) {
			t.Fatal("a truncated datagram is no news")
		}
	})
}

package netns

import (
	"encoding/binary"
	"net/netip"
)

// Link is one network interface as rtnetlink describes it.
type Link struct {
	Index int32
	Name  string
	// Kind is the driver's link kind ("veth", "bridge"; "" for a plain
	// device).
	Kind string
	// PeerIndex is IFLA_LINK: for a veth, its peer's ifindex (in the
	// peer's namespace); 0 when absent.
	PeerIndex int32
	// PeerNSID is IFLA_LINK_NETNSID: the id, local to the namespace the
	// link was listed in, of the namespace PeerIndex lives in; -1 when
	// the peer is in the same namespace or the attribute is absent.
	PeerNSID int32
	// Master is IFLA_MASTER: the bridge (bond) the link is a port of; 0
	// when none.
	Master int32
}

// Netlink and rtnetlink layout (linux/netlink.h, linux/rtnetlink.h,
// linux/if_link.h, linux/net_namespace.h).
const (
	nlmsgHdrLen   = 16
	ifinfomsgLen  = 16
	rtgenmsgLen   = 4 // struct rtgenmsg padded to NLMSG_ALIGNTO
	nlaHdrLen     = 4
	nlaTypeMask   = 0x3fff // without NLA_F_NESTED, NLA_F_NET_BYTEORDER
	iflaIfname    = 3
	iflaLink      = 5
	iflaMaster    = 10
	iflaLinkinfo  = 18
	iflaInfoKind  = 1
	iflaLinkNSID  = 37
	netnsaNSID    = 1
	netnsaFD      = 3
	maxLinkString = 64
)

func align4(n int) int { return (n + 3) &^ 3 }

// walkAttrs calls fn with the type (flags masked off) and value of each
// netlink attribute in b, stopping at the first malformed one.
func walkAttrs(b []byte, fn func(typ uint16, val []byte)) {
	for len(b) >= nlaHdrLen {
		l := int(binary.NativeEndian.Uint16(b))
		if l < nlaHdrLen || l > len(b) {
			return
		}
		fn(binary.NativeEndian.Uint16(b[2:])&nlaTypeMask, b[nlaHdrLen:l])
		n := align4(l)
		if n > len(b) {
			return
		}
		b = b[n:]
	}
}

// cString is a netlink string attribute without its NUL, bounded.
func cString(v []byte) string {
	for i, c := range v {
		if c == 0 {
			v = v[:i]
			break
		}
	}
	if len(v) > maxLinkString {
		v = v[:maxLinkString]
	}
	return string(v)
}

// ParseLink parses the payload of an RTM_NEWLINK message (struct
// ifinfomsg and its attributes). ok is false when the payload is too short
// to hold an ifinfomsg.
func ParseLink(b []byte) (l Link, ok bool) {
	if len(b) < ifinfomsgLen {
		return Link{}, false
	}
	l.Index = int32(binary.NativeEndian.Uint32(b[4:]))
	l.PeerNSID = -1
	walkAttrs(b[ifinfomsgLen:], func(typ uint16, v []byte) {
		switch typ {
		case iflaIfname:
			l.Name = cString(v)
		case iflaLink:
			if len(v) >= 4 {
				l.PeerIndex = int32(binary.NativeEndian.Uint32(v))
			}
		case iflaLinkNSID:
			if len(v) >= 4 {
				l.PeerNSID = int32(binary.NativeEndian.Uint32(v))
			}
		case iflaMaster:
			if len(v) >= 4 {
				l.Master = int32(binary.NativeEndian.Uint32(v))
			}
		case iflaLinkinfo:
			walkAttrs(v, func(typ uint16, v []byte) {
				if typ == iflaInfoKind {
					l.Kind = cString(v)
				}
			})
		}
	})
	return l, true
}

// ParseNSID parses the payload of an RTM_NEWNSID message (struct rtgenmsg
// and its attributes): NETNSA_NSID, or -1 (not assigned) when absent.
func ParseNSID(b []byte) (int32, bool) {
	if len(b) < rtgenmsgLen {
		return -1, false
	}
	id, found := int32(-1), false
	walkAttrs(b[rtgenmsgLen:], func(typ uint16, v []byte) {
		if typ == netnsaNSID && len(v) >= 4 {
			id, found = int32(binary.NativeEndian.Uint32(v)), true
		}
	})
	return id, found
}

// Message is one netlink message: its type, flags and payload.
type Message struct {
	Type, Flags uint16
	Seq         uint32
	Payload     []byte
}

// walkMessages calls fn with each netlink message in b (one datagram),
// stopping at the first malformed header or when fn returns false.
func walkMessages(b []byte, fn func(Message) bool) {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return
		}
		m := Message{
			Type:    binary.NativeEndian.Uint16(b[4:]),
			Flags:   binary.NativeEndian.Uint16(b[6:]),
			Seq:     binary.NativeEndian.Uint32(b[8:]),
			Payload: b[nlmsgHdrLen:l],
		}
		if !fn(m) {
			return
		}
		n := align4(l)
		if n > len(b) {
			return
		}
		b = b[n:]
	}
}

// ifaddrmsg and its attributes (linux/if_addr.h).
const (
	ifaddrmsgLen = 8
	ifaAddress   = 1
	ifaLocal     = 2
)

// ParseAddr parses the payload of an RTM_NEWADDR message (struct
// ifaddrmsg and its attributes): the address (IFA_LOCAL, else
// IFA_ADDRESS: on a point-to-point link IFA_ADDRESS is the peer's) with
// its prefix length, and the link's index. ok is false for a payload too
// short, a family other than IPv4 and IPv6, or no address of that
// family's length.
func ParseAddr(b []byte) (p netip.Prefix, index int32, ok bool) {
	if len(b) < ifaddrmsgLen {
		return netip.Prefix{}, 0, false
	}
	family, bits := b[0], int(b[1])
	want := 0
	switch family {
	case unixAFInet:
		want = 4
	case unixAFInet6:
		want = 16
	default:
		return netip.Prefix{}, 0, false
	}
	index = int32(binary.NativeEndian.Uint32(b[4:]))
	var local, address []byte
	walkAttrs(b[ifaddrmsgLen:], func(typ uint16, v []byte) {
		if len(v) != want {
			return
		}
		switch typ {
		case ifaLocal:
			local = v
		case ifaAddress:
			address = v
		}
	})
	if local == nil {
		local = address
	}
	a, found := netip.AddrFromSlice(local)
	if !found {
		return netip.Prefix{}, 0, false
	}
	p, err := a.Prefix(min(bits, a.BitLen()))
	if err != nil {
		return netip.Prefix{}, 0, false
	}
	return netip.PrefixFrom(a, p.Bits()), index, true
}

// Address families, as linux/socket.h numbers them (this file builds on
// every platform: the parsers are tested anywhere).
const (
	unixAFInet  = 2
	unixAFInet6 = 10
)

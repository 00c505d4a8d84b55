package netns

import "encoding/binary"

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

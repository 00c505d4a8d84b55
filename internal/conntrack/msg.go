package conntrack

import (
	"encoding/binary"
	"net/netip"
)

// Tuple is one direction of a tracked connection: the packet of that
// direction goes from Src to Dst.
type Tuple struct {
	Proto    uint8
	Src, Dst netip.AddrPort
}

// Reverse is the tuple of the other direction.
func (t Tuple) Reverse() Tuple { return Tuple{Proto: t.Proto, Src: t.Dst, Dst: t.Src} }

// Status is a conntrack entry's status bits (enum ip_conntrack_status).
type Status uint32

// The status bits the classifier reads; the others pass through.
const (
	StatusSeenReply Status = 1 << 1
	StatusAssured   Status = 1 << 2
	StatusConfirmed Status = 1 << 3
	// StatusSrcNAT: the source was translated (SNAT, masquerade).
	StatusSrcNAT Status = 1 << 4
	// StatusDstNAT: the destination was translated (DNAT, port forward).
	StatusDstNAT Status = 1 << 5
)

// Entry is a conntrack entry: both directions as the kernel tracks them.
// Orig is the first packet's tuple before any translation, so Orig.Src is
// the initiator as it really is; Reply is the answer's tuple after
// translation, so Reply.Src is the responder as it really is. Without NAT
// Reply is Orig reversed.
type Entry struct {
	Orig, Reply Tuple
	Status      Status
	ID          uint32
	Zone        uint16
	Mark        uint32
}

// NATed reports whether the kernel translated an address or port of the
// entry (source or destination).
func (e Entry) NATed() bool { return e.Status&(StatusSrcNAT|StatusDstNAT) != 0 }

// Ends are the two real ends of the connection, untranslated: the
// initiator and the responder.
func (e Entry) Ends() (initiator, responder netip.AddrPort) { return e.Orig.Src, e.Reply.Src }

// Netlink and ctnetlink layout and numbers (linux/netlink.h,
// linux/netfilter/nfnetlink.h, linux/netfilter/nfnetlink_conntrack.h),
// defined here so that the parser builds and is fuzzed on every GOOS.
// Attribute headers are in host order, attribute values in network order.
const (
	nlmsgHdrLen  = 16
	nfgenmsgLen  = 4
	nlaHdrLen    = 4
	nlaTypeMask  = 0x3fff
	nlaFNested   = 0x8000
	nlmsgError   = 2
	nlmsgDone    = 3
	nlmFRequest  = 0x1
	afInet       = 2
	afInet6      = 10
	subsysCT     = 1 // NFNL_SUBSYS_CTNETLINK
	msgCTNew     = 0 // IPCTNL_MSG_CT_NEW: events
	msgCTGet     = 1 // IPCTNL_MSG_CT_GET: requests and their answers
	msgTypeGet   = subsysCT<<8 | msgCTGet
	msgTypeNew   = subsysCT<<8 | msgCTNew
	ctaTupleOrig = 1
	ctaTupleRepl = 2
	ctaStatus    = 3
	ctaMark      = 8
	ctaID        = 12
	ctaZone      = 18
	ctaTupleIP   = 1
	ctaTupleProt = 2
	ctaIPv4Src   = 1
	ctaIPv4Dst   = 2
	ctaIPv6Src   = 3
	ctaIPv6Dst   = 4
	ctaProtoNum  = 1
	ctaProtoSrc  = 2
	ctaProtoDst  = 3

	// maxRequest is the longest GET request built (IPv6 tuple).
	maxRequest = 128
)

func align4(n int) int { return (n + 3) &^ 3 }

// nextAttr splits the first netlink attribute off b: its type (flags
// masked off), its value and what follows. ok is false when b holds no
// whole attribute.
func nextAttr(b []byte) (typ uint16, val, rest []byte, ok bool) {
	if len(b) < nlaHdrLen {
		return 0, nil, nil, false
	}
	l := int(binary.NativeEndian.Uint16(b))
	if l < nlaHdrLen || l > len(b) {
		return 0, nil, nil, false
	}
	typ, val = binary.NativeEndian.Uint16(b[2:])&nlaTypeMask, b[nlaHdrLen:l]
	if n := align4(l); n < len(b) {
		rest = b[n:]
	}
	return typ, val, rest, true
}

// nextMessage splits the first netlink message off a datagram: type, seq,
// payload and what follows. ok is false when b holds no whole message.
func nextMessage(b []byte) (typ uint16, seq uint32, payload, rest []byte, ok bool) {
	if len(b) < nlmsgHdrLen {
		return 0, 0, nil, nil, false
	}
	l := int(binary.NativeEndian.Uint32(b))
	if l < nlmsgHdrLen || l > len(b) {
		return 0, 0, nil, nil, false
	}
	typ, seq, payload = binary.NativeEndian.Uint16(b[4:]), binary.NativeEndian.Uint32(b[8:]), b[nlmsgHdrLen:l]
	if n := align4(l); n < len(b) {
		rest = b[n:]
	}
	return typ, seq, payload, rest, true
}

// ParseEntry parses the payload of a ctnetlink message answering a GET or
// announcing an entry (struct nfgenmsg and its attributes). ok is false
// unless both tuples are whole (addresses of the message's family, a
// protocol, and ports for TCP and UDP).
func ParseEntry(b []byte) (e Entry, ok bool) {
	if len(b) < nfgenmsgLen {
		return Entry{}, false
	}
	family := b[0]
	if family != afInet && family != afInet6 {
		return Entry{}, false
	}
	var origOK, replyOK bool
	for typ, v, rest, more := nextAttr(b[nfgenmsgLen:]); more; typ, v, rest, more = nextAttr(rest) {
		switch typ {
		case ctaTupleOrig:
			e.Orig, origOK = parseTuple(v, family)
		case ctaTupleRepl:
			e.Reply, replyOK = parseTuple(v, family)
		case ctaStatus:
			if len(v) >= 4 {
				e.Status = Status(binary.BigEndian.Uint32(v))
			}
		case ctaMark:
			if len(v) >= 4 {
				e.Mark = binary.BigEndian.Uint32(v)
			}
		case ctaID:
			if len(v) >= 4 {
				e.ID = binary.BigEndian.Uint32(v)
			}
		case ctaZone:
			if len(v) >= 2 {
				e.Zone = binary.BigEndian.Uint16(v)
			}
		}
	}
	if !origOK || !replyOK {
		return Entry{}, false
	}
	return e, true
}

// parseTuple parses a CTA_TUPLE_ORIG or CTA_TUPLE_REPLY nest.
func parseTuple(b []byte, family byte) (t Tuple, ok bool) {
	var src, dst netip.Addr
	var sport, dport uint16
	var haveProto, haveSport, haveDport bool
	for typ, v, rest, more := nextAttr(b); more; typ, v, rest, more = nextAttr(rest) {
		switch typ {
		case ctaTupleIP:
			for typ, v, rest, more := nextAttr(v); more; typ, v, rest, more = nextAttr(rest) {
				switch {
				case family == afInet && len(v) == 4 && typ == ctaIPv4Src:
					src = netip.AddrFrom4([4]byte(v))
				case family == afInet && len(v) == 4 && typ == ctaIPv4Dst:
					dst = netip.AddrFrom4([4]byte(v))
				case family == afInet6 && len(v) == 16 && typ == ctaIPv6Src:
					src = netip.AddrFrom16([16]byte(v))
				case family == afInet6 && len(v) == 16 && typ == ctaIPv6Dst:
					dst = netip.AddrFrom16([16]byte(v))
				}
			}
		case ctaTupleProt:
			for typ, v, rest, more := nextAttr(v); more; typ, v, rest, more = nextAttr(rest) {
				switch {
				case typ == ctaProtoNum && len(v) >= 1:
					t.Proto, haveProto = v[0], true
				case typ == ctaProtoSrc && len(v) >= 2:
					sport, haveSport = binary.BigEndian.Uint16(v), true
				case typ == ctaProtoDst && len(v) >= 2:
					dport, haveDport = binary.BigEndian.Uint16(v), true
				}
			}
		}
	}
	if !src.IsValid() || !dst.IsValid() || !haveProto {
		return Tuple{}, false
	}
	if (t.Proto == 6 || t.Proto == 17) && (!haveSport || !haveDport) {
		return Tuple{}, false
	}
	t.Src, t.Dst = netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
	return t, true
}

// appendAttr appends an attribute header of type typ for a value of n
// bytes and returns b and the offset of the value.
func appendAttr(b []byte, typ uint16, n int) ([]byte, int) {
	b = binary.NativeEndian.AppendUint16(b, uint16(nlaHdrLen+n))
	b = binary.NativeEndian.AppendUint16(b, typ)
	return b, len(b)
}

// endNest sets the length of the nest whose header is at b[at:].
func endNest(b []byte, at int) {
	binary.NativeEndian.PutUint16(b[at:], uint16(len(b)-at))
}

// padTo4 appends zeros up to a 4-byte boundary.
func padTo4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// appendGetRequest appends an IPCTNL_MSG_CT_GET request for the entry
// holding tuple t (in either direction: the kernel hashes both) to b.
// ok is false when the tuple's addresses are not one family or t.Proto is
// not TCP or UDP.
func appendGetRequest(b []byte, seq uint32, t Tuple) (_ []byte, ok bool) {
	src, dst := t.Src.Addr().Unmap(), t.Dst.Addr().Unmap()
	if !src.IsValid() || src.Is4() != dst.Is4() || (t.Proto != 6 && t.Proto != 17) {
		return b, false
	}
	family, srcType, dstType := byte(afInet6), uint16(ctaIPv6Src), uint16(ctaIPv6Dst)
	if src.Is4() {
		family, srcType, dstType = afInet, ctaIPv4Src, ctaIPv4Dst
	}
	start := len(b)
	b = binary.NativeEndian.AppendUint32(b, 0) // length, set below
	b = binary.NativeEndian.AppendUint16(b, msgTypeGet)
	b = binary.NativeEndian.AppendUint16(b, nlmFRequest)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // port id: the kernel's
	b = append(b, family, 0, 0, 0)             // nfgenmsg: version 0, res_id 0

	orig := len(b)
	b, _ = appendAttr(b, ctaTupleOrig|nlaFNested, 0)
	ip := len(b)
	b, _ = appendAttr(b, ctaTupleIP|nlaFNested, 0)
	b, _ = appendAttr(b, srcType, src.BitLen()/8)
	b = appendAddr(b, src)
	b, _ = appendAttr(b, dstType, dst.BitLen()/8)
	b = appendAddr(b, dst)
	endNest(b, ip)
	proto := len(b)
	b, _ = appendAttr(b, ctaTupleProt|nlaFNested, 0)
	b, _ = appendAttr(b, ctaProtoNum, 1)
	b = padTo4(append(b, t.Proto))
	b, _ = appendAttr(b, ctaProtoSrc, 2)
	b = padTo4(binary.BigEndian.AppendUint16(b, t.Src.Port()))
	b, _ = appendAttr(b, ctaProtoDst, 2)
	b = padTo4(binary.BigEndian.AppendUint16(b, t.Dst.Port()))
	endNest(b, proto)
	endNest(b, orig)
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b, true
}

// appendAddr appends a's bytes in network order (4 or 16).
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}

package pcapfilter

import "golang.org/x/net/bpf"

// The parser turns an expression into a tree of boolean nodes whose leaves
// are single tests of packet fields; code generation turns the tree into
// short-circuit code, evaluated left to right as libpcap evaluates it (the
// order matters for short packets: a load past the end rejects the packet
// whatever the rest of the expression says).

// node is a boolean expression: *andNode, *orNode, *notNode, *constNode,
// *cmpNode, *loadXNode, or a primitive that expands to them (*hostNode,
// *portNode).
type node interface{}

type andNode struct{ l, r node }

type orNode struct{ l, r node }

type notNode struct{ x node }

// constNode is always true or always false and loads nothing.
type constNode struct{ v bool }

// load is a packet load into the accumulator: at off from the start of
// the packet, or (ind) from X, the IPv4 header length.
type load struct {
	ind  bool
	off  uint32
	size int // 1, 2 or 4
}

// cmpNode loads a field, ANDs it with mask unless mask is 0, and compares
// the result with val.
type cmpNode struct {
	ld   load
	mask uint32
	cond bpf.JumpTest // JumpEqual, JumpGreaterThan, JumpGreaterOrEqual or JumpBitsSet
	val  uint32
}

// loadXNode loads the IPv4 header length into X (ldxb 4*([0]&0xf)); as a
// condition it is always true.
type loadXNode struct{}

// IP protocol numbers and header offsets the programs use.
const (
	protoICMP     = 1
	protoIGMP     = 2
	protoTCP      = 6
	protoIGRP     = 9
	protoUDP      = 17
	protoFragment = 44 // IPv6 fragment header
	protoESP      = 50
	protoAH       = 51
	protoICMPv6   = 58
	protoPIM      = 103
	protoVRRP     = 112 // also CARP
	protoSCTP     = 132

	ipv6HeaderLen = 40 // fixed header
)

func and(ns ...node) node {
	n := ns[0]
	for _, r := range ns[1:] {
		n = &andNode{n, r}
	}
	return n
}

func or(ns ...node) node {
	n := ns[0]
	for _, r := range ns[1:] {
		n = &orNode{n, r}
	}
	return n
}

func not(n node) node { return &notNode{n} }

func abs(off uint32, size int) load { return load{off: off, size: size} }

func eq(ld load, val uint32) node { return &cmpNode{ld: ld, cond: bpf.JumpEqual, val: val} }

// isIPv4 and isIPv6 test the version nibble as libpcap does for raw IP.
func isIPv4() node { return &cmpNode{ld: abs(0, 1), mask: 0xf0, cond: bpf.JumpEqual, val: 0x40} }
func isIPv6() node { return &cmpNode{ld: abs(0, 1), mask: 0xf0, cond: bpf.JumpEqual, val: 0x60} }

// ipProto is "ip proto p": the IPv4 protocol field.
func ipProto(p uint32) node { return and(isIPv4(), eq(abs(9, 1), p)) }

// ip6Proto is "ip6 proto p": like libpcap, the next-header field of the
// fixed header, or that of a fragment header right after it. There is no
// walk of other extension headers.
func ip6Proto(p uint32) node {
	nh := abs(6, 1)
	return and(isIPv6(), or(eq(nh, p), and(eq(nh, protoFragment), eq(abs(ipv6HeaderLen, 1), p))))
}

// protoFor is "proto p" under a protocol qualifier (pqDefault, pqIP or pqIP6).
func protoFor(pq protoQual, p uint32) node {
	switch pq {
	case pqIP:
		return ipProto(p)
	case pqIP6:
		return ip6Proto(p)
	}
	return or(ipProto(p), ip6Proto(p))
}

// byDirection combines the source and destination tests of a primitive
// as its direction qualifier says.
func byDirection(dir dirQual, src, dst func() node) node {
	switch dir {
	case dqSrc:
		return src()
	case dqDst:
		return dst()
	case dqAnd:
		return and(src(), dst())
	}
	return or(src(), dst())
}

// hostNode is a host or net primitive on one address family before
// expansion: the source and/or destination address, as dir says, equals
// one of addrs. A primitive with several addresses comes from merging
// primitives joined by "or" ("host A or B"): its program compares the
// source address with every address before it loads the destination
// address, as libpcap's optimizer arranges such lists. That order decides
// the fate of a packet that ends between the two addresses.
type hostNode struct {
	dir   dirQual
	v6    bool
	addrs []hostAddr
}

// hostAddr is one address of a hostNode: v4 under mask4 (0 for /0), or v6
// under a prefix of bits bits.
type hostAddr struct {
	v4, mask4 uint32
	v6        [16]byte
	bits      int
}

func hostV4(dir dirQual, addr, mask uint32) node {
	return &hostNode{dir: dir, addrs: []hostAddr{{v4: addr & mask, mask4: mask}}}
}

func hostV6(dir dirQual, addr [16]byte, bits int) node {
	return &hostNode{dir: dir, v6: true, addrs: []hostAddr{{v6: addr, bits: bits}}}
}

// tests returns the tests of one address at base (the offset of the
// source or destination address), one per 32-bit word the mask covers:
// libpcap loads whole words, even for a /8.
func (a hostAddr) tests(v6 bool, base uint32) []node {
	if !v6 {
		if a.mask4 == 0 {
			return nil
		}
		return []node{maskedEq(abs(base, 4), a.mask4, a.v4)}
	}
	var tests []node
	for i := 0; i < 4 && a.bits > 32*i; i++ {
		mask := ^uint32(0)
		if rest := a.bits - 32*i; rest < 32 {
			mask <<= 32 - rest
		}
		w := uint32(a.v6[4*i])<<24 | uint32(a.v6[4*i+1])<<16 | uint32(a.v6[4*i+2])<<8 | uint32(a.v6[4*i+3])
		tests = append(tests, maskedEq(abs(base+4*uint32(i), 4), mask, w&mask))
	}
	return tests
}

// maskedEq is field & mask == val, without the AND for a full mask.
func maskedEq(ld load, mask, val uint32) node {
	if mask == 0xffffffff {
		mask = 0
	}
	return &cmpNode{ld: ld, mask: mask, cond: bpf.JumpEqual, val: val}
}

// singleTest reports whether each address is a single comparison, which
// is when libpcap's optimizer groups the comparisons of a list. All the
// addresses of a merged node share their mask, so the first decides.
func (h *hostNode) singleTest() bool {
	a := h.addrs[0]
	if h.v6 {
		return a.bits > 0 && a.bits <= 32
	}
	return a.mask4 != 0
}

// mergeHosts returns "a or b" as one hostNode when libpcap's optimizer
// would group their comparisons: same family and direction (not "src and
// dst"), and every address a single comparison of the same masked word.
// It reuses a, which nothing else refers to.
func mergeHosts(a, b *hostNode) (*hostNode, bool) {
	if a.v6 != b.v6 || a.dir != b.dir || a.dir == dqAnd || !a.singleTest() || !b.singleTest() ||
		a.addrs[0].mask4 != b.addrs[0].mask4 || a.addrs[0].bits != b.addrs[0].bits {
		return nil, false
	}
	a.addrs = append(a.addrs, b.addrs...)
	return a, true
}

// expand returns the primitive as tests.
func (h *hostNode) expand() node {
	family, src, dst := isIPv4(), uint32(12), uint32(16)
	if h.v6 {
		family, src, dst = isIPv6(), 8, 24
	}
	side := func(base uint32) func() node {
		return func() node {
			var alts []node
			for _, a := range h.addrs {
				tests := a.tests(h.v6, base)
				if len(tests) == 0 {
					return &constNode{v: true}
				}
				alts = append(alts, and(tests...))
			}
			return or(alts...)
		}
	}
	return and(family, byDirection(h.dir, side(src), side(dst)))
}

// portNode is a port or portrange primitive before expansion: a TCP, UDP
// or SCTP port (as proto says) on the source and/or destination side
// equals one of ports (rng false) or lies in one of the ranges lo-hi.
// Like hostNode, it may stand for a list merged from "port A or B".
type portNode struct {
	proto  protoQual
	dir    dirQual
	rng    bool
	ranges []portRange
}

type portRange struct{ lo, hi uint32 }

// portFor is "port lo" (rng false) or "portrange lo-hi" under a protocol
// qualifier (pqDefault: TCP, UDP or SCTP).
func portFor(pq protoQual, dir dirQual, lo, hi uint32, rng bool) node {
	return &portNode{proto: pq, dir: dir, rng: rng, ranges: []portRange{{lo, hi}}}
}

// mergePorts returns "a or b" as one portNode when libpcap's optimizer
// would group their comparisons: same qualifiers, single ports. It reuses
// a, which nothing else refers to.
func mergePorts(a, b *portNode) (*portNode, bool) {
	if a.proto != b.proto || a.dir != b.dir || a.dir == dqAnd || a.rng || b.rng {
		return nil, false
	}
	a.ranges = append(a.ranges, b.ranges...)
	return a, true
}

// expand returns the primitive as tests. IPv4 fragments after the first
// never match; the ports are found through the IHL field. IPv6 ports are
// found only right after the fixed header, as libpcap finds them.
func (p *portNode) expand() node {
	var protos []uint32
	switch p.proto {
	case pqTCP:
		protos = []uint32{protoTCP}
	case pqUDP:
		protos = []uint32{protoUDP}
	case pqSCTP:
		protos = []uint32{protoSCTP}
	default:
		protos = []uint32{protoSCTP, protoTCP, protoUDP}
	}
	isProto := func(ld load) node {
		var ns []node
		for _, pr := range protos {
			ns = append(ns, eq(ld, pr))
		}
		return or(ns...)
	}
	match := func(ld load) func() node {
		return func() node {
			var alts []node
			for _, r := range p.ranges {
				if !p.rng {
					alts = append(alts, eq(ld, r.lo))
					continue
				}
				alts = append(alts, and(&cmpNode{ld: ld, cond: bpf.JumpGreaterOrEqual, val: r.lo},
					not(&cmpNode{ld: ld, cond: bpf.JumpGreaterThan, val: r.hi})))
			}
			return or(alts...)
		}
	}
	v4 := and(isIPv4(), isProto(abs(9, 1)),
		not(&cmpNode{ld: abs(6, 2), cond: bpf.JumpBitsSet, val: 0x1fff}),
		&loadXNode{},
		byDirection(p.dir, match(load{ind: true, off: 0, size: 2}), match(load{ind: true, off: 2, size: 2})))
	v6 := and(isIPv6(), isProto(abs(6, 1)),
		byDirection(p.dir, match(abs(ipv6HeaderLen, 2)), match(abs(ipv6HeaderLen+2, 2))))
	return or(v4, v6)
}

// orOf returns "l or r", merging lists of hosts or ports as libpcap's
// optimizer would arrange them. The parser calls it on nodes it has just
// built, which nothing else refers to.
func orOf(l, r node) node {
	switch a := l.(type) {
	case *hostNode:
		if b, ok := r.(*hostNode); ok {
			if m, ok := mergeHosts(a, b); ok {
				return m
			}
		}
	case *portNode:
		if b, ok := r.(*portNode); ok {
			if m, ok := mergePorts(a, b); ok {
				return m
			}
		}
	}
	return &orNode{l, r}
}

// protoAbbrev is a protocol name used as a primitive ("tcp", "ip6"), as
// libpcap defines it for raw IP.
func protoAbbrev(name string) node {
	switch name {
	case "ip":
		return isIPv4()
	case "ip6":
		return isIPv6()
	case "tcp":
		return protoFor(pqDefault, protoTCP)
	case "udp":
		return protoFor(pqDefault, protoUDP)
	case "sctp":
		return protoFor(pqDefault, protoSCTP)
	case "pim":
		return protoFor(pqDefault, protoPIM)
	case "ah":
		return protoFor(pqDefault, protoAH)
	case "esp":
		return protoFor(pqDefault, protoESP)
	case "icmp":
		return ipProto(protoICMP)
	case "igmp":
		return ipProto(protoIGMP)
	case "igrp":
		return ipProto(protoIGRP)
	case "vrrp", "carp":
		return ipProto(protoVRRP)
	case "icmp6":
		return ip6Proto(protoICMPv6)
	}
	panic("pcapfilter: no protocol abbreviation " + name)
}

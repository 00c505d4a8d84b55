package pcapfilter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Relations: "arith relop arith", where arith is built of numbers, named
// constants (tcpflags, tcp-syn, icmp-echo, ...), len, loads of packet
// bytes (proto[index] or proto[index:size]) and the operators of C, with
// libpcap's precedence, lowest first: |, &, << >>, + -, * /, unary -; ^
// and % have none (see loneOperators).
// A load is tested as libpcap tests it for raw IP: ip[] needs an IPv4
// packet, ip6[] an IPv6 one; tcp[], udp[], sctp[], icmp[], igmp[], igrp[],
// pim[], vrrp[] and carp[] an IPv4 packet of that protocol that is not a
// later fragment, indexed from the end of the IPv4 header (libpcap has no
// IPv6 form); icmp6[] an IPv6 packet whose fixed header says ICMPv6,
// indexed from byte 40. The index must be a constant.

// arith is an arithmetic expression: *arNum, *arLen, *arLoad, *arBin or
// *arNeg.
type arith interface{}

type arNum struct{ v uint32 }

// arLen is the packet's length (from the IP header on).
type arLen struct{}

// arLoad loads size bytes at off from the start of the packet, or (ind)
// from the end of the IPv4 header.
type arLoad struct {
	proto string
	ld    load
}

type arBin struct {
	op   bpf.ALUOp
	l, r arith
}

type arNeg struct{ x arith }

// relNode compares two arithmetic expressions; the protocol tests of its
// loads come before it. neg negates the comparison only ("!=" is "not
// =" once the loads' protocols match): a packet of another protocol fails
// the relation either way.
type relNode struct {
	l, r arith
	cond bpf.JumpTest // JumpEqual, JumpGreaterThan or JumpGreaterOrEqual
	neg  bool
}

// maxScratch is the number of scratch memory words classic BPF has; an
// expression whose evaluation needs more is rejected.
const maxScratch = 16

// namedConstants are pcap-filter(7)'s names for header offsets and field
// values.
var namedConstants = map[string]uint32{
	"tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8,
	"icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12,
	"icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16,
	"icmp-maskreq": 17, "icmp-maskreply": 18,
	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3, "icmp6-parameterproblem": 4,
	"icmp6-echo": 128, "icmp6-echoreply": 129, "icmp6-multicastlistenerquery": 130,
	"icmp6-multicastlistenerreportv1": 131, "icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133,
	"icmp6-routeradvert": 134, "icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
	"icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139, "icmp6-nodeinformationresponse": 140,
	"icmp6-ineighbordiscoverysolicit": 141, "icmp6-ineighbordiscoveryadvert": 142,
	"icmp6-multicastlistenerreportv2": 143, "icmp6-homeagentdiscoveryrequest": 144,
	"icmp6-homeagentdiscoveryreply": 145, "icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
	"icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149, "icmp6-multicastrouteradvert": 151,
	"icmp6-multicastroutersolicit": 152, "icmp6-multicastrouterterm": 153,
}

// indexable are the protocols a load may name, with the IPv4 protocol
// number of those indexed from the end of the IPv4 header.
var indexable = map[string]uint32{
	"ip": 0, "ip6": 0, "icmp6": 0,
	"tcp": protoTCP, "udp": protoUDP, "sctp": protoSCTP, "icmp": protoICMP, "igmp": protoIGMP,
	"igrp": protoIGRP, "pim": protoPIM, "vrrp": protoVRRP, "carp": protoVRRP,
}

// startsRelation reports whether the lookahead begins an arithmetic
// expression on its own (not a value under qualifiers): len, a load, a
// unary minus.
func (p *parser) startsRelation() bool {
	t := p.tok
	switch {
	case t.kind == tArith && t.text == "-":
		return true
	case t.kind != tWord || t.escaped:
		return false
	case t.text == "len":
		return true
	}
	_, ok := indexable[t.text]
	return ok && p.lx.peekByte() == '['
}

// relation parses "arith relop arith" and returns its tests.
func (p *parser) relation() node {
	l := p.arith(0)
	return p.relationFrom(l)
}

// relationFrom parses the rest of a relation whose left side is l.
func (p *parser) relationFrom(l arith) node {
	if p.tok.kind != tRel {
		p.expected("a comparison (=, !=, <, <=, >, >=)")
	}
	op := p.tok.text
	p.advance()
	r := p.arith(0)
	if err := (&relNode{l: l, r: r}).checkScratch(); err != nil {
		p.fail(p.prev.pos, "%v", err)
	}
	rel := func(cond bpf.JumpTest, neg bool) node { return &relNode{l: l, r: r, cond: cond, neg: neg} }
	switch op {
	case "=", "==":
		return rel(bpf.JumpEqual, false)
	case "!=":
		return rel(bpf.JumpEqual, true)
	case ">":
		return rel(bpf.JumpGreaterThan, false)
	case ">=":
		return rel(bpf.JumpGreaterOrEqual, false)
	case "<":
		return rel(bpf.JumpGreaterOrEqual, true)
	case "<=":
		return rel(bpf.JumpGreaterThan, true)
	}
	p.fail(p.prev.pos, "unknown comparison %q", op)
	return nil
}

// binary operators by precedence level, lowest first.
var arithLevels = [][]struct {
	text string
	op   bpf.ALUOp
}{
	{{"|", bpf.ALUOpOr}},
	{{"&", bpf.ALUOpAnd}},
	{{"<<", bpf.ALUOpShiftLeft}, {">>", bpf.ALUOpShiftRight}},
	{{"+", bpf.ALUOpAdd}, {"-", bpf.ALUOpSub}},
	{{"*", bpf.ALUOpMul}, {"/", bpf.ALUOpDiv}},
}

// loneOperators have no precedence in libpcap's grammar, so its parser
// always shifts: "a ^ b + c" is a ^ (b + c) and "a + b ^ c" is a + (b ^
// c); the right operand is all the arithmetic that follows.
var loneOperators = map[string]bpf.ALUOp{"^": bpf.ALUOpXor, "%": bpf.ALUOpMod}

// arith parses the operators of precedence level and above, left to right.
func (p *parser) arith(level int) arith {
	if level == len(arithLevels) {
		return p.arithUnary()
	}
	if level == 0 {
		p.enter()
		defer p.leave()
	}
	l := p.arith(level + 1)
	for {
		t := p.tok
		if t.kind != tArith && t.kind != tSlash {
			return l
		}
		found := false
		for _, o := range arithLevels[level] {
			if o.text == t.text {
				p.advance()
				r := p.arith(level + 1)
				if c, ok := r.(*arNum); ok && c.v == 0 && (o.op == bpf.ALUOpDiv || o.op == bpf.ALUOpMod) {
					p.fail(t.pos, "division by zero")
				}
				l, found = fold(&arBin{op: o.op, l: l, r: r}), true
				break
			}
		}
		if !found {
			return l
		}
	}
}

func (p *parser) arithUnary() arith {
	p.enter()
	defer p.leave()
	if p.tok.kind == tArith && p.tok.text == "-" {
		p.advance()
		return fold(&arNeg{x: p.arithUnary()})
	}
	x := p.arithAtom()
	if t := p.tok; t.kind == tArith {
		if op, ok := loneOperators[t.text]; ok {
			p.advance()
			r := p.arith(0)
			if c, ok := r.(*arNum); ok && c.v == 0 && op == bpf.ALUOpMod {
				p.fail(t.pos, "division by zero")
			}
			return fold(&arBin{op: op, l: x, r: r})
		}
	}
	return x
}

// arithAtom parses a number, a named constant, len, a load or a
// parenthesized arithmetic expression.
func (p *parser) arithAtom() arith {
	t := p.tok
	switch t.kind {
	case tLParen:
		p.advance()
		x := p.arith(0)
		if p.tok.kind != tRParen {
			p.expected(`")"`)
		}
		p.advance()
		return x
	case tWord:
		if t.escaped {
			break
		}
		if v, ok := namedConstants[t.text]; ok {
			p.advance()
			return &arNum{v: v}
		}
		if t.text == "len" {
			p.advance()
			return &arLen{}
		}
		if _, ok := indexable[t.text]; ok && p.lx.peekByte() == '[' {
			p.advance()
			return p.load(t)
		}
		if isDecimal(t.text[:1]) {
			if n, ok := p.number(t, t.text); ok {
				p.advance()
				return &arNum{v: n}
			}
			p.fail(t.pos, "%s is not a number", t.describe())
		}
		if keyword(t.text) == kwLink {
			p.fail(t.pos, "%q is not supported: the filter sees IP packets from the IP header on, with no link layer", t.text)
		}
	}
	p.expected("a number, len or a load such as tcp[13]")
	return nil
}

// load parses "[index]" or "[index:size]" after protocol name t.
func (p *parser) load(t token) arith {
	open := p.tok
	p.lx.brackets++
	p.advance()
	idx := p.arith(0)
	size := 1
	if p.tok.kind == tColon {
		p.advance()
		st := p.tok
		n, ok := uint32(0), false
		if st.kind == tWord {
			n, ok = p.number(st, st.text)
		}
		if !ok || n != 1 && n != 2 && n != 4 {
			p.fail(st.pos, "the size of a load must be 1, 2 or 4, not %s", st.describe())
		}
		size = int(n)
		p.advance()
	}
	if p.tok.kind != tRBracket {
		if p.tok.kind == tEnd {
			p.fail(p.tok.pos, `missing "]" to match "[" at position %d`, open.pos+1)
		}
		p.expected(`"]"`)
	}
	p.lx.brackets--
	p.advance()
	c, ok := idx.(*arNum)
	if !ok {
		p.fail(open.pos, "the index of %s[...] must be a constant (a load or len in it is not supported)", t.text)
	}
	switch t.text {
	case "ip", "ip6":
		return &arLoad{proto: t.text, ld: abs(c.v, size)}
	case "icmp6":
		if c.v > 0xffffffff-ipv6HeaderLen {
			p.fail(open.pos, "index %d is too large", c.v)
		}
		return &arLoad{proto: t.text, ld: abs(ipv6HeaderLen+c.v, size)}
	}
	return &arLoad{proto: t.text, ld: load{ind: true, off: c.v, size: size}}
}

// fold computes operations on constants, as libpcap's optimizer does.
func fold(a arith) arith {
	switch a := a.(type) {
	case *arNeg:
		if c, ok := a.x.(*arNum); ok {
			return &arNum{v: -c.v}
		}
	case *arBin:
		l, lok := a.l.(*arNum)
		r, rok := a.r.(*arNum)
		if !lok || !rok {
			return a
		}
		x, y := l.v, r.v
		var v uint32
		switch a.op {
		case bpf.ALUOpAdd:
			v = x + y
		case bpf.ALUOpSub:
			v = x - y
		case bpf.ALUOpMul:
			v = x * y
		case bpf.ALUOpDiv:
			v = x / y
		case bpf.ALUOpMod:
			v = x % y
		case bpf.ALUOpAnd:
			v = x & y
		case bpf.ALUOpOr:
			v = x | y
		case bpf.ALUOpXor:
			v = x ^ y
		case bpf.ALUOpShiftLeft:
			if y < 32 {
				v = x << y
			}
		case bpf.ALUOpShiftRight:
			if y < 32 {
				v = x >> y
			}
		}
		return &arNum{v: v}
	}
	return a
}

// loadTests returns the protocol tests of the loads in a, as libpcap
// keeps them: those of the left operand of an arithmetic operator only (its
// code generator drops the right operand's), so in "ip[2:2] -
// (tcp[12]&0xf0)>>2" no TCP test is made and a UDP packet's byte 12 is
// read as well.
func loadTests(a arith, out []node) []node {
	switch a := a.(type) {
	case *arLoad:
		switch a.proto {
		case "ip":
			return append(out, isIPv4())
		case "ip6":
			return append(out, isIPv6())
		case "icmp6":
			return append(out, and(isIPv6(), eq(abs(6, 1), protoICMPv6)))
		}
		return append(out, and(isIPv4(), eq(abs(9, 1), indexable[a.proto]),
			not(&cmpNode{ld: abs(6, 2), cond: bpf.JumpBitsSet, val: 0x1fff})))
	case *arBin:
		return loadTests(a.l, out)
	case *arNeg:
		return loadTests(a.x, out)
	}
	return out
}

// expand returns the relation as the tests of its loads followed by the
// computation and comparison.
func (r *relNode) expand() node {
	var cmp node = &arithCmpNode{r}
	if r.neg {
		cmp = not(cmp)
	}
	return and(append(loadTests(r.r, loadTests(r.l, nil)), cmp)...)
}

// arithCmpNode computes both sides of a relation and compares them; the
// protocol tests have been made before it.
type arithCmpNode struct{ rel *relNode }

// scratchNeeded returns how many scratch words evaluating a needs.
func scratchNeeded(a arith) int {
	switch a := a.(type) {
	case *arBin:
		l, r := scratchNeeded(a.l), scratchNeeded(a.r)
		if _, ok := a.r.(*arNum); ok {
			return l
		}
		return max(r, 1+l)
	case *arNeg:
		return scratchNeeded(a.x)
	}
	return 0
}

// checkScratch returns an error when the relation needs more scratch
// memory than classic BPF has.
func (r *relNode) checkScratch() error {
	need := max(scratchNeeded(r.l)+1, scratchNeeded(r.r))
	if _, ok := r.r.(*arNum); ok {
		need = scratchNeeded(r.l)
	}
	if need > maxScratch {
		return fmt.Errorf("arithmetic nested too deep: it needs %d scratch memory words, classic BPF has %d", need, maxScratch)
	}
	return nil
}

// eval emits code that leaves the value of a in A, using scratch words
// from s on.
func (g *gen) eval(a arith, s int) {
	switch a := a.(type) {
	case *arNum:
		g.emit(item{kind: iPlain, ins: bpf.LoadConstant{Dst: bpf.RegA, Val: a.v}})
	case *arLen:
		g.emit(item{kind: iPlain, ins: bpf.LoadExtension{Num: bpf.ExtLen}})
	case *arLoad:
		if a.ld.ind {
			g.emit(item{kind: iPlain, ins: bpf.LoadMemShift{Off: 0}})
			g.emit(item{kind: iPlain, ins: bpf.LoadIndirect{Off: a.ld.off, Size: a.ld.size}})
		} else {
			g.emit(item{kind: iPlain, ins: bpf.LoadAbsolute{Off: a.ld.off, Size: a.ld.size}})
		}
	case *arNeg:
		g.eval(a.x, s)
		g.emit(item{kind: iPlain, ins: bpf.NegateA{}})
	case *arBin:
		if c, ok := a.r.(*arNum); ok {
			g.eval(a.l, s)
			g.emit(item{kind: iPlain, ins: bpf.ALUOpConstant{Op: a.op, Val: c.v}})
			return
		}
		g.eval(a.r, s)
		g.emit(item{kind: iPlain, ins: bpf.StoreScratch{Src: bpf.RegA, N: s}})
		g.eval(a.l, s+1)
		g.emit(item{kind: iPlain, ins: bpf.LoadScratch{Dst: bpf.RegX, N: s}})
		g.emit(item{kind: iPlain, ins: bpf.ALUOpX{Op: a.op}})
	}
}

// compare emits the relation's computation and a jump to t when it holds,
// f otherwise.
func (g *gen) compare(r *relNode, t, f int) {
	if c, ok := r.r.(*arNum); ok {
		g.eval(r.l, 0)
		g.emit(item{kind: iCond, cond: r.cond, val: c.v, jt: t, jf: f})
		return
	}
	g.eval(r.r, 0)
	g.emit(item{kind: iPlain, ins: bpf.StoreScratch{Src: bpf.RegA, N: 0}})
	g.eval(r.l, 1)
	g.emit(item{kind: iPlain, ins: bpf.LoadScratch{Dst: bpf.RegX, N: 0}})
	g.emit(item{kind: iCond, cond: r.cond, x: true, jt: t, jf: f})
}

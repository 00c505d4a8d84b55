package pcapfilter

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/bpf"
)

// protoQual is a protocol qualifier of a primitive ("ip" in "ip host X").
type protoQual uint8

const (
	pqDefault protoQual = iota
	pqIP
	pqIP6
	pqTCP
	pqUDP
	pqSCTP
	pqOther // a protocol name that qualifies nothing: icmp, igmp, ...
)

// dirQual is a direction qualifier.
type dirQual uint8

const (
	dqDefault dirQual = iota // src or dst
	dqSrc
	dqDst
	dqOr  // src or dst
	dqAnd // src and dst
)

// addrQual is an address-type qualifier.
type addrQual uint8

const (
	aqDefault addrQual = iota // none given: a host
	aqHost
	aqNet
	aqPort
	aqPortRange
	aqProto
)

// qual is the qualifiers in force for a value. The zero qual is libpcap's
// "qerr": none, so that a bare value there is an error.
type qual struct {
	valid     bool
	proto     protoQual
	protoName string // the protocol keyword, for messages
	dir       dirQual
	addr      addrQual
}

// kwClass classifies keywords.
type kwClass uint8

const (
	kwNone          kwClass = iota // not a keyword: a value
	kwProto                        // a protocol name: ip, tcp, ...
	kwDir                          // src, dst
	kwAddr                         // host, net, port, portrange
	kwProtoQ                       // proto
	kwMask                         // mask
	kwLink                         // link-layer and non-IP keywords (unsupported)
	kwUnsupported                  // other keywords of the language (unsupported)
	kwUnsupportedIP                // IP keywords hogs's subset leaves out
)

// keyword classifies a word written without a backslash. Keywords are
// lower case, as in libpcap.
func keyword(w string) kwClass {
	switch w {
	case "ip", "ip6", "tcp", "udp", "sctp", "icmp", "icmp6", "igmp", "igrp", "pim", "vrrp", "carp", "ah", "esp":
		return kwProto
	case "src", "dst":
		return kwDir
	case "host", "net", "port", "portrange":
		return kwAddr
	case "proto":
		return kwProtoQ
	case "mask":
		return kwMask
	case "ether", "fddi", "tr", "wlan", "ppp", "slip", "link", "arp", "rarp", "atalk", "aarp", "decnet",
		"lat", "sca", "moprc", "mopdl", "iso", "esis", "es-is", "isis", "is-is", "l1", "l2", "iih", "lsp",
		"snp", "csnp", "psnp", "clnp", "stp", "ipx", "netbeui", "vlan", "mpls", "pppoed", "pppoes", "geneve",
		"lane", "llc", "radio", "atm", "oam", "oamf4", "oamf4ec", "oamf4sc", "metac", "bcc", "sc", "ilmic",
		"connectmsg", "metaconnect", "vpi", "vci", "sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls",
		"fisu", "lssu", "msu", "hfisu", "hlssu", "hmsu", "addr1", "addr2", "addr3", "addr4", "ra", "ta",
		"type", "subtype", "dir", "ifname", "on", "rnr", "rulenum", "reason", "rset", "srnr", "subrulenum",
		"action", "inbound", "outbound", "ifindex":
		return kwLink
	case "gateway", "protochain":
		return kwUnsupportedIP
	case "broadcast", "multicast", "less", "greater", "len":
		return kwUnsupported // in primitives of their own, never as values
	}
	return kwNone
}

// maxDepth bounds the nesting of parentheses and negations.
const maxDepth = 100

// parser is a recursive-descent parser for the supported grammar:
//
//	expr      = unit { ("and" | "or") unit }        equal precedence, left to right
//	unit      = "not" unit | "(" expr ")" | primitive | value
//	primitive = pname [dqual] [aqual | "proto"] valexpr   (at least one qualifier after pname)
//	          | pname                                      (protocol abbreviation)
//	          | dqual [aqual] valexpr | aqual valexpr | "proto" valexpr
//	valexpr   = "not" valexpr | "(" valexpr { ("and" | "or") valexpr } ")" | value
//	value     = WORD [ "/" NUM | "mask" IPV4 ]
//
// A value standing as a unit takes the qualifiers of the unit before the
// operator in front of it, as in libpcap; parentheses pass on the
// qualifiers in force before them, and a protocol abbreviation passes on
// none.
type parser struct {
	lx    lexer
	tok   token // lookahead
	prev  token // last token consumed
	depth int
}

// bailout carries a *SyntaxError up the parser's stack.
type bailout struct{ err *SyntaxError }

func parse(expr string) (n node, err error) {
	p := &parser{lx: lexer{src: expr}}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			n, err = nil, b.err
		}
	}()
	p.advance()
	if p.tok.kind == tEnd {
		return &constNode{v: true}, nil
	}
	n, _ = p.expr(qual{})
	if p.tok.kind != tEnd {
		p.unexpected()
	}
	return n, nil
}

func (p *parser) fail(pos int, format string, args ...any) {
	panic(bailout{&SyntaxError{Expr: p.lx.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}})
}

func (p *parser) advance() {
	t, err := p.lx.next()
	if err != nil {
		panic(bailout{err})
	}
	p.prev, p.tok = p.tok, t
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.tok.pos, "expression nested more than %d deep", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// atKeyword reports whether the lookahead is an unescaped keyword of class c.
func (p *parser) atKeyword(c kwClass) bool {
	return p.tok.kind == tWord && !p.tok.escaped && keyword(p.tok.text) == c
}

// expected fails at the lookahead, which is not the wanted thing.
func (p *parser) expected(what string) {
	if p.prev.kind != tEnd {
		p.fail(p.tok.pos, "expected %s after %s, found %s", what, p.prev.describe(), p.tok.describe())
	}
	p.fail(p.tok.pos, "expected %s, found %s", what, p.tok.describe())
}

// unexpected fails at a lookahead that cannot continue a complete expression.
func (p *parser) unexpected() {
	t := p.tok
	switch {
	case t.kind == tRParen:
		p.fail(t.pos, `unexpected ")" without a matching "("`)
	case t.kind == tWord && !t.escaped && keyword(t.text) == kwNone && isNameStart(t.text[0]):
		p.unknownKeyword(t)
	case t.kind == tWord && !t.escaped:
		p.unsupported(t)
	}
	p.fail(t.pos, `unexpected %s after a complete expression (missing "and" or "or"?)`, t.describe())
}

func isNameStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }

func (p *parser) unknownKeyword(t token) {
	if l := strings.ToLower(t.text); l != t.text && keyword(l) != kwNone {
		p.fail(t.pos, "unknown keyword %q (keywords are lower case)", t.text)
	}
	p.fail(t.pos, "unknown keyword %q", t.text)
}

// unsupported fails at keyword t if it is one the package does not support.
func (p *parser) unsupported(t token) {
	switch keyword(t.text) {
	case kwLink:
		p.fail(t.pos, "%q is not supported: the filter sees IP packets from the IP header on, with no link layer", t.text)
	case kwUnsupportedIP, kwUnsupported:
		p.fail(t.pos, "%q is not supported", t.text)
	}
}

func (p *parser) expr(qin qual) (node, qual) {
	n, q := p.unit(qin)
	for p.tok.kind == tAnd || p.tok.kind == tOr {
		op := p.tok.kind
		p.advance()
		r, rq := p.unit(q)
		if op == tAnd {
			n = &andNode{n, r}
		} else {
			n = orOf(n, r)
		}
		q = rq
	}
	return n, q
}

// closeParen consumes the ")" that matches open.
func (p *parser) closeParen(open token) {
	switch p.tok.kind {
	case tRParen:
		p.advance()
		return
	case tEnd:
		p.fail(p.tok.pos, `missing ")" to match "(" at position %d`, open.pos+1)
	}
	p.unexpected()
}

func (p *parser) unit(qin qual) (node, qual) {
	p.enter()
	defer p.leave()
	t := p.tok
	switch t.kind {
	case tNot:
		p.advance()
		x, q := p.unit(qin)
		return not(x), q
	case tLParen:
		// "(ip[0] & 0xf) > 5" or "(tcp or udp)": the first if it parses.
		if n, ok := p.tryRelation(); ok {
			return n, qual{}
		}
		p.advance()
		x, _ := p.expr(qin)
		p.closeParen(t)
		return x, qin
	case tArith:
		if t.text == "-" {
			return p.relation(), qual{}
		}
	case tWord:
		if !t.escaped {
			_, named := namedConstants[t.text]
			switch {
			case p.startsRelation(), named:
				return p.relation(), qual{}
			case isNumberWord(t.text):
				// "1 = 1", or a value: "port 80 or 443".
				if n, ok := p.tryRelation(); ok {
					return n, qual{}
				}
			case t.text == "less" || t.text == "greater":
				return p.lengthPrimitive(), qual{}
			case t.text == "broadcast" || t.text == "multicast":
				p.fail(t.pos, "%q is not supported: the filter sees IP packets from the IP header on, with no link layer; write \"ip %s\"%s", t.text, t.text, map[bool]string{true: ` or "ip6 multicast"`}[t.text == "multicast"])
			}
			switch keyword(t.text) {
			case kwProto, kwDir, kwAddr, kwProtoQ:
				return p.primitive()
			case kwNone:
			default:
				p.unsupported(t)
				p.expected("an expression")
			}
		}
		if !qin.valid {
			if !t.escaped && isNameStart(t.text[0]) {
				p.unknownKeyword(t)
			}
			p.fail(t.pos, "%s needs a qualifier such as host, net, port or proto", t.describe())
		}
		return p.value(qin), qin
	}
	p.expected("an expression")
	return nil, qual{}
}

// primitive parses a primitive that starts with a qualifier keyword.
func (p *parser) primitive() (node, qual) {
	q := qual{valid: true}
	if p.atKeyword(kwProto) {
		name := p.tok.text
		p.advance()
		if t := p.tok; t.kind == tWord && !t.escaped && (t.text == "multicast" || t.text == "broadcast") {
			return p.castPrimitive(name, t), qual{}
		}
		if !p.atKeyword(kwDir) && !p.atKeyword(kwAddr) && !p.atKeyword(kwProtoQ) {
			return protoAbbrev(name), qual{}
		}
		q.protoName = name
		switch name {
		case "ip":
			q.proto = pqIP
		case "ip6":
			q.proto = pqIP6
		case "tcp":
			q.proto = pqTCP
		case "udp":
			q.proto = pqUDP
		case "sctp":
			q.proto = pqSCTP
		default:
			q.proto = pqOther
		}
	}
	if p.atKeyword(kwDir) {
		q.dir = p.direction()
	}
	t := p.tok
	switch {
	case p.atKeyword(kwAddr):
		switch t.text {
		case "host":
			q.addr = aqHost
		case "net":
			q.addr = aqNet
		case "port":
			q.addr = aqPort
		case "portrange":
			q.addr = aqPortRange
		}
		p.advance()
	case p.atKeyword(kwProtoQ):
		if q.dir != dqDefault {
			p.fail(t.pos, `"proto" takes no direction qualifier`)
		}
		q.addr = aqProto
		p.advance()
	}
	switch q.addr {
	case aqHost, aqNet, aqProto:
		if q.proto != pqDefault && q.proto != pqIP && q.proto != pqIP6 {
			p.fail(t.pos, `%q cannot qualify %q (only "ip" and "ip6" can)`, q.protoName, t.text)
		}
	case aqPort, aqPortRange:
		if q.proto != pqDefault && q.proto != pqTCP && q.proto != pqUDP && q.proto != pqSCTP {
			p.fail(t.pos, `%q cannot qualify %q (only "tcp", "udp" and "sctp" can)`, q.protoName, t.text)
		}
	}
	return p.valueExpr(q), q
}

// direction parses src, dst, "src or dst", "src and dst" (either order).
func (p *parser) direction() dirQual {
	first := p.tok.text
	p.advance()
	if p.tok.kind != tAnd && p.tok.kind != tOr {
		if first == "src" {
			return dqSrc
		}
		return dqDst
	}
	op := p.tok
	p.advance()
	other := "dst"
	if first == "dst" {
		other = "src"
	}
	if !p.atKeyword(kwDir) || p.tok.text != other {
		p.expected(fmt.Sprintf("%q", other))
	}
	p.advance()
	if op.kind == tAnd {
		return dqAnd
	}
	return dqOr
}

// valueExpr parses the value after a qualifier: a value, or values combined
// in parentheses, all under q.
func (p *parser) valueExpr(q qual) node {
	p.enter()
	defer p.leave()
	t := p.tok
	switch t.kind {
	case tNot:
		p.advance()
		return not(p.valueExpr(q))
	case tLParen:
		p.advance()
		n := p.valueExpr(q)
		for p.tok.kind == tAnd || p.tok.kind == tOr {
			op := p.tok.kind
			p.advance()
			r := p.valueExpr(q)
			if op == tAnd {
				n = &andNode{n, r}
			} else {
				n = orOf(n, r)
			}
		}
		p.closeParen(t)
		return n
	case tWord:
		if t.escaped || keyword(t.text) == kwNone || q.addr == aqProto && keyword(t.text) == kwProto {
			return p.value(q)
		}
	}
	p.expected(q.addr.wants())
	return nil
}

// wants names what a value under the qualifier must be.
func (a addrQual) wants() string {
	switch a {
	case aqHost:
		return "an IP address"
	case aqNet:
		return "a network address"
	case aqPort:
		return "a port number"
	case aqPortRange:
		return "a port range"
	case aqProto:
		return "a protocol number"
	}
	return "an IP address"
}

// valKind classifies a value word.
type valKind uint8

const (
	vName valKind = iota
	vNum
	vIPv4
	vIPv6
	vRange
)

// val is a classified value word with its mask suffix, if any.
type val struct {
	tok    token
	kind   valKind
	num    uint32   // vNum
	v4     uint32   // vIPv4, left-aligned
	parts  int      // vIPv4: how many numbers it was written with
	v6     [16]byte // vIPv6
	lo, hi uint32   // vRange

	suffix    tokKind // tSlash, tWord ("mask") or tEnd (none)
	suffixPos int
	bitsPos   int    // position of the mask length
	bits      int    // "/bits"
	mask      uint32 // "mask M"
	text      string // the value as written, suffix included, for messages
}

// value parses a value word and its suffix and compiles it under q.
func (p *parser) value(q qual) node {
	v := p.word()
	switch q.addr {
	case aqDefault, aqHost:
		return p.host(q, v)
	case aqNet:
		return p.network(q, v)
	case aqPort, aqPortRange:
		return p.port(q, v)
	case aqProto:
		return p.protocol(q, v)
	}
	panic("pcapfilter: bad address qualifier")
}

// word consumes a value word and its optional "/N" or "mask M" suffix.
func (p *parser) word() val {
	t := p.tok
	p.advance()
	v := val{tok: t, suffix: tEnd, text: t.text}
	p.classify(&v)
	switch {
	case p.tok.kind == tSlash:
		v.suffix, v.suffixPos = tSlash, p.tok.pos
		p.advance()
		b := p.tok
		if b.kind != tWord || b.escaped || !isDecimal(b.text) {
			p.expected("a mask length")
		}
		p.advance()
		n := 0
		for _, c := range []byte(b.text) {
			n = n*10 + int(c-'0')
			if n > 128 {
				break
			}
		}
		if n > 128 {
			p.fail(b.pos, "mask length %q is out of range (0-128)", b.text)
		}
		v.bits, v.bitsPos = n, b.pos
		v.text += "/" + b.text
	case p.atKeyword(kwMask):
		v.suffix, v.suffixPos = tWord, p.tok.pos
		p.advance()
		m := val{tok: p.tok}
		if p.tok.kind == tWord && !p.tok.escaped && keyword(p.tok.text) == kwNone {
			p.advance()
			p.classify(&m)
		}
		if m.kind != vIPv4 || m.parts != 4 {
			p.fail(m.tok.pos, "expected a netmask such as 255.255.0.0 after \"mask\", found %s", m.tok.describe())
		}
		v.mask = m.v4
		v.text += " mask " + m.tok.text
	}
	return v
}

func isDecimal(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// classify sets v's kind and number fields from its word, failing on a
// malformed number or address.
func (p *parser) classify(v *val) {
	t := v.tok
	s := t.text
	switch {
	case t.escaped:
		v.kind = vName
	case strings.IndexByte(s, ':') >= 0:
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() {
			p.fail(t.pos, "invalid IPv6 address %q", s)
		}
		v.kind, v.v6 = vIPv6, a.As16()
	case s[0] < '0' || s[0] > '9':
		v.kind = vName
	case strings.IndexByte(s, '-') >= 0:
		lo, hi, _ := strings.Cut(s, "-")
		var ok1, ok2 bool
		v.lo, ok1 = p.number(t, lo)
		v.hi, ok2 = p.number(t, hi)
		if !ok1 || !ok2 {
			p.fail(t.pos, "invalid port range %q", s)
		}
		v.kind = vRange
	case strings.IndexByte(s, '.') >= 0:
		parts := strings.Split(s, ".")
		if len(parts) > 4 {
			p.fail(t.pos, "invalid IPv4 address %q", s)
		}
		var a uint32
		for _, part := range parts {
			if !isDecimal(part) || len(part) > 3 {
				p.fail(t.pos, "invalid IPv4 address %q", s)
			}
			n := 0
			for _, c := range []byte(part) {
				n = n*10 + int(c-'0')
			}
			if n > 255 {
				p.fail(t.pos, "invalid IPv4 address %q", s)
			}
			a = a<<8 | uint32(n)
		}
		v.kind, v.parts, v.v4 = vIPv4, len(parts), a<<(8*(4-len(parts)))
	default:
		n, ok := p.number(t, s)
		if !ok {
			p.fail(t.pos, "invalid number %q", s)
		}
		v.kind, v.num = vNum, n
	}
}

// number parses s, part of token t, as libpcap reads numbers: hex after
// 0x, octal after a leading 0, else decimal. It reports false for text
// that is no number, and fails for one too large for 32 bits.
func (p *parser) number(t token, s string) (uint32, bool) {
	base := uint64(10)
	digits := s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if digits == "" {
		return 0, false
	}
	var n uint64
	for _, c := range []byte(digits) {
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			if base == 8 && d < 10 {
				p.fail(t.pos, "number %q contains a non-octal digit", s)
			}
			return 0, false
		}
		n = n*base + d
		if n > 0xffffffff {
			p.fail(t.pos, "number %q is too large", s)
		}
	}
	return uint32(n), true
}

// checkFamily fails when q's protocol qualifier excludes the address family.
func (p *parser) checkFamily(q qual, v val, v6 bool) {
	switch {
	case q.proto == pqIP6 && !v6:
		p.fail(v.tok.pos, `IPv4 address %q cannot be qualified by "ip6"`, v.tok.text)
	case q.proto == pqIP && v6:
		p.fail(v.tok.pos, `IPv6 address %q cannot be qualified by "ip"`, v.tok.text)
	case q.proto != pqDefault && q.proto != pqIP && q.proto != pqIP6:
		p.fail(v.tok.pos, `%q cannot qualify an address (did you mean %q?)`, q.protoName, q.protoName+" port")
	}
}

func (p *parser) host(q qual, v val) node {
	if v.suffix != tEnd {
		p.fail(v.suffixPos, `a mask is for networks only; use "net"`)
	}
	switch v.kind {
	case vIPv4:
		if v.parts != 4 {
			break
		}
		p.checkFamily(q, v, false)
		return hostV4(q.dir, v.v4, 0xffffffff)
	case vIPv6:
		p.checkFamily(q, v, true)
		return hostV6(q.dir, v.v6, 128)
	case vName:
		p.fail(v.tok.pos, "host name %q is not resolved (no DNS lookups); use an IP address", v.tok.text)
	case vRange:
		p.fail(v.tok.pos, "%q is not an IP address", v.tok.text)
	}
	p.fail(v.tok.pos, `%q is not a full IPv4 address (a.b.c.d); use "net" for a network`, v.tok.text)
	return nil
}

func (p *parser) network(q qual, v val) node {
	switch v.kind {
	case vIPv4, vNum:
		p.checkFamily(q, v, false)
		addr, mask := v.v4, ^uint32(0)<<(32-8*v.parts)
		if v.kind == vNum {
			// libpcap promotes a bare number to the leading bytes of a
			// network: 10 is 10.0.0.0/8, 266 is 1.10.0.0/16.
			addr, mask = v.num, ^uint32(0)
			for addr != 0 && addr&0xff000000 == 0 {
				addr, mask = addr<<8, mask<<8
			}
			if v.suffix != tEnd {
				if v.num > 255 {
					p.fail(v.tok.pos, "%q is not an IPv4 network", v.tok.text)
				}
				addr = v.num << 24
			}
		}
		switch v.suffix {
		case tSlash:
			if v.bits > 32 {
				p.fail(v.bitsPos, "mask length %d is out of range for IPv4 (0-32)", v.bits)
			}
			mask = 0
			if v.bits > 0 {
				mask = ^uint32(0) << (32 - v.bits)
			}
		case tWord:
			mask = v.mask
		}
		if addr&^mask != 0 {
			p.fail(v.tok.pos, "non-network bits set in %q", v.text)
		}
		return hostV4(q.dir, addr, mask)
	case vIPv6:
		p.checkFamily(q, v, true)
		bits := 128
		switch v.suffix {
		case tSlash:
			bits = v.bits
		case tWord:
			p.fail(v.suffixPos, `"mask" is for IPv4 networks; write an IPv6 prefix as ADDRESS/LENGTH`)
		}
		for i := range v.v6 {
			keep := bits - 8*i
			if keep >= 8 {
				continue
			}
			m := byte(0)
			if keep > 0 {
				m = byte(0xff << (8 - keep))
			}
			if v.v6[i]&^m != 0 {
				p.fail(v.tok.pos, "non-network bits set in %q", v.text)
			}
		}
		return hostV6(q.dir, v.v6, bits)
	case vName:
		p.fail(v.tok.pos, "network name %q is not resolved; use an address such as 10.0.0.0/8", v.tok.text)
	}
	p.fail(v.tok.pos, "%q is not a network address", v.tok.text)
	return nil
}

func (p *parser) port(q qual, v val) node {
	if v.suffix != tEnd {
		p.fail(v.suffixPos, "a mask is for networks only")
	}
	what := "port"
	if q.addr == aqPortRange {
		what = "port range"
	}
	checkPort := func(n uint32) {
		if n > 65535 {
			p.fail(v.tok.pos, "port number %d is out of range (0-65535)", n)
		}
	}
	switch v.kind {
	case vNum:
		checkPort(v.num)
		return portFor(q.proto, q.dir, v.num, v.num, q.addr == aqPortRange)
	case vRange:
		if q.addr != aqPortRange {
			p.fail(v.tok.pos, `%q is a port range; use "portrange"`, v.tok.text)
		}
		checkPort(v.lo)
		checkPort(v.hi)
		lo, hi := v.lo, v.hi
		if lo > hi {
			lo, hi = hi, lo
		}
		return portFor(q.proto, q.dir, lo, hi, true)
	case vName:
		if n, ok := servicePort(v.tok.text); ok {
			p.fail(v.tok.pos, "service names are not supported; write %q as its port number, %d", v.tok.text, n)
		}
		p.fail(v.tok.pos, "service names are not supported; write %q as a port number", v.tok.text)
	}
	p.fail(v.tok.pos, "%q is not a %s", v.tok.text, what)
	return nil
}

// servicePort gives the port of a few well-known services, for the hint
// in the error message that rejects service names.
func servicePort(name string) (int, bool) {
	switch name {
	case "ftp":
		return 21, true
	case "ssh":
		return 22, true
	case "telnet":
		return 23, true
	case "smtp":
		return 25, true
	case "domain", "dns":
		return 53, true
	case "http", "www":
		return 80, true
	case "ntp":
		return 123, true
	case "https":
		return 443, true
	}
	return 0, false
}

func (p *parser) protocol(q qual, v val) node {
	if v.suffix != tEnd {
		p.fail(v.suffixPos, "a mask is for networks only")
	}
	switch v.kind {
	case vNum:
		if v.num > 255 {
			p.fail(v.tok.pos, "protocol number %q is out of range (0-255)", v.tok.text)
		}
		return protoFor(q.proto, v.num)
	case vName:
		if n, ok := protocolNumber(v.tok.text); ok {
			return protoFor(q.proto, n)
		}
		p.fail(v.tok.pos, "unknown protocol name %q; use the protocol number", v.tok.text)
	}
	p.fail(v.tok.pos, "%q is not a protocol number", v.tok.text)
	return nil
}

// protocolNumber is a small built-in table of IP protocol names (the
// names of /etc/protocols, and icmp6).
func protocolNumber(name string) (uint32, bool) {
	switch name {
	case "icmp":
		return protoICMP, true
	case "igmp":
		return protoIGMP, true
	case "tcp":
		return protoTCP, true
	case "udp":
		return protoUDP, true
	case "ipv6":
		return 41, true
	case "gre":
		return 47, true
	case "esp":
		return protoESP, true
	case "ah":
		return protoAH, true
	case "icmp6", "ipv6-icmp":
		return protoICMPv6, true
	case "ospf":
		return 89, true
	case "pim":
		return protoPIM, true
	case "vrrp":
		return protoVRRP, true
	case "sctp":
		return protoSCTP, true
	}
	return 0, false
}

// isNumberWord reports whether w is a whole number: decimal, 0x hex or
// 0-prefixed octal digits, nothing else.
func isNumberWord(w string) bool {
	if len(w) > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X') {
		w = w[2:]
		for i := 0; i < len(w); i++ {
			if c := w[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		return true
	}
	return w != "" && isDecimal(w)
}

// tryRelation parses a relation if the tokens from the lookahead on make
// one, and otherwise leaves the parser as it was.
func (p *parser) tryRelation() (n node, ok bool) {
	saved := *p
	defer func() {
		if r := recover(); r != nil {
			if _, isBailout := r.(bailout); !isBailout {
				panic(r)
			}
			*p, n, ok = saved, nil, false
		}
	}()
	return p.relation(), true
}

// lengthPrimitive parses "less N" (len <= N) and "greater N" (len >= N).
func (p *parser) lengthPrimitive() node {
	kw := p.tok
	p.advance()
	t := p.tok
	n, ok := uint32(0), false
	if t.kind == tWord && !t.escaped && isNumberWord(t.text) {
		n, ok = p.number(t, t.text)
	}
	if !ok {
		p.expected("a length in bytes")
	}
	p.advance()
	if kw.text == "less" {
		return &relNode{l: &arLen{}, r: &arNum{v: n}, cond: bpf.JumpGreaterThan, neg: true}
	}
	return &relNode{l: &arLen{}, r: &arNum{v: n}, cond: bpf.JumpGreaterOrEqual}
}

// castPrimitive parses "ip multicast" (destination 224.0.0.0/4 and up, as
// libpcap tests it), "ip6 multicast" (destination ff00::/8) and "ip
// broadcast" (destination 255.255.255.255 or 0.0.0.0: libpcap's test when
// it knows no netmask, as for a capture file or raw IP; the subnet's own
// broadcast address is not known here).
func (p *parser) castPrimitive(proto string, t token) node {
	p.advance()
	switch {
	case proto == "ip" && t.text == "multicast":
		return and(isIPv4(), &cmpNode{ld: abs(16, 1), cond: bpf.JumpGreaterOrEqual, val: 0xe0})
	case proto == "ip6" && t.text == "multicast":
		return and(isIPv6(), eq(abs(24, 1), 0xff))
	case proto == "ip" && t.text == "broadcast":
		return and(isIPv4(), or(eq(abs(16, 4), 0), eq(abs(16, 4), 0xffffffff)))
	}
	p.fail(t.pos, "%q cannot qualify %q (only \"ip\" and \"ip6\" multicast, and \"ip broadcast\")", proto, t.text)
	return nil
}

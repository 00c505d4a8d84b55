// Package pcapfilter compiles pcap-filter(7) expressions, the language of
// tcpdump's and nethogs's filter argument, to classic BPF programs for
// packets that begin at the IP header, as hogs's SOCK_DGRAM packet sockets
// deliver them (libpcap's LINKTYPE_RAW): there is no link-layer header, and
// IPv4 and IPv6 are told apart by the version nibble of the first byte. A
// program returns the snap length for a packet the expression matches and
// 0 for any other packet, including one too short for a field the program
// loads; it tests what libpcap's program for LINKTYPE_RAW tests, in the
// order libpcap's optimizer leaves the tests in for the usual expressions,
// so it accepts and rejects the packets tcpdump would. (The order matters
// for a packet cut short inside a header, since a failed load rejects the
// packet: for such a packet and some lists of mixed primitives, such as
// "port 80 or tcp port 443", tcpdump's program may accept what this one
// rejects.)
//
// The subset is that of IP:
//
//   - host ADDR, net NET (a.b.c.d/len, a.b.c.d mask m.m.m.m, a.b.c, a.b,
//     a, IPv6 addr/len), port N, portrange N-M, proto N (or a name: tcp,
//     udp, icmp, ...), and the protocol
//     names ip, ip6, tcp, udp, sctp, icmp, icmp6, igmp, igrp, pim, vrrp,
//     carp, ah and esp;
//   - the direction qualifiers src, dst, src or dst, src and dst; the
//     protocol qualifiers ip and ip6 before host, net and proto, tcp, udp
//     and sctp before port and portrange;
//   - and (&&), or (||), not (!) and parentheses, with libpcap's
//     precedence (not binds tightest; and and or are equal and group from
//     the left) and its rule that a value standing alone after an
//     operator takes the qualifiers of the primitive before it: "port 80
//     or 443", "host A or (B or not C)";
//   - relations of arithmetic expressions, "tcp[tcpflags] & tcp-syn != 0",
//     "ip[2:2] > 576", "len >= 60" (see arith.go for the loads, the
//     operators and libpcap's quirks they copy), less N and greater N;
//   - ip multicast, ip6 multicast, and ip broadcast (255.255.255.255 and
//     0.0.0.0, as libpcap tests it when it knows no netmask).
//
// Numbers are decimal, 0x hex or 0-prefixed octal, as in libpcap. Like
// libpcap, port matches TCP, UDP and SCTP, never in an IPv4 fragment other
// than the first; the IPv4 header length comes from the IHL field; for
// IPv6, ports are looked for right after the fixed header only, and a
// protocol in the fixed header's next-header field or in that of a
// fragment header right after it; an IPv4 address matches only IPv4
// packets and an IPv6 address only IPv6 ones.
//
// Compile rejects, with a *SyntaxError, what needs a lookup (host names,
// network names, service names such as "port http": write the number),
// link-layer and non-IP primitives (ether, vlan, arp, ether[] and link[]
// loads, broadcast and multicast without ip or ip6: libpcap too refuses
// most of them for raw IP), a load whose index is not a constant
// (tcp[tcp[12]>>4]), arithmetic needing more than BPF's 16 scratch words,
// the other keywords of pcap-filter(7), and a few forms libpcap reads in
// surprising ways: a host written as a partial address or a bare number
// ("host 10.1", "host 1.2.3.4 or 80"), and protocol numbers over 255.
package pcapfilter

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
)

// DefaultSnapLen is the snap length Compile uses when it is given 0: the
// largest that libpcap uses (what tcpdump -s 0 means).
const DefaultSnapLen = 262144

// MaxInstructions is the largest program the Linux kernel accepts
// (BPF_MAXINSNS); Compile rejects expressions whose program is larger.
const MaxInstructions = 4096

// Compile compiles expr for packets that begin at the IP header. The program returns
// snaplen for packets that match and 0 for the others. An empty (or all-blank) expr matches everything.
//
// A snaplen of 0 means DefaultSnapLen. Every error Compile returns is a
// *SyntaxError. The program is valid for the kernel: at most
// MaxInstructions instructions, forward jumps only, conditional jumps
// within their 8-bit range, and every path ends in a return.
func Compile(expr string, snaplen uint32) ([]bpf.Instruction, error) {
	return compile(expr, snaplen, true)
}

// compile is Compile, optionally without the passes that shorten the
// program (the tests compare the two).
func compile(expr string, snaplen uint32, optimize bool) ([]bpf.Instruction, error) {
	if snaplen == 0 {
		snaplen = DefaultSnapLen
	}
	tree, err := parse(expr)
	if err != nil {
		return nil, err
	}
	prog, err := generate(tree, snaplen, optimize)
	if err != nil {
		return nil, &SyntaxError{Expr: expr, Pos: 0, Msg: err.Error()}
	}
	return prog, nil
}

// SyntaxError: an expression Compile cannot compile. Error() is one line:
//
//	filter "tcp prot 80": position 5: unknown keyword "prot"
//
// Pos is a 0-based byte offset into Expr; Error reports it 1-based
// (Pos+1), as the column a person counts, so Pos 4 above. Expr and every
// word of the expression that Msg repeats are quoted with %q, so the line
// never carries a control character. An expression that parses but
// compiles to a program too large for the kernel has Pos 0.
type SyntaxError struct {
	Expr string // the expression as given to Compile
	Pos  int    // 0-based byte offset of the problem in Expr; len(Expr) for a premature end
	Msg  string // what is wrong, one line without the expression
}

// Error returns `filter "EXPR": position N: MSG`, with N = Pos+1.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter %q: position %d: %s", e.Expr, e.Pos+1, e.Msg)
}

// Filter runs a compiled program in golang.org/x/net/bpf's virtual
// machine, for tests and for replaying capture files offline. It is safe
// for concurrent use.
type Filter struct {
	vm *bpf.VM
}

// NewFilter returns a Filter running prog, or an error if the virtual
// machine refuses the program.
func NewFilter(prog []bpf.Instruction) (*Filter, error) {
	vm, err := bpf.NewVM(vmProgram(prog))
	if err != nil {
		return nil, err
	}
	return &Filter{vm: vm}, nil
}

// Match reports whether the program accepts pkt, a packet that begins at
// its IP header: whether it returns non-zero. The virtual machine, unlike
// the kernel, does not clip the return value to len(pkt), so Match looks
// at nothing but zero versus non-zero.
func (f *Filter) Match(pkt []byte) bool {
	n, err := f.vm.Run(pkt)
	return err == nil && n != 0
}

// vmProgram returns prog as golang.org/x/net/bpf's virtual machine can run
// it: the machine lacks BPF_NEG, which libpcap and Compile emit for a
// unary minus, so that runs as a multiplication by -1.
func vmProgram(prog []bpf.Instruction) []bpf.Instruction {
	if !slices.ContainsFunc(prog, func(ins bpf.Instruction) bool { _, ok := ins.(bpf.NegateA); return ok }) {
		return prog
	}
	prog = slices.Clone(prog)
	for i, ins := range prog {
		if _, ok := ins.(bpf.NegateA); ok {
			prog[i] = bpf.ALUOpConstant{Op: bpf.ALUOpMul, Val: 0xffffffff}
		}
	}
	return prog
}

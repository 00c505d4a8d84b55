package rawcap

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// SnapLen bounds how many bytes of each packet the kernel copies to hogs,
// counted from the IP header. The counting filter keeps less where it can
// tell the headers' size (see KernelFilter); SnapLen is what an IPv6
// packet with extension headers gets: enough for a few of them before the
// ports. The wire length is reported separately, so trimming costs no
// accuracy.
const SnapLen = 192

// transportKept is how much of the TCP or UDP header the counting filter
// keeps: TCP up to its flags (14 bytes), UDP's 8 and 6 more if the datagram
// has them, as much as the decoder's fast path for a plain IP header reads
// (less would send every UDP datagram down the general path, about 3 ns
// more each).
const transportKept = 14

// maxFilterInstructions is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxFilterInstructions = 4096

// IP protocol numbers the kernel filter tests.
const (
	ipProtoHopByHop = 0
	ipProtoTCP      = 6
	ipProtoUDP      = 17
	ipProtoRouting  = 43
	ipProtoFragment = 44
	ipProtoDestOpts = 60
)

// FilterOptions selects what the kernel filter keeps.
type FilterOptions struct {
	// UDP keeps UDP as well as TCP (nethogs -C).
	UDP bool
	// SnapLen is the most bytes kept per packet; 0 means SnapLen.
	SnapLen uint32
	// User is an extra program, compiled from a pcap-filter expression for
	// packets that start at the IP header (package pcapfilter), that must
	// also accept a packet. KernelFilter keeps what it always keeps of a
	// packet the user program accepts; HandshakeFilter keeps as much as
	// the user program's return value says.
	User []bpf.Instruction
}

// KernelFilter builds the classic BPF program attached to hogs's packet
// sockets (SOCK_DGRAM: every packet starts at its IP header). It keeps IPv4
// and IPv6 packets whose protocol hogs accounts (TCP; UDP with opts.UDP),
// and IPv6 packets whose first next-header is an extension header (the
// decoder walks the chain; the filter cannot), and drops everything else,
// including packets too short to hold the fields it tests. A user program,
// if any, runs after these tests and decides whether a packet is kept;
// how much of it is kept is the filter's choice.
//
// A kept packet is trimmed to its IP header (IPv4 options included) and
// the first transportKept bytes after it, or to the snap length when IPv6
// extension headers come first. Each byte kept is a byte the kernel writes
// and hogs reads from the ring, on different CPUs: a 64-byte TCP segment
// takes 144 bytes of ring this way, instead of 224 with the whole packet.
func KernelFilter(opts FilterOptions) ([]bpf.Instruction, error) {
	snap := opts.SnapLen
	if snap == 0 {
		snap = SnapLen
	}
	var a labelAsm
	a.op(bpf.LoadAbsolute{Off: 0, Size: 1})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
	a.jumpEq(4, "v4", "")
	a.jumpEq(6, "v6", "reject")

	a.label("v4")
	a.op(bpf.LoadAbsolute{Off: 9, Size: 1}) // IPv4 protocol
	a.jumpEq(ipProtoTCP, "accept", "")
	if opts.UDP {
		a.jumpEq(ipProtoUDP, "accept", "reject")
	} else {
		a.jump("reject")
	}

	a.label("v6")
	a.op(bpf.LoadAbsolute{Off: 6, Size: 1}) // IPv6 next header
	accepted := []uint32{ipProtoTCP, ipProtoHopByHop, ipProtoRouting, ipProtoFragment, ipProtoDestOpts}
	if opts.UDP {
		accepted = append(accepted, ipProtoUDP)
	}
	for i, proto := range accepted {
		if i == len(accepted)-1 {
			a.jumpEq(proto, "accept", "reject")
		} else {
			a.jumpEq(proto, "accept", "")
		}
	}

	return a.finish(snap, opts.User, "capture filter", (*labelAsm).trimToHeaders)
}

// trimToHeaders returns how much KernelFilter keeps of a packet: its IP
// header and transportKept bytes, at most snap; snap when IPv6 extension
// headers come first.
func (a *labelAsm) trimToHeaders(snap uint32) {
	a.op(bpf.LoadAbsolute{Off: 0, Size: 1})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
	a.jumpEq(4, "", "trim6")
	a.op(bpf.LoadMemShift{Off: 0}) // X = IPv4 header length
	a.op(bpf.TXA{})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: transportKept})
	a.jump("cap")
	a.label("trim6")
	a.op(bpf.LoadAbsolute{Off: 6, Size: 1})
	a.jumpEq(ipProtoTCP, "trim6kept", "")
	a.jumpEq(ipProtoUDP, "", "snap")
	a.label("trim6kept")
	a.op(bpf.LoadConstant{Dst: bpf.RegA, Val: 40 + transportKept})
	a.label("cap")
	a.jumpIf(bpf.JumpGreaterThan, snap, "snap", "")
	a.op(bpf.RetA{})
	a.label("snap")
	a.op(bpf.RetConstant{Val: snap})
}

// finish ends a filter whose tests jump to the labels "reject" and
// "accept": reject returns 0, accept runs the user program if there is one,
// then keeps the packet. Without keep, the user program's return value
// becomes the filter's (snap bytes without one); with keep, the user
// program's returns that keep a packet jump to keep's code instead, which
// returns how much to keep. what names the filter in an error.
func (a *labelAsm) finish(snap uint32, user []bpf.Instruction, what string, keep func(*labelAsm, uint32)) ([]bpf.Instruction, error) {
	a.label("reject")
	a.op(bpf.RetConstant{Val: 0})
	a.label("accept")
	// The user program starts at "accept"; its own jumps are relative and
	// its length does not change, so it needs no relocation.
	for _, ins := range user {
		if r, ok := ins.(bpf.RetConstant); ok && r.Val != 0 && keep != nil {
			a.jump("keep")
			continue
		}
		a.op(ins)
	}
	switch {
	case keep != nil:
		a.label("keep")
		keep(a, snap)
	case len(user) == 0:
		a.op(bpf.RetConstant{Val: snap})
	}
	prog, err := a.resolve()
	if err != nil {
		return nil, err
	}
	if len(prog) > maxFilterInstructions {
		return nil, fmt.Errorf("%s has %d instructions, more than the kernel's %d", what, len(prog), maxFilterInstructions)
	}
	return prog, nil
}

// The SYN and ACK bits of the TCP flags byte (offset 13).
const (
	tcpFlagSYN = 0x02
	tcpFlagACK = 0x10
)

// packetOutgoing is PACKET_OUTGOING, the packet type of what this host
// sends.
const packetOutgoing = 4

// HandshakeDirectionCheck is how many instructions HandshakeFilter's
// outgoing-only check takes at its start.
const HandshakeDirectionCheck = 2

// HandshakeFilter builds the program of the handshake watcher's socket
// (SOCK_DGRAM, packets start at the IP header): it keeps the TCP segments
// this host sends that open a connection (SYN without ACK) over IPv4,
// first fragments only, and over IPv6 without extension headers, trimmed
// to the snap length; a user program, if any, must also accept them.
// These tell hogs at once of a connection this host opens, whose socket
// is looked up then, however short its life, while the counting ring
// batches everything else. Connections to this host are looked up once
// the peer has answered the SYN-ACK, which the ring shows, so their SYNs
// are left out: a SYN flood, every packet a new connection, would
// otherwise wake hogs for every packet.
//
// The program's first two instructions (HandshakeDirectionCheck) keep
// only outgoing packets, by the kernel's packet type, an extension
// x/net/bpf's virtual machine cannot run: tests run the rest.
func HandshakeFilter(opts FilterOptions) ([]bpf.Instruction, error) {
	snap := opts.SnapLen
	if snap == 0 {
		snap = SnapLen
	}
	var a labelAsm
	a.op(bpf.LoadExtension{Num: bpf.ExtType})
	a.jumpEq(packetOutgoing, "", "reject")
	a.op(bpf.LoadAbsolute{Off: 0, Size: 1})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
	a.jumpEq(4, "v4", "")
	a.jumpEq(6, "v6", "reject")

	a.label("v4")
	a.op(bpf.LoadAbsolute{Off: 9, Size: 1})
	a.jumpEq(ipProtoTCP, "", "reject")
	a.op(bpf.LoadAbsolute{Off: 6, Size: 2}) // flags and fragment offset
	a.jumpIf(bpf.JumpBitsSet, 0x1fff, "reject", "")
	a.op(bpf.LoadMemShift{Off: 0}) // X = IPv4 header length
	a.op(bpf.LoadIndirect{Off: 13, Size: 1})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: tcpFlagSYN | tcpFlagACK})
	a.jumpEq(tcpFlagSYN, "accept", "reject")

	a.label("v6")
	a.op(bpf.LoadAbsolute{Off: 6, Size: 1})
	a.jumpEq(ipProtoTCP, "", "reject")
	a.op(bpf.LoadAbsolute{Off: 40 + 13, Size: 1})
	a.op(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: tcpFlagSYN | tcpFlagACK})
	a.jumpEq(tcpFlagSYN, "accept", "reject")

	return a.finish(snap, opts.User, "handshake filter", nil)
}

// labelAsm assembles a forward-only program with symbolic jump targets.
type labelAsm struct {
	prog   []bpf.Instruction
	labels map[string]int
	fixups []fixup
}

type fixup struct {
	at        int
	onTrue    string
	onFalse   string // "" = next instruction
	condition bpf.JumpTest
	val       uint32
	always    bool
}

func (a *labelAsm) op(ins bpf.Instruction) { a.prog = append(a.prog, ins) }

func (a *labelAsm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.prog)
}

func (a *labelAsm) jumpEq(val uint32, onTrue, onFalse string) {
	a.fixups = append(a.fixups, fixup{at: len(a.prog), onTrue: onTrue, onFalse: onFalse, condition: bpf.JumpEqual, val: val})
	a.prog = append(a.prog, nil)
}

func (a *labelAsm) jumpIf(cond bpf.JumpTest, val uint32, onTrue, onFalse string) {
	a.fixups = append(a.fixups, fixup{at: len(a.prog), onTrue: onTrue, onFalse: onFalse, condition: cond, val: val})
	a.prog = append(a.prog, nil)
}

func (a *labelAsm) jump(to string) {
	a.fixups = append(a.fixups, fixup{at: len(a.prog), onTrue: to, always: true})
	a.prog = append(a.prog, nil)
}

func (a *labelAsm) resolve() ([]bpf.Instruction, error) {
	skip := func(from int, to string) (uint32, error) {
		if to == "" {
			return 0, nil
		}
		target, ok := a.labels[to]
		if !ok || target <= from {
			return 0, fmt.Errorf("filter label %q: missing or backward", to)
		}
		return uint32(target - from - 1), nil
	}
	for _, f := range a.fixups {
		t, err := skip(f.at, f.onTrue)
		if err != nil {
			return nil, err
		}
		if f.always {
			a.prog[f.at] = bpf.Jump{Skip: t}
			continue
		}
		e, err := skip(f.at, f.onFalse)
		if err != nil {
			return nil, err
		}
		if t > 255 || e > 255 {
			return nil, fmt.Errorf("filter jump too long")
		}
		a.prog[f.at] = bpf.JumpIf{Cond: f.condition, Val: f.val, SkipTrue: uint8(t), SkipFalse: uint8(e)}
	}
	return a.prog, nil
}

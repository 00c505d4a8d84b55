package rawcap

import (
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"hogs/decode"
)

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Packets as a SOCK_DGRAM socket delivers them: starting at the IP header.
const (
	pktIPv4TCP  = "45000028 00004000 4006 0000 0a000001 0a000002 a02801bb 00000001 00000000 5010ffff 00000000"
	pktIPv4UDP  = "4500001c 00004000 4011 0000 0a000001 0a000002 d4310035 00080000"
	pktIPv4ICMP = "4500001c 00004000 4001 0000 0a000001 0a000002 08000000 00010001"
	pktIPv6TCP  = "60000000 0014 0640 20010db8000000000000000000000001 20010db8000000000000000000000002 a02801bb 00000001 00000000 5010ffff 00000000"
	pktIPv6UDP  = "60000000 0008 1140 20010db8000000000000000000000001 20010db8000000000000000000000002 d4310035 00080000"
	pktIPv6HBH  = "60000000 0010 0040 20010db8000000000000000000000001 20010db8000000000000000000000002 11000000 00000000 d4310035 00080000"
	pktIPv6ICMP = "60000000 0008 3a40 20010db8000000000000000000000001 20010db8000000000000000000000002 80000000 00010001"
	// ARP as SOCK_DGRAM hands it over: hardware type 1, protocol IPv4, ...
	pktARP = "0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002"
)

func runFilter(t *testing.T, prog []bpf.Instruction, pkt []byte) int {
	t.Helper()
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("filter does not load: %v", err)
	}
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatalf("filter fails on %x: %v", pkt, err)
	}
	return n
}

// Packets with IPv4 options, whose header length the trim must follow.
const (
	pktIPv4OptionsTCP = "47000034 00004000 4006 0000 0a000001 0a000002 01010101 01010101 a02801bb 00000001 00000000 5010ffff 00000000 000000000000"
	pktIPv4OptionsUDP = "46000024 00004000 4011 0000 0a000001 0a000002 01010101 d4310035 00080000 00000000"
)

func TestKernelFilter(t *testing.T) {
	packets := map[string]string{
		"ipv4 tcp": pktIPv4TCP, "ipv4 udp": pktIPv4UDP, "ipv4 icmp": pktIPv4ICMP,
		"ipv4 options tcp": pktIPv4OptionsTCP, "ipv4 options udp": pktIPv4OptionsUDP,
		"ipv6 tcp": pktIPv6TCP, "ipv6 udp": pktIPv6UDP, "ipv6 hop-by-hop": pktIPv6HBH, "ipv6 icmp": pktIPv6ICMP,
		"arp": pktARP, "empty": "", "one byte": "45", "ipv4 cut before protocol": "45000028 0000",
	}
	// What a kept packet is trimmed to: its IP header and 14 bytes of TCP
	// or UDP (a runFilter result past the packet's end means all of it);
	// the snap length when IPv6 extension headers come first.
	trimmed := map[string]int{
		"ipv4 tcp": 20 + 14, "ipv4 udp": 20 + 14, "ipv4 options tcp": 28 + 14, "ipv4 options udp": 24 + 14,
		"ipv6 tcp": 40 + 14, "ipv6 udp": 40 + 14, "ipv6 hop-by-hop": SnapLen,
	}
	tests := []struct {
		name string
		opts FilterOptions
		keep []string
	}{
		{"tcp only (nethogs default)", FilterOptions{}, []string{"ipv4 tcp", "ipv4 options tcp", "ipv6 tcp", "ipv6 hop-by-hop"}},
		{"tcp and udp (-C)", FilterOptions{UDP: true}, []string{"ipv4 tcp", "ipv4 udp", "ipv4 options tcp", "ipv4 options udp", "ipv6 tcp", "ipv6 udp", "ipv6 hop-by-hop"}},
		{"user program keeps only ipv4", FilterOptions{UDP: true, User: keepIPVersion(4, 100)}, []string{"ipv4 tcp", "ipv4 udp", "ipv4 options tcp", "ipv4 options udp"}},
	}
	for _, tt := range tests {
		checkFilter(t, tt.name, KernelFilter, tt.opts, packets, tt.keep, func(name string) int { return trimmed[name] })
	}
}

// keepIPVersion is a user program that keeps packets of one IP version,
// snap bytes of them.
func keepIPVersion(version, snap uint32) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 1},
		bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: version, SkipFalse: 1},
		bpf.RetConstant{Val: snap},
		bpf.RetConstant{Val: 0},
	}
}

// checkFilter builds a filter with opts and runs it on each of packets
// (name → hex): the ones named in keep must come back with kept(name)
// bytes, the others dropped.
func checkFilter(t *testing.T, what string, build func(FilterOptions) ([]bpf.Instruction, error), opts FilterOptions,
	packets map[string]string, keep []string, kept func(name string) int) {
	t.Helper()
	prog, err := build(opts)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatalf("%s: does not assemble: %v", what, err)
	}
	keeps := map[string]bool{}
	for _, k := range keep {
		keeps[k] = true
	}
	for name, hexText := range packets {
		got := runFilter(t, prog, hexBytes(t, hexText))
		want := 0
		if keeps[name] {
			want = kept(name)
		}
		if got != want {
			t.Errorf("%s: %s returned %d, want %d (0: dropped)", what, name, got, want)
		}
	}
}

// TestKernelFilterKeepsWhatTheDecoderReads decodes each kept packet as the
// kernel hands it over, trimmed to the filter's length, and the whole
// packet: the decoder must learn the same from both.
func TestKernelFilterKeepsWhatTheDecoderReads(t *testing.T) {
	prog, err := KernelFilter(FilterOptions{UDP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, hexText := range []string{pktIPv4TCP, pktIPv4UDP, pktIPv4OptionsTCP, pktIPv4OptionsUDP, pktIPv6TCP, pktIPv6UDP, pktIPv6HBH} {
		pkt := hexBytes(t, hexText)
		n := min(runFilter(t, prog, pkt), len(pkt))
		var whole, cut decode.Packet
		decode.Decode(decode.LinkRaw, pkt, &whole)
		decode.Decode(decode.LinkRaw, pkt[:n], &cut)
		cut.Flags &^= decode.FlagTruncated
		whole.Flags &^= decode.FlagTruncated
		if cut != whole || !cut.Has(decode.FlagPorts) {
			t.Errorf("%s trimmed to %d bytes decodes as\n%+v\nthe whole packet as\n%+v", hexText, n, cut, whole)
		}
	}
}

func TestKernelFilterSnapLen(t *testing.T) {
	prog, err := KernelFilter(FilterOptions{SnapLen: 32, UDP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pkt  string
		want int
	}{{pktIPv4TCP, 32}, {pktIPv4UDP, 32}, {pktIPv6UDP, 32}, {pktIPv6HBH, 32}} {
		if got := runFilter(t, prog, hexBytes(t, tc.pkt)); got != tc.want {
			t.Errorf("%s: returned %d, want %d", tc.pkt, got, tc.want)
		}
	}
}

func TestHandshakeFilter(t *testing.T) {
	packets := map[string]string{
		"ipv4 syn":              "45000028 00004000 4006 0000 0a000001 0a000002 a02801bb 00000001 00000000 5002ffff 00000000",
		"ipv4 syn-ack":          "45000028 00004000 4006 0000 0a000002 0a000001 01bba028 00000001 00000002 5012ffff 00000000",
		"ipv4 ack":              pktIPv4TCP,
		"ipv4 options syn":      "46000030 00004000 4006 0000 0a000001 0a000002 01010101 a02801bb 00000001 00000000 5002ffff 00000000",
		"ipv4 options ack":      "46000030 00004000 4006 0000 0a000001 0a000002 01010102 a02801bb 00000001 00000000 5010ffff 00000000",
		"ipv4 later fragment":   "45000028 00000010 4006 0000 0a000001 0a000002 a02801bb 00000001 00000000 5002ffff 00000000",
		"ipv4 cut before flags": "45000028 00004000 4006 0000 0a000001 0a000002 a02801bb 00000001",
		"ipv6 syn":              "60000000 0014 0640 20010db8000000000000000000000001 20010db8000000000000000000000002 a02801bb 00000001 00000000 5002ffff 00000000",
		"ipv6 ack":              pktIPv6TCP,
		"ipv4 udp":              pktIPv4UDP, "ipv6 udp": pktIPv6UDP, "ipv4 icmp": pktIPv4ICMP, "ipv6 hop-by-hop": pktIPv6HBH,
		"arp": pktARP, "empty": "", "one byte": "45",
	}
	tests := []struct {
		name string
		opts FilterOptions
		keep []string
		snap int
	}{
		{"handshakes", FilterOptions{}, []string{"ipv4 syn", "ipv4 options syn", "ipv6 syn"}, SnapLen},
		{"user program keeps only ipv6", FilterOptions{User: keepIPVersion(6, 100)}, []string{"ipv6 syn"}, 100},
	}
	// The outgoing-only check at the start needs the kernel (the live
	// TestHandshakeWatcher); the virtual machine runs the rest.
	afterDirection := func(opts FilterOptions) ([]bpf.Instruction, error) {
		prog, err := HandshakeFilter(opts)
		if err != nil {
			return nil, err
		}
		want := []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtType}}
		if len(prog) < HandshakeDirectionCheck || prog[0] != want[0] {
			t.Fatalf("the handshake filter does not start with the packet-type check: %v", prog[:min(len(prog), 2)])
		}
		jump, ok := prog[1].(bpf.JumpIf)
		if !ok || jump.Cond != bpf.JumpEqual || jump.Val != packetOutgoing || jump.SkipTrue != 0 {
			t.Fatalf("the handshake filter's second instruction %v is not 'outgoing, or reject'", prog[1])
		}
		// Jumps are relative and go forward only: the rest runs alone.
		return prog[HandshakeDirectionCheck:], nil
	}
	for _, tt := range tests {
		checkFilter(t, tt.name, afterDirection, tt.opts, packets, tt.keep, func(string) int { return tt.snap })
	}
}

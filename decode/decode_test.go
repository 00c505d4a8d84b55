package decode

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"hogs/internal/allocs"
)

// frame joins annotated hex chunks into bytes; spaces inside a chunk are
// ignored so headers can be written field by field.
func frame(t testing.TB, chunks ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(chunks, ""), " ", ""))
	if err != nil {
		t.Fatalf("bad hex in test vector: %v", err)
	}
	return b
}

// Reusable header pieces, annotated once.
const (
	ethIPv4 = "020000000002 020000000001 0800" // dst MAC, src MAC, EtherType IPv4
	ethIPv6 = "020000000002 020000000001 86dd" // EtherType IPv6
	ethVLAN = "020000000002 020000000001 8100" // EtherType 802.1Q, tag follows
	ethQinQ = "020000000002 020000000001 88a8" // EtherType 802.1ad, tag follows

	// IPv4 header up to the checksum: version 4, IHL 5, TOS 0, total length
	// 52, id 0x1c46, DF, TTL 64, protocol TCP, checksum 0.
	ipv4TCP52 = "45 00 0034 1c46 4000 40 06 0000"
	ipv4Addrs = "c0a80001 c0a800c7" // 192.168.0.1 -> 192.168.0.199

	// TCP header: ports 41000 -> 443, seq, ack, data offset 8 words, flags
	// SYN|ACK, window, checksum, urgent pointer.
	tcpSynAck = "a028 01bb 00000001 00000002 80 12 ffff 0000 0000"
	tcpOpts   = "0101080a0000000000000000" // NOP NOP timestamps

	// IPv6 header: version 6, payload length 12, next header UDP, hop limit 64.
	ipv6UDP12 = "60000000 000c 11 40"
	ipv6Addrs = "20010db8000000000000000000000001 20010db8000000000000000000000002"
	udp53     = "d431 0035 000c 0000 abcd" // 54321 -> 53, length 12, checksum, 2 bytes data
)

var (
	v4a = netip.MustParseAddr("192.168.0.1")
	v4b = netip.MustParseAddr("192.168.0.199")
	v6a = netip.MustParseAddr("2001:db8::1")
	v6b = netip.MustParseAddr("2001:db8::2")
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		link  LinkType
		frame []string
		want  Packet
	}{
		{
			name:  "ethernet ipv4 tcp",
			link:  LinkEthernet,
			frame: []string{ethIPv4, ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 52, TCPFlags: TCPSyn | TCPAck, Flags: FlagPorts | FlagTCPFlags,
				EtherType: 0x0800, NetOffset: 14, TransportOffset: 34},
		},
		{
			name:  "ethernet ipv4 tcp cut after the ports",
			link:  LinkEthernet,
			frame: []string{ethIPv4, ipv4TCP52, ipv4Addrs, "a028 01bb 0000"},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 52, Flags: FlagPorts | FlagTruncated, EtherType: 0x0800, NetOffset: 14, TransportOffset: 34},
		},
		{
			name:  "ethernet ipv4 tcp cut inside the source port",
			link:  LinkEthernet,
			frame: []string{ethIPv4, ipv4TCP52, ipv4Addrs, "a0"},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, IPLen: 52,
				Flags: FlagTruncated, EtherType: 0x0800, NetOffset: 14, TransportOffset: 34},
		},
		{
			name:  "raw ipv4 tcp (the fast path)",
			link:  LinkRaw,
			frame: []string{ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 52, TCPFlags: TCPSyn | TCPAck, Flags: FlagPorts | FlagTCPFlags, TransportOffset: 20},
		},
		{
			name:  "raw ipv4 udp, ports only (the fast path)",
			link:  LinkRaw,
			frame: []string{"45 00 0018 0001 0000 40 11 0000", ipv4Addrs, "d431 0035"},
			want: Packet{Family: IPv4, Proto: ProtoUDP, Src: v4a, Dst: v4b, SrcPort: 54321, DstPort: 53,
				IPLen: 24, Flags: FlagPorts, TransportOffset: 20},
		},
		{
			name:  "raw ipv4 tcp cut before the flags",
			link:  LinkRaw,
			frame: []string{ipv4TCP52, ipv4Addrs, "a028 01bb 00000001 00000002 80"},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 52, Flags: FlagPorts | FlagTruncated, TransportOffset: 20},
		},
		{
			name: "raw ipv4 tcp whose total length ends before the flags is malformed, not truncated",
			link: LinkRaw,
			// total length 30: 10 bytes of TCP header
			frame: []string{"45 00 001e 1c46 4000 40 06 0000", ipv4Addrs, tcpSynAck},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 30, Flags: FlagPorts, TransportOffset: 20},
		},
		{
			name:  "raw ipv4 icmp has no ports",
			link:  LinkRaw,
			frame: []string{"45 00 001c 0001 0000 40 01 0000", ipv4Addrs, "0800 f7ff 0000 0000"},
			want:  Packet{Family: IPv4, Proto: ProtoICMP, Src: v4a, Dst: v4b, IPLen: 28, TransportOffset: 20},
		},
		{
			name: "ipv4 with options: transport found past IHL",
			link: LinkRaw,
			// IHL 6: one word of options (router alert), UDP.
			frame: []string{"46 00 0024 0000 0000 40 11 0000", ipv4Addrs, "94040000", "d431 0035 0010 0000"},
			want: Packet{Family: IPv4, Proto: ProtoUDP, Src: v4a, Dst: v4b, SrcPort: 54321, DstPort: 53,
				IPLen: 36, Flags: FlagPorts, TransportOffset: 24},
		},
		{
			name: "ipv4 first fragment has ports",
			link: LinkRaw,
			// more-fragments set, offset 0
			frame: []string{"45 00 05dc 0001 2000 40 11 0000", ipv4Addrs, "d431 0035 05c8 0000"},
			want: Packet{Family: IPv4, Proto: ProtoUDP, Src: v4a, Dst: v4b, SrcPort: 54321, DstPort: 53,
				IPLen: 1500, Flags: FlagPorts | FlagFragment, TransportOffset: 20},
		},
		{
			name: "ipv4 later fragment has no ports",
			link: LinkRaw,
			// offset 185 (1480 bytes), bytes after the header are payload, not ports
			frame: []string{"45 00 0030 0001 00b9 40 11 0000", ipv4Addrs, "d431 0035 05c8 0000"},
			want: Packet{Family: IPv4, Proto: ProtoUDP, Src: v4a, Dst: v4b, IPLen: 48,
				Flags: FlagFragment | FlagLaterFragment},
		},
		{
			name:  "ipv4 total length 0 (segmentation offload)",
			link:  LinkRaw,
			frame: []string{"45 00 0000 0001 4000 40 06 0000", ipv4Addrs, tcpSynAck},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 40, TCPFlags: TCPSyn | TCPAck, Flags: FlagPorts | FlagTCPFlags | FlagZeroLength, TransportOffset: 20},
		},
		{
			name: "ipv4 ethernet padding is not a transport header",
			link: LinkEthernet,
			// total length 20: no payload; the zero bytes after are padding
			frame: []string{ethIPv4, "45 00 0014 0001 0000 40 06 0000", ipv4Addrs, "000000000000"},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, IPLen: 20,
				EtherType: 0x0800, NetOffset: 14, TransportOffset: 34},
		},
		{
			name:  "ipv4 IHL below 5 is not IP",
			link:  LinkRaw,
			frame: []string{"44 00 0028 0001 0000 40 06 0000", ipv4Addrs, tcpSynAck},
			want:  Packet{},
		},
		{
			name:  "ipv4 IHL beyond the capture",
			link:  LinkRaw,
			frame: []string{"4f 00 0028 0001 0000 40 06 0000", ipv4Addrs, "0000"},
			want:  Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, IPLen: 40, Flags: FlagTruncated},
		},
		{
			name:  "ipv4 header cut before the addresses",
			link:  LinkEthernet,
			frame: []string{ethIPv4, "45 00 0028 0001 0000 40 06"},
			want:  Packet{Flags: FlagTruncated, EtherType: 0x0800},
		},
		{
			name:  "ethertype ipv4 carrying version 6 is not IP",
			link:  LinkEthernet,
			frame: []string{ethIPv4, ipv6UDP12, ipv6Addrs, udp53},
			want:  Packet{EtherType: 0x0800},
		},
		{
			name:  "802.1Q tagged ipv6 udp",
			link:  LinkEthernet,
			frame: []string{ethVLAN, "0064 86dd", ipv6UDP12, ipv6Addrs, udp53},
			want: Packet{Family: IPv6, Proto: ProtoUDP, Src: v6a, Dst: v6b, SrcPort: 54321, DstPort: 53,
				IPLen: 52, Flags: FlagPorts | FlagVLAN, VLAN: 100, EtherType: 0x86dd, NetOffset: 18, TransportOffset: 58},
		},
		{
			name: "802.1ad outer and 802.1Q inner tags",
			link: LinkEthernet,
			// outer S-tag VLAN 300 (with PCP 5), inner C-tag VLAN 10
			frame: []string{ethQinQ, "a12c 8100", "000a 0800", ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 52, TCPFlags: TCPSyn | TCPAck, Flags: FlagPorts | FlagTCPFlags | FlagVLAN, VLAN: 300,
				EtherType: 0x0800, NetOffset: 22, TransportOffset: 42},
		},
		{
			name:  "VLAN tag cut short",
			link:  LinkEthernet,
			frame: []string{ethVLAN, "0064"},
			want:  Packet{EtherType: 0x8100, Flags: FlagTruncated},
		},
		{
			name:  "ARP is not IP",
			link:  LinkEthernet,
			frame: []string{"ffffffffffff 020000000001 0806", "0001 0800 06 04 0001"},
			want:  Packet{EtherType: 0x0806},
		},
		{
			name:  "802.3 length field with LLC is not IP",
			link:  LinkEthernet,
			frame: []string{"0180c2000000 020000000001 0026", "42 42 03 0000"},
			want:  Packet{EtherType: 0x0026},
		},
		{
			name:  "MPLS is not IP",
			link:  LinkEthernet,
			frame: []string{"020000000002 020000000001 8847", "00010140", ipv4TCP52, ipv4Addrs},
			want:  Packet{EtherType: 0x8847},
		},
		{
			name: "raw ipv6 through hop-by-hop, routing, destination options to TCP",
			link: LinkRaw,
			frame: []string{"60000000 003c 00 40", ipv6Addrs,
				"2b 00 0000 00000000",                  // hop-by-hop: next routing, 8 bytes
				"3c 02 04 00 00000000", ipv6Addrs[:32], // routing: next dst-opts, 24 bytes (type 4, one segment)
				"06 00 0104 00000000", // destination options: next TCP, 8 bytes
				tcpSynAck},
			want: Packet{Family: IPv6, Proto: ProtoTCP, Src: v6a, Dst: v6b, SrcPort: 41000, DstPort: 443,
				IPLen: 100, TCPFlags: TCPSyn | TCPAck, Flags: FlagPorts | FlagTCPFlags, TransportOffset: 80},
		},
		{
			name: "ipv6 first fragment has ports",
			link: LinkIPv6,
			frame: []string{"60000000 0010 2c 40", ipv6Addrs,
				"11 00 0001 12345678", // fragment: next UDP, offset 0, more fragments
				"d431 0035 0010 0000"},
			want: Packet{Family: IPv6, Proto: ProtoUDP, Src: v6a, Dst: v6b, SrcPort: 54321, DstPort: 53,
				IPLen: 56, Flags: FlagPorts | FlagFragment, TransportOffset: 48},
		},
		{
			name: "ipv6 later fragment has no ports",
			link: LinkIPv6,
			frame: []string{"60000000 0010 2c 40", ipv6Addrs,
				"11 00 05a8 12345678", // fragment: next UDP, offset 181 (1448 bytes)
				"d431 0035 0010 0000"},
			want: Packet{Family: IPv6, Proto: ProtoUDP, Src: v6a, Dst: v6b, IPLen: 56,
				Flags: FlagFragment | FlagLaterFragment},
		},
		{
			name:  "ipv6 extension header cut short",
			link:  LinkRaw,
			frame: []string{"60000000 0030 00 40", ipv6Addrs, "2b 00 0000"},
			want:  Packet{Family: IPv6, Proto: 0, Src: v6a, Dst: v6b, IPLen: 88, Flags: FlagTruncated},
		},
		{
			name: "ipv6 extension header longer than the datagram",
			link: LinkRaw,
			// payload length 8 but the hop-by-hop header claims 16 bytes
			frame: []string{"60000000 0008 00 40", ipv6Addrs, "06 01 0000 00000000", "0000000000000000"},
			want:  Packet{Family: IPv6, Proto: ProtoTCP, Src: v6a, Dst: v6b, IPLen: 48},
		},
		{
			name: "ipv6 extension chain longer than the bound",
			link: LinkRaw,
			frame: []string{"60000000 0050 3c 40", ipv6Addrs,
				strings.Repeat("3c 00 0000 00000000", 10), tcpSynAck},
			want: Packet{Family: IPv6, Proto: 60, Src: v6a, Dst: v6b, IPLen: 120, Flags: FlagExtLimit},
		},
		{
			name:  "ipv6 payload length 0 (BIG TCP) still yields ports",
			link:  LinkRaw,
			frame: []string{"60000000 0000 11 40", ipv6Addrs, udp53},
			want: Packet{Family: IPv6, Proto: ProtoUDP, Src: v6a, Dst: v6b, SrcPort: 54321, DstPort: 53,
				IPLen: 40, Flags: FlagPorts | FlagZeroLength, TransportOffset: 40},
		},
		{
			name:  "ipv6 icmpv6 has no ports",
			link:  LinkRaw,
			frame: []string{"60000000 0008 3a 40", ipv6Addrs, "8000 0000 0001 0001"},
			want:  Packet{Family: IPv6, Proto: ProtoICMPv6, Src: v6a, Dst: v6b, IPLen: 48, TransportOffset: 40},
		},
		{
			name:  "raw link: version nibble picks ipv6",
			link:  LinkRaw,
			frame: []string{ipv6UDP12, ipv6Addrs, udp53},
			want: Packet{Family: IPv6, Proto: ProtoUDP, Src: v6a, Dst: v6b, SrcPort: 54321, DstPort: 53,
				IPLen: 52, Flags: FlagPorts, TransportOffset: 40},
		},
		{
			name:  "raw ipv6 link carrying ipv4 is not IP",
			link:  LinkIPv6,
			frame: []string{ipv4TCP52, ipv4Addrs, tcpSynAck},
			want:  Packet{},
		},
		{
			name:  "raw ipv4 link carrying ipv6 is not IP",
			link:  LinkIPv4,
			frame: []string{ipv6UDP12, ipv6Addrs, udp53},
			want:  Packet{},
		},
		{
			name: "linux cooked v1, outgoing",
			link: LinkLinuxSLL,
			// packet type 4 (outgoing), ARPHRD_ETHER, address length 6, address, protocol IPv4
			frame: []string{"0004 0001 0006 020000000001 0000 0800", ipv4TCP52, ipv4Addrs, tcpSynAck},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 52, TCPFlags: TCPSyn | TCPAck, Flags: FlagPorts | FlagTCPFlags, Direction: DirOut,
				EtherType: 0x0800, NetOffset: 16, TransportOffset: 36},
		},
		{
			name: "linux cooked v2, incoming",
			link: LinkLinuxSLL2,
			// protocol IPv6, reserved, ifindex 2, ARPHRD_ETHER, packet type 0 (host), address length 6, address
			frame: []string{"86dd 0000 00000002 0001 00 06 020000000001 0000", ipv6UDP12, ipv6Addrs, udp53},
			want: Packet{Family: IPv6, Proto: ProtoUDP, Src: v6a, Dst: v6b, SrcPort: 54321, DstPort: 53,
				IPLen: 52, Flags: FlagPorts, Direction: DirIn, EtherType: 0x86dd, NetOffset: 20, TransportOffset: 60},
		},
		{
			name:  "BSD loopback, little-endian AF_INET",
			link:  LinkNull,
			frame: []string{"02000000", ipv4TCP52, ipv4Addrs, tcpSynAck},
			want: Packet{Family: IPv4, Proto: ProtoTCP, Src: v4a, Dst: v4b, SrcPort: 41000, DstPort: 443,
				IPLen: 52, TCPFlags: TCPSyn | TCPAck, Flags: FlagPorts | FlagTCPFlags, NetOffset: 4, TransportOffset: 24},
		},
		{
			name:  "BSD loopback, big-endian AF_INET6 (Darwin)",
			link:  LinkNull,
			frame: []string{"0000001e", ipv6UDP12, ipv6Addrs, udp53},
			want: Packet{Family: IPv6, Proto: ProtoUDP, Src: v6a, Dst: v6b, SrcPort: 54321, DstPort: 53,
				IPLen: 52, Flags: FlagPorts, NetOffset: 4, TransportOffset: 44},
		},
		{
			name:  "unknown link type is not IP",
			link:  LinkType(147),
			frame: []string{ipv4TCP52, ipv4Addrs, tcpSynAck},
			want:  Packet{},
		},
		{name: "empty ethernet frame", link: LinkEthernet, want: Packet{Flags: FlagTruncated}},
		{name: "empty raw frame", link: LinkRaw, want: Packet{Flags: FlagTruncated}},
		{name: "one byte raw frame", link: LinkRaw, frame: []string{"45"}, want: Packet{Flags: FlagTruncated}},
		{name: "empty cooked frame", link: LinkLinuxSLL, want: Packet{Flags: FlagTruncated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := frame(t, tt.frame...)
			// Start from a dirty value: Decode must overwrite every field.
			got := Packet{Family: IPv6, Proto: 99, SrcPort: 1, DstPort: 2, Flags: 0xffff, VLAN: 7,
				Src: v6b, Dst: v6a, IPLen: 9, Direction: DirOut, EtherType: 1, NetOffset: 3, TransportOffset: 4, TCPFlags: 5}
			Decode(tt.link, b, &got)
			if got != tt.want {
				t.Errorf("Decode(%v, %x)\n got %+v\nwant %+v", tt.link, b, got, tt.want)
			}
		})
	}
}

// TestDecodeEveryPrefix decodes every prefix of well-formed frames: a
// capture may end anywhere. A prefix that holds every byte the decoder reads
// decodes exactly like the whole frame; a shorter one is marked truncated and
// what it reports agrees with the whole frame.
func TestDecodeEveryPrefix(t *testing.T) {
	frames := []struct {
		name string
		link LinkType
		b    []byte
		need int // bytes up to the last field the decoder reads
	}{
		{"ethernet ipv4 tcp", LinkEthernet, frame(t, ethIPv4, ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts), 14 + 20 + 14},
		{"vlan ipv6 udp", LinkEthernet, frame(t, ethVLAN, "0064 86dd", ipv6UDP12, ipv6Addrs, udp53), 18 + 40 + 4},
		{"raw ipv4 tcp", LinkRaw, frame(t, ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts), 20 + 14},
	}
	for _, f := range frames {
		var want Packet
		Decode(f.link, f.b, &want)
		for n := 0; n < len(f.b); n++ {
			var got Packet
			Decode(f.link, f.b[:n], &got)
			if n >= f.need {
				if got != want {
					t.Errorf("%s cut at %d: %+v, whole frame %+v", f.name, n, got, want)
				}
				continue
			}
			if !got.Has(FlagTruncated) {
				t.Errorf("%s cut at %d of %d bytes: FlagTruncated not set", f.name, n, len(f.b))
			}
			if got.Has(FlagPorts) && (got.SrcPort != want.SrcPort || got.DstPort != want.DstPort) {
				t.Errorf("%s cut at %d: ports %d>%d, whole frame has %d>%d", f.name, n, got.SrcPort, got.DstPort, want.SrcPort, want.DstPort)
			}
			if got.Family != NotIP && (got.Src != want.Src || got.Dst != want.Dst || got.Proto != want.Proto) {
				t.Errorf("%s cut at %d: %+v disagrees with whole frame %+v", f.name, n, got, want)
			}
		}
	}
}

func TestDecodeAllocatesNothing(t *testing.T) {
	frames := []struct {
		link LinkType
		b    []byte
	}{
		{LinkEthernet, frame(t, ethIPv4, ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts)},
		{LinkEthernet, frame(t, ethVLAN, "0064 86dd", ipv6UDP12, ipv6Addrs, udp53)},
		{LinkLinuxSLL, frame(t, "0004 0001 0006 020000000001 0000 0800", ipv4TCP52, ipv4Addrs, tcpSynAck)},
		{LinkRaw, frame(t, ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts)},
		{LinkRaw, frame(t, "60000000 0030 00 40", ipv6Addrs, "2b 00 0000 00000000", "3c 02 04 00 00000000", ipv6Addrs[:32], "06 00 0104 00000000", tcpSynAck)},
	}
	var p Packet
	var line []byte
	n := allocs.Least(5, 1000, func() {
		for _, f := range frames {
			Decode(f.link, f.b, &p)
			line = p.AppendDump(line[:0], 1)
		}
	})
	if n != 0 {
		t.Errorf("Decode+AppendDump allocate %v times per round; want 0", n)
	}
}

func TestAppendDump(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		want string
	}{
		{"not IP", Packet{}, "7\t-"},
		{"tcp", Packet{Family: IPv4, Proto: 6, Src: v4a, Dst: v4b, SrcPort: 1, DstPort: 2, IPLen: 52, Flags: FlagPorts},
			"7\tip4\t6\t192.168.0.1\t1\t192.168.0.199\t2\t52"},
		{"no ports", Packet{Family: IPv6, Proto: 17, Src: v6a, Dst: v6b, IPLen: 40},
			"7\tip6\t17\t2001:db8::1\t-\t2001:db8::2\t-\t40"},
	}
	for _, tt := range tests {
		if got := string(tt.p.AppendDump(nil, 7)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func ExampleDecode() {
	// An Ethernet frame carrying IPv4 and the first bytes of a TCP SYN.
	b, _ := hex.DecodeString("020000000002020000000001080045000034000040004006000" +
		"0c0a80001c0a800c7a02801bb000000010000000080020000")
	var p Packet
	Decode(LinkEthernet, b, &p)
	fmt.Println(p.Family, p.Proto, netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort), p.TCPFlags == TCPSyn)
	// Output: ip4 6 192.168.0.1:41000 192.168.0.199:443 true
}

package decode

import "testing"

func BenchmarkDecode(b *testing.B) {
	cases := []struct {
		name string
		link LinkType
		b    []byte
	}{
		{"eth-ipv4-tcp", LinkEthernet, frame(b, ethIPv4, ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts)},
		{"eth-vlan-ipv6-udp", LinkEthernet, frame(b, ethVLAN, "0064 86dd", ipv6UDP12, ipv6Addrs, udp53)},
		{"sll-ipv4-tcp", LinkLinuxSLL, frame(b, "0004 0001 0006 020000000001 0000 0800", ipv4TCP52, ipv4Addrs, tcpSynAck)},
		{"raw-ipv4-tcp", LinkRaw, frame(b, ipv4TCP52, ipv4Addrs, tcpSynAck, tcpOpts)},
		{"raw-ipv6-ext-tcp", LinkRaw, frame(b, "60000000 003c 00 40", ipv6Addrs, "2b 00 0000 00000000",
			"3c 02 04 00 00000000", ipv6Addrs[:32], "06 00 0104 00000000", tcpSynAck)},
		{"arp", LinkEthernet, frame(b, "ffffffffffff 020000000001 0806", "0001 0800 06 04 0001")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var p Packet
			for b.Loop() {
				Decode(c.link, c.b, &p)
			}
		})
	}
}

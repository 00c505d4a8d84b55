package pcapfilter_test

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"

	"hogs/decode"
	"hogs/internal/sharedpcaps"
	"hogs/rawcap"
)

// Addresses and ports the test expressions mention, and some near misses.
var (
	corpusV4 = []string{"1.2.3.4", "5.6.7.8", "1.1.1.1", "10.0.0.1", "10.1.2.3", "10.255.0.9", "11.0.0.1",
		"192.168.1.7", "192.168.2.1", "172.16.5.4", "172.32.0.1", "0.0.0.80", "128.0.0.1", "8.8.8.8"}
	corpusV6 = []string{"2001:db8::1", "2001:db8::2", "2001:db8::80", "2001:db8:8000::1", "2001:db8:7fff::5",
		"2001:db8:0:0:1::1", "2001:db9::1", "fe80::1", "::1", "::ffff:1.2.3.4", "2001:db8:0:1::1"}
	corpusPorts = []uint16{0, 8, 21, 22, 53, 80, 443, 999, 1000, 1023, 1024, 1500, 2000, 2001, 8080, 65535}
	// Protocols of IPv4 packets and of the last header of IPv6 packets.
	corpusProtos = []byte{6, 17, 132, 1, 2, 9, 47, 50, 51, 58, 103, 112, 44, 0, 255}
)

// ipv4 builds an IPv4 packet with optWords words of options, the given
// fragment offset (in 8-byte units) and more-fragments flag.
func ipv4(src, dst string, proto byte, optWords int, fragOff uint16, mf bool, payload []byte) []byte {
	hl := 20 + 4*optWords
	b := make([]byte, hl, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(hl+len(payload)))
	frag := fragOff & 0x1fff
	if mf {
		frag |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8] = 64
	b[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	for i := 20; i < hl; i++ {
		b[i] = 1 // NOP options
	}
	return append(b, payload...)
}

// ipv6 builds an IPv6 packet whose payload starts with the given extension
// headers; nh is the next-header value of the fixed header.
func ipv6(src, dst string, nh byte, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = nh
	b[7] = 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// transport builds a transport header that starts with two ports (TCP,
// UDP, SCTP) padded to 20 bytes, or an ICMP-like header.
func transport(proto byte, sport, dport uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	if proto == 6 {
		b[12] = 0x50
		b[13] = 0x12
	}
	return b
}

func hopByHop(next byte) []byte { return []byte{next, 0, 1, 4, 0, 0, 0, 0} }
func fragHeader(next byte, off uint16, more bool) []byte {
	v := off << 3
	if more {
		v |= 1
	}
	return []byte{next, 0, byte(v >> 8), byte(v), 0xde, 0xad, 0xbe, 0xef}
}

// synthesizedPackets returns the synthetic part of the packet corpus:
// packets that start at the IP header, with names for failure reports.
func synthesizedPackets() (pkts [][]byte, names []string) {
	add := func(name string, b []byte) {
		pkts = append(pkts, b)
		names = append(names, name)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick4 := func() string { return corpusV4[rng.IntN(len(corpusV4))] }
	pick6 := func() string { return corpusV6[rng.IntN(len(corpusV6))] }
	port := func() uint16 { return corpusPorts[rng.IntN(len(corpusPorts))] }
	proto := func() byte {
		if rng.IntN(3) > 0 {
			return []byte{6, 17, 132}[rng.IntN(3)]
		}
		return corpusProtos[rng.IntN(len(corpusProtos))]
	}

	// Templates: one of each kind with the values the expressions use most.
	tcp80 := ipv4("1.2.3.4", "5.6.7.8", 6, 0, 0, false, transport(6, 1024, 80))
	add("ipv4 tcp 1024->80", tcp80)
	add("ipv4 udp 53->53", ipv4("10.1.2.3", "8.8.8.8", 17, 0, 0, false, transport(17, 53, 53)))
	add("ipv4 options tcp 22->1500", ipv4("192.168.1.7", "10.0.0.1", 6, 10, 0, false, transport(6, 22, 1500)))
	add("ipv4 max options udp 1000->2000", ipv4("172.16.5.4", "1.2.3.4", 17, 10, 0, false, transport(17, 1000, 2000)))
	add("ipv4 first fragment tcp 80", ipv4("1.2.3.4", "5.6.7.8", 6, 0, 0, true, transport(6, 80, 80)))
	add("ipv4 later fragment tcp 80", ipv4("1.2.3.4", "5.6.7.8", 6, 0, 185, true, transport(6, 80, 80)))
	add("ipv4 last fragment udp 53", ipv4("10.1.2.3", "8.8.8.8", 17, 0, 370, false, transport(17, 53, 53)))
	add("ipv4 icmp", ipv4("1.2.3.4", "1.1.1.1", 1, 0, 0, false, []byte{8, 0, 0, 0, 0, 1, 0, 1}))
	add("ipv4 igmp", ipv4("192.168.1.7", "10.0.0.1", 2, 1, 0, false, []byte{0x16, 0, 0, 0, 239, 1, 2, 3}))
	tcp6 := ipv6("2001:db8::1", "2001:db8::2", 6, transport(6, 443, 1000))
	add("ipv6 tcp 443->1000", tcp6)
	add("ipv6 udp 53->2000", ipv6("2001:db8:8000::1", "fe80::1", 17, transport(17, 53, 2000)))
	add("ipv6 icmp6", ipv6("fe80::1", "2001:db8::1", 58, []byte{128, 0, 0, 0, 0, 1, 0, 1}))
	add("ipv6 hop-by-hop tcp 80", ipv6("2001:db8::1", "::1", 0, append(hopByHop(6), transport(6, 80, 80)...)))
	add("ipv6 hop-by-hop icmp6", ipv6("2001:db8::1", "::1", 0, append(hopByHop(58), 135, 0, 0, 0)))
	add("ipv6 first fragment tcp 80", ipv6("2001:db8::2", "2001:db8::1", 44, append(fragHeader(6, 0, true), transport(6, 80, 80)...)))
	add("ipv6 later fragment udp 53", ipv6("2001:db8::2", "2001:db8::1", 44, append(fragHeader(17, 100, false), transport(17, 53, 53)...)))
	add("ipv6 fragment icmp6", ipv6("2001:db8::2", "2001:db8::1", 44, append(fragHeader(58, 0, true), 128, 0, 0, 0)))
	add("ipv6 dest-opts tcp", ipv6("2001:db8::2", "2001:db8::1", 60, append(hopByHop(6), transport(6, 22, 22)...)))
	add("ipv4-mapped ipv6 tcp", ipv6("::ffff:1.2.3.4", "2001:db8::80", 6, transport(6, 8080, 80)))
	add("empty", []byte{})
	for _, v := range []byte{0x00, 0x45, 0x4f, 0x50, 0x60, 0x6f, 0x70, 0xff} {
		add("one byte", []byte{v})
	}
	add("version 5", append([]byte{0x55}, tcp80[1:]...))
	add("version 0", append([]byte{0x05}, tcp80[1:]...))

	// Every prefix of the templates: truncated packets.
	templates := len(pkts)
	for i := 0; i < templates; i++ {
		for n := 0; n < len(pkts[i]); n++ {
			add("truncated "+names[i], pkts[i][:n])
		}
	}

	// Random combinations of the corpus values.
	for range 3000 {
		p := proto()
		switch rng.IntN(10) {
		case 0, 1, 2, 3, 4:
			var opt int
			if rng.IntN(6) == 0 {
				opt = 1 + rng.IntN(10)
			}
			var off uint16
			if rng.IntN(8) == 0 {
				off = uint16(rng.IntN(3))
			}
			add("random ipv4", ipv4(pick4(), pick4(), p, opt, off, rng.IntN(8) == 0, transport(p, port(), port())))
		default:
			var payload []byte
			nh := p
			switch rng.IntN(8) {
			case 0:
				nh, payload = 0, hopByHop(p)
			case 1:
				nh, payload = 44, fragHeader(p, uint16(rng.IntN(2)), true)
			}
			add("random ipv6", ipv6(pick6(), pick6(), nh, append(payload, transport(p, port(), port())...)))
		}
	}

	// Mutations: a few bytes changed, maybe cut short.
	interesting := []byte{0, 1, 6, 17, 44, 58, 132, 0x40, 0x45, 0x46, 0x4f, 0x41, 0x60, 0x20, 0x1f, 0xff, 80, 53}
	for range 3000 {
		src := pkts[rng.IntN(len(pkts))]
		b := append([]byte(nil), src...)
		for range 1 + rng.IntN(3) {
			if len(b) == 0 {
				break
			}
			i := rng.IntN(min(len(b), 48))
			if rng.IntN(2) == 0 {
				b[i] = interesting[rng.IntN(len(interesting))]
			} else {
				b[i] = byte(rng.Uint32())
			}
		}
		if rng.IntN(4) == 0 && len(b) > 0 {
			b = b[:rng.IntN(len(b))]
		}
		add("mutated", b)
	}
	return pkts, names
}

// capturePackets returns the IP part of every frame of every shared
// capture, without duplicates (see sharedpcaps for a missing corpus).
func capturePackets(t testing.TB) (pkts [][]byte, names []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, path := range sharedpcaps.Captures(t) {
		r, err := rawcap.OpenFile(path)
		if err != nil {
			continue // not every file is a capture this reader takes
		}
		var f rawcap.Frame
		var p decode.Packet
		for frame := 1; ; frame++ {
			if err := r.Next(&f); err != nil {
				break // io.EOF, or a corrupt capture ends where it breaks
			}
			decode.Decode(f.LinkType, f.Data, &p)
			if p.Family == decode.NotIP || int(p.NetOffset) > len(f.Data) {
				continue
			}
			ip := f.Data[p.NetOffset:]
			if seen[string(ip)] {
				continue
			}
			seen[string(ip)] = true
			pkts = append(pkts, append([]byte(nil), ip...))
			names = append(names, filepath.Base(path)+" frame "+strconv.Itoa(frame))
		}
		r.Close()
	}
	if len(pkts) == 0 {
		t.Fatal("no IP packets in the shared captures")
	}
	return pkts, names
}

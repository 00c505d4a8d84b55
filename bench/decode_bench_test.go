package bench

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"hogs/decode"
)

// summary is what both decoders are asked for: the fields hogs accounts by.
type summary struct {
	src, dst     netip.Addr
	sport, dport uint16
	family       uint8 // 0, 4 or 6
	proto        uint8
	ports        bool
}

// hogsDecoder wraps decode.Decode.
type hogsDecoder struct{ p decode.Packet }

func (h *hogsDecoder) decode(link decode.LinkType, b []byte) summary {
	decode.Decode(link, b, &h.p)
	return summary{src: h.p.Src, dst: h.p.Dst, sport: h.p.SrcPort, dport: h.p.DstPort,
		family: uint8(h.p.Family), proto: h.p.Proto, ports: h.p.Has(decode.FlagPorts)}
}

// gopacketDecoder is gopacket's DecodingLayerParser set up the way its
// documentation recommends for speed: preallocated layers decoded in place,
// unsupported layers ignored, one parser per first layer.
type gopacketDecoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	ip4     layers.IPv4
	ip6     layers.IPv6
	ext     layers.IPv6ExtensionSkipper
	tcp     layers.TCP
	udp     layers.UDP
	payload gopacket.Payload
	// One parser per first layer, picked by a switch (no map lookup).
	ethernet, cooked, cooked2, rawV4, rawV6 *gopacket.DecodingLayerParser
	decoded                                 []gopacket.LayerType
}

func newGopacketDecoder() *gopacketDecoder {
	g := &gopacketDecoder{decoded: make([]gopacket.LayerType, 0, 16)}
	parser := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first, &g.eth, &g.dot1q, &g.sll, &g.sll2, &g.ip4, &g.ip6,
			&g.ext, &g.tcp, &g.udp, &g.payload)
		p.IgnoreUnsupported = true
		return p
	}
	g.ethernet, g.cooked, g.cooked2 = parser(layers.LayerTypeEthernet), parser(layers.LayerTypeLinuxSLL), parser(layers.LayerTypeLinuxSLL2)
	g.rawV4, g.rawV6 = parser(layers.LayerTypeIPv4), parser(layers.LayerTypeIPv6)
	return g
}

func (g *gopacketDecoder) decode(link decode.LinkType, b []byte) summary {
	var parser *gopacket.DecodingLayerParser
	switch link {
	case decode.LinkEthernet:
		parser = g.ethernet
	case decode.LinkLinuxSLL:
		parser = g.cooked
	case decode.LinkLinuxSLL2:
		parser = g.cooked2
	case decode.LinkIPv4:
		parser = g.rawV4
	case decode.LinkIPv6:
		parser = g.rawV6
	case decode.LinkRaw, decode.LinkRawAlt:
		if len(b) == 0 {
			return summary{}
		}
		parser = g.rawV4
		if b[0]>>4 == 6 {
			parser = g.rawV6
		}
	default:
		return summary{}
	}
	_ = parser.DecodeLayers(b, &g.decoded)
	var s summary
	for _, lt := range g.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			if s.family == 0 {
				s.family, s.proto = 4, uint8(g.ip4.Protocol)
				s.src, _ = netip.AddrFromSlice(g.ip4.SrcIP)
				s.dst, _ = netip.AddrFromSlice(g.ip4.DstIP)
			}
		case layers.LayerTypeIPv6:
			if s.family == 0 {
				s.family, s.proto = 6, uint8(g.ip6.NextHeader)
				s.src, _ = netip.AddrFromSlice(g.ip6.SrcIP)
				s.dst, _ = netip.AddrFromSlice(g.ip6.DstIP)
			}
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Fragment,
			layers.LayerTypeIPv6Destination:
			s.proto = uint8(g.ext.NextHeader)
		case layers.LayerTypeTCP:
			if !s.ports {
				s.sport, s.dport, s.ports = uint16(g.tcp.SrcPort), uint16(g.tcp.DstPort), true
			}
		case layers.LayerTypeUDP:
			if !s.ports {
				s.sport, s.dport, s.ports = uint16(g.udp.SrcPort), uint16(g.udp.DstPort), true
			}
		}
	}
	return s
}

// sink keeps results alive so the compiler cannot drop the work.
var sink uint64

// The two loops are written out per decoder, with no interface call per
// packet. Each decoder delivers the same fields in the same form, in memory
// the caller owns: hogs in its decode.Packet, gopacket in a summary built from
// its layers (addresses converted to netip.Addr, as hogs keeps them). The
// loop folds two of them into an accumulator. One b.Loop iteration decodes a
// whole batch (the corpus, or a single frame repeated minBatch times), so
// that the benchmark loop's own cost is not charged to every packet; ns/pkt
// is the time per packet, the same for both decoders' figures.

// minBatch is the fewest frames one b.Loop iteration decodes.
const minBatch = 256

// batchOf repeats frames until there are at least minBatch of them.
func batchOf(frames []frame) []frame {
	batch := frames
	for len(batch) < minBatch {
		batch = append(batch, frames...)
	}
	return batch
}

func benchHogs(b *testing.B, frames []frame) {
	setup(b, frames)
	batch := batchOf(frames)
	var p decode.Packet
	var acc uint64
	for b.Loop() {
		for i := range batch {
			f := &batch[i]
			decode.Decode(f.link, f.data, &p)
			acc += uint64(p.SrcPort) ^ uint64(p.Proto)
		}
	}
	sink = acc
	reportPerPacket(b, len(batch))
}

func benchGopacket(b *testing.B, frames []frame) {
	setup(b, frames)
	batch := batchOf(frames)
	d := newGopacketDecoder()
	var acc uint64
	for b.Loop() {
		for i := range batch {
			f := &batch[i]
			s := d.decode(f.link, f.data)
			acc += uint64(s.sport) ^ uint64(s.proto)
		}
	}
	sink = acc
	reportPerPacket(b, len(batch))
}

// reportPerPacket reports ns/pkt and pkts/s for b.N batches of n frames.
func reportPerPacket(b *testing.B, n int) {
	packets := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/packets, "ns/pkt")
	b.ReportMetric(packets/b.Elapsed().Seconds(), "pkts/s")
}

// setup reports allocations. It sets no bytes/s: the decoders read headers
// only, so a throughput in payload bytes would say nothing.
func setup(b *testing.B, frames []frame) {
	b.ReportAllocs()
	if len(frames) == 0 {
		b.Fatal("no frames to decode")
	}
}

// BenchmarkDecode runs both decoders over the same frames: the whole
// reference corpus, then single hot-path frames.
func BenchmarkDecode(b *testing.B) {
	cases := []struct {
		name   string
		frames func(testing.TB) []frame
	}{
		{"corpus", corpusFrames},
		{"eth-ipv4-tcp", singleFrame(ethIPv4TCP)},
		{"eth-vlan-ipv6-udp", singleFrame(ethVLANIPv6UDP)},
		{"raw-ipv6-ext-tcp", singleFrame(rawIPv6ExtTCP)},
		{"raw-ipv4-udp", singleFrame(rawIPv4UDP)},
	}
	for _, c := range cases {
		frames := c.frames(b)
		b.Run("frame="+c.name+"/impl=hogs", func(b *testing.B) { benchHogs(b, frames) })
		b.Run("frame="+c.name+"/impl=gopacket", func(b *testing.B) { benchGopacket(b, frames) })
	}
}

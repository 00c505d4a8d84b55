package conntable

import (
	"hogs/internal/flow"
	"net/netip"
	"testing"

	"hogs/decode"
)

// BenchmarkOneFlow is the capture loop's per-packet table work on a run of
// one flow's packets (a flood, a bulk transfer): orient, then add through
// an Adder that remembers the flow.
func BenchmarkOneFlow(b *testing.B) {
	p := decode.Packet{
		Src: netip.MustParseAddr("10.0.0.2"), Dst: netip.MustParseAddr("10.0.0.1"),
		SrcPort: 40000, DstPort: 9000, Proto: decode.ProtoUDP, Family: decode.IPv4, Flags: decode.FlagPorts,
	}
	tab := New(Config{})
	a := tab.NewAdder()
	b.ReportAllocs()
	for i := range b.N {
		var k flow.Key
		out, ok := KeyOf(&p, decode.DirIn, &k)
		if !ok {
			b.Fatal("no key")
		}
		a.Add(&k, out, 106, int64(i), "vA")
	}
}

package bench

import (
	"hogs/internal/flow"
	"sync/atomic"
	"testing"

	"hogs/decode"
	"hogs/internal/conntable"
)

// BenchmarkPipeline replays the reference corpus through the per-packet
// path of hogs: decode, orient, account in the connection table. One
// b.Loop iteration is one frame, so ns/op is nanoseconds per packet; the
// table is warm (every flow already in it), as it is for all but the first
// packet of a flow. Run with -cpu 1,2 for the scaling: the RunParallel
// variant gives each core its own stride through the same frames and the
// same table.
func BenchmarkPipeline(b *testing.B) {
	frames := corpusFrames(b)
	tab := conntable.New(conntable.Config{})
	warm := func() {
		var p decode.Packet
		var k flow.Key
		for _, f := range frames {
			decode.Decode(f.link, f.data, &p)
			if out, ok := conntable.KeyOf(&p, decode.DirUnknown, &k); ok {
				tab.Add(k, out, len(f.data), 0, "eth0")
			}
		}
	}
	warm()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		var p decode.Packet
		var k flow.Key
		i := 0
		now := int64(0)
		for b.Loop() {
			f := &frames[i]
			decode.Decode(f.link, f.data, &p)
			if out, ok := conntable.KeyOf(&p, decode.DirUnknown, &k); ok {
				tab.Add(k, out, len(f.data), now, "eth0")
			}
			if i++; i == len(frames) {
				i = 0
				now += 1e6
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var worker atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			var p decode.Packet
			var k flow.Key
			i := int(worker.Add(1)*7919) % len(frames)
			for pb.Next() {
				f := &frames[i]
				decode.Decode(f.link, f.data, &p)
				if out, ok := conntable.KeyOf(&p, decode.DirUnknown, &k); ok {
					tab.Add(k, out, len(f.data), 0, "eth0")
				}
				if i++; i == len(frames) {
					i = 0
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	})
}

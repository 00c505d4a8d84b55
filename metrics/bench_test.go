package metrics

import (
	"testing"

	"hogs/internal/flow"
)

// BenchmarkScrape is one scrape of a new view with 10,000 flows in 1,000
// groups (the bound: ≤ 5 ms): accounting the view, rendering
// the text format.
func BenchmarkScrape(b *testing.B) {
	s := newSim(DefaultGroupBy)
	var keys []flow.Key
	for i := range 1000 {
		o := s.process(10_000+i, progName(i), "user")
		for range 10 {
			keys = append(keys, s.open(o, flow.TCP))
		}
	}
	for _, k := range keys {
		s.send(k, 1500, 64)
	}
	v1 := s.view()
	for _, k := range keys {
		s.send(k, 1500, 64)
	}
	v2 := s.view()
	e, err := New(Config{MaxSeries: 1100})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			e.Publish(v1)
		} else {
			e.Publish(v2)
		}
		buf = e.Scrape(buf[:0], FormatText)
	}
	b.ReportMetric(float64(len(buf)), "bytes/scrape")
}

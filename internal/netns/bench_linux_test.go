package netns

import (
	"testing"
	"time"
)

// BenchmarkScan is a Scan of this machine's /proc and namespace mounts:
// incremental (no new processes: the common refresh) and full (every
// process's link read, each FullEvery).
func BenchmarkScan(b *testing.B) {
	for _, bc := range []struct {
		name string
		full time.Duration
	}{{"incremental", time.Hour}, {"full", time.Nanosecond}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := NewScanner(Config{FullEvery: bc.full})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			buf, err := s.Scan(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = s.Scan(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.Stats().Processes), "processes")
			b.ReportMetric(float64(len(buf)), "namespaces")
		})
	}
}

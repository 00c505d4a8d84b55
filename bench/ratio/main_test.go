package main

import (
	"strings"
	"testing"
)

func TestReportPrefersPerPacket(t *testing.T) {
	in := `BenchmarkDecode/frame=corpus/impl=hogs-2  100  20000 ns/op  5.000 ns/pkt  2e+08 pkts/s
BenchmarkDecode/frame=corpus/impl=hogs-2  100  20000 ns/op  4.000 ns/pkt  2e+08 pkts/s
BenchmarkDecode/frame=corpus/impl=hogs-2  100  20000 ns/op  6.000 ns/pkt  2e+08 pkts/s
BenchmarkDecode/frame=corpus/impl=gopacket-2  10  260000 ns/op  65.00 ns/pkt  1e+07 pkts/s
BenchmarkOld/frame=single/impl=hogs-2  100  4.0 ns/op
BenchmarkOld/frame=single/impl=gopacket-2  100  40.0 ns/op
`
	var out strings.Builder
	if err := report(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"corpus                       5.00        65.00      13.0x", "single                       4.00        40.00      10.0x"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if err := report(strings.NewReader("PASS\n"), &out); err == nil {
		t.Error("no benchmarks: no error")
	}
}

package main

import "hogs/bench/internal/vethlab"

// reg is every namespace and process this harness made, for cleanup.
var reg = vethlab.NewRegistry("live")

type (
	pair     = vethlab.Pair
	counters = vethlab.Counters
	memory   = vethlab.Memory
)

// newPair makes the two namespaces of one monitor run.
func newPair() (pair, error) {
	return reg.NewPair(vethlab.PairConfig{
		Prefix: "hogs-live", AddrA: addrA, AddrB: addrB, MACA: macA, MACB: macB,
		SysctlsA: []string{},
		SysctlsB: []string{"net.ipv4.tcp_autocorking=0"},
	})
}

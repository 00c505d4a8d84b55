package main

import "hogs/bench/internal/vethlab"

// reg is every namespace and process this harness made, for cleanup.
var reg = vethlab.NewRegistry("sockets")

type (
	pair     = vethlab.Pair
	counters = vethlab.Counters
	memory   = vethlab.Memory
)

// newPair makes the two namespaces of one monitor run.
func newPair() (pair, error) {
	return reg.NewPair(vethlab.PairConfig{
		Prefix: "hogs-sock", AddrA: addrA, AddrB: addrB, MACA: macA, MACB: macB,
		SysctlsA: []string{"net.ipv4.ip_local_port_range=1024 65535"},
		SysctlsB: []string{"net.core.somaxconn=65535", "net.ipv4.tcp_max_syn_backlog=65535"},
	})
}

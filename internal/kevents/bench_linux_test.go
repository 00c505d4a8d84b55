//go:build linux && !hogs_small

package kevents

import (
	"io"
	"net"
	"net/netip"
	"testing"

	"hogs/internal/netlab"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// BenchmarkConnectClose is what the programs cost a socket: a TCP
// connect and close on loopback (both ends in this process, in a
// namespace of its own) and a UDP socket's sendto, with the programs
// attached and without. Needs root; CPU-measuring, so run it on a quiet
// machine: go test ./internal/kevents -run '^$' -bench ConnectClose.
func BenchmarkConnectClose(b *testing.B) {
	netlab.SkipUnlessAdmin(b)
	ns := netlab.New(b)
	netlab.IP(b, ns, "link", "set", "lo", "up")
	for _, attached := range []bool{false, true} {
		name := "off"
		if attached {
			name = "on"
		}
		b.Run("tcp/"+name, func(b *testing.B) {
			if attached {
				a, stats := openStats(b)
				defer reportProgramCost(b, a, stats, "hogs_state")()
			}
			netlab.Run(b, ns, func() {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				defer ln.Close()
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						c.Close()
					}
				}()
				addr := ln.Addr().String()
				b.ResetTimer()
				for b.Loop() {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						b.Fatal(err)
					}
					c.Close()
				}
			})
		})
		b.Run("udp/"+name, func(b *testing.B) {
			if attached {
				a, stats := openStats(b)
				defer reportProgramCost(b, a, stats, "hogs_udp")()
			}
			netlab.Run(b, ns, func() {
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				defer pc.Close()
				to := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(pc.LocalAddr().String()))
				c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				msg := make([]byte, 64)
				buf := make([]byte, 64)
				b.ResetTimer()
				for b.Loop() {
					if _, err := c.WriteTo(msg, to); err != nil {
						b.Fatal(err)
					}
					if _, _, err := pc.ReadFrom(buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// openStats opens the kernel socket events with the kernel counting the
// programs' run time (BPF_ENABLE_STATS, for as long as its fd is open).
func openStats(b *testing.B) (*Attributor, io.Closer) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatal(err)
	}
	a, err := Open(Config{})
	if err != nil {
		stats.Close()
		b.Fatal(err)
	}
	return a, stats
}

// reportProgramCost returns a function that reports program prog's mean
// run time per run and runs per operation, then closes everything.
func reportProgramCost(b *testing.B, a *Attributor, stats io.Closer, prog string) func() {
	return func() {
		defer stats.Close()
		defer a.Close()
		st, err := a.rec.(*kernelRecords).coll.Programs[prog].Stats()
		if err != nil {
			b.Fatal(err)
		}
		runs := st.RunCount
		if runs == 0 {
			b.Fatalf("%s: no run statistics", prog)
		}
		b.ReportMetric(float64(st.Runtime.Nanoseconds())/float64(runs), "ns/"+prog+"-run")
		b.ReportMetric(float64(runs)/float64(b.N), prog+"-runs/op")
	}
}

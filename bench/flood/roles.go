//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"hogs/bench/internal/harness"
	"hogs/rawcap/pcapfilter"
)

// Limits that keep every traffic process bounded whatever its arguments.
const (
	maxPhase     = 60 * time.Second // longest flood phase accepted
	maxDownload  = 1 << 30          // bytes
	roleLifetime = 5 * time.Minute  // every role exits by itself after this
	chunk        = 16 << 10         // download write size
)

// roles are the traffic processes: the harness re-executes itself inside a
// namespace (ip netns exec NS /proc/self/exe ROLE ARGS...) to play one.
var roles = harness.Roles{
	"gen-flood":       genFlood,
	"download-server": downloadServer,
	"download-client": downloadClient,
	"wire-count":      wireCount,
}

func wantArgs(args []string, n int, usage string) error {
	return harness.WantArgs(args, n, "flood "+usage)
}

// genFlood writes raw frames on DEV (AF_PACKET, no stack in the way): for
// PHASE, TCP SYNs, then for PHASE, UDP datagrams, each from a random
// source address in 198.18.0.0/15 and random ports to DSTIP at DSTMAC, so
// every frame is a new 5-tuple; RATE frames per second (paced on a 1 ms
// tick), 0 for as fast as it can.
func genFlood(args []string) error {
	if err := wantArgs(args, 5, "gen-flood DEV DSTMAC DSTIP RATE PHASE"); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(args[0])
	if err != nil {
		return err
	}
	dstMAC, err := net.ParseMAC(args[1])
	if err != nil || len(dstMAC) != 6 {
		return fmt.Errorf("bad MAC %q", args[1])
	}
	dstIP := net.ParseIP(args[2]).To4()
	if dstIP == nil {
		return fmt.Errorf("bad IPv4 address %q", args[2])
	}
	rate, err := strconv.Atoi(args[3])
	if err != nil || rate < 0 || rate > 10_000_000 {
		return fmt.Errorf("bad rate %q", args[3])
	}
	phase, err := harness.ParseDuration(args[4], maxPhase)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0) // 0: sends only, queues nothing
	if err != nil {
		return fmt.Errorf("AF_PACKET socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: htons(unix.ETH_P_IP)}); err != nil {
		return fmt.Errorf("binding to %s: %w", ifi.Name, err)
	}
	// Past the qdisc: the generator measures the monitors, not tc.
	unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)

	var f flooder
	f.init(ifi.HardwareAddr, dstMAC, [4]byte(dstIP))
	for _, proto := range []uint8{unix.IPPROTO_TCP, unix.IPPROTO_UDP} {
		sent, errs, took := f.run(fd, proto, rate, phase)
		name := map[uint8]string{unix.IPPROTO_TCP: "syn", unix.IPPROTO_UDP: "udp"}[proto]
		fmt.Printf("gen-flood %s: %d frames in %v (%.0f/s), %d send errors\n",
			name, sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(), errs)
	}
	return nil
}

// flooder builds the frames: one buffer per protocol, rewritten in place.
type flooder struct {
	syn, udp []byte
	rng      *rand.PCG
}

const (
	ethLen = 14
	ipLen  = 20
	synLen = ethLen + ipLen + 20
	udpLen = ethLen + ipLen + 8 + 18 // 18 bytes of payload: a 60-byte frame
)

func (f *flooder) init(src, dst net.HardwareAddr, dstIP [4]byte) {
	f.rng = rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)
	for _, p := range []struct {
		buf   *[]byte
		n     int
		proto uint8
	}{{&f.syn, synLen, unix.IPPROTO_TCP}, {&f.udp, udpLen, unix.IPPROTO_UDP}} {
		b := make([]byte, p.n)
		copy(b[0:6], dst)
		copy(b[6:12], src)
		binary.BigEndian.PutUint16(b[12:], unix.ETH_P_IP)
		ip := b[ethLen:]
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(p.n-ethLen))
		ip[8] = 64
		ip[9] = p.proto
		ip[12], ip[13] = 198, 18
		copy(ip[16:20], dstIP[:])
		l4 := ip[ipLen:]
		if p.proto == unix.IPPROTO_TCP {
			l4[12] = 5 << 4 // data offset: 20 bytes
			l4[13] = 0x02   // SYN
			binary.BigEndian.PutUint16(l4[14:], 64240)
		} else {
			binary.BigEndian.PutUint16(l4[4:], uint16(p.n-ethLen-ipLen)) // checksum 0: none
		}
		*p.buf = b
	}
}

// next rewrites the frame for proto with a new random source address,
// source port, destination port (and sequence number) and its checksums.
func (f *flooder) next(proto uint8) []byte {
	r := f.rng.Uint64()
	b := f.udp
	if proto == unix.IPPROTO_TCP {
		b = f.syn
	}
	ip := b[ethLen:]
	ip[13] = 18 | byte(r>>48)&1 // 198.18.0.0/15
	ip[14], ip[15] = byte(r>>40), byte(r>>32)
	binary.BigEndian.PutUint16(ip[4:], uint16(r>>16)) // id
	binary.BigEndian.PutUint16(ip[10:], 0)
	binary.BigEndian.PutUint16(ip[10:], checksum(ip[:ipLen], 0))
	l4 := ip[ipLen:]
	binary.BigEndian.PutUint16(l4[0:], uint16(r>>16)|1024)
	binary.BigEndian.PutUint16(l4[2:], uint16(r)|1)
	if proto == unix.IPPROTO_TCP {
		binary.BigEndian.PutUint32(l4[4:], uint32(r>>8))
		binary.BigEndian.PutUint16(l4[16:], 0)
		// Pseudo-header: addresses, protocol, TCP length.
		pseudo := checksumAdd(ip[12:20], uint32(unix.IPPROTO_TCP)+uint32(len(l4)))
		binary.BigEndian.PutUint16(l4[16:], checksum(l4, pseudo))
	}
	return b
}

func (f *flooder) run(fd int, proto uint8, rate int, phase time.Duration) (sent, errs int64, took time.Duration) {
	send := func() {
		if _, err := unix.Write(fd, f.next(proto)); err != nil {
			errs++ // ENOBUFS: count, go on
		}
		sent++
	}
	start := time.Now()
	deadline := start.Add(phase)
	if rate == 0 {
		for sent&1023 != 0 || time.Now().Before(deadline) {
			send()
		}
	} else {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for now := time.Now(); now.Before(deadline); now = time.Now() {
			due := int64(float64(rate) * now.Sub(start).Seconds())
			for sent < due {
				send()
			}
			<-tick.C
		}
	}
	return sent, errs, time.Since(start)
}

// checksumAdd adds b's 16-bit words to sum.
func checksumAdd(b []byte, sum uint32) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// checksum is the Internet checksum of b with sum already added.
func checksum(b []byte, sum uint32) uint16 {
	sum = checksumAdd(b, sum)
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// downloadServer accepts one connection on ADDR and sends it SIZE bytes
// spread evenly over DURATION, then closes it and waits for SIGTERM.
func downloadServer(args []string) error {
	if err := wantArgs(args, 3, "download-server ADDR SIZE DURATION"); err != nil {
		return err
	}
	size, err := strconv.Atoi(args[1])
	if err != nil || size < 1 || size > maxDownload {
		return fmt.Errorf("bad size %q", args[1])
	}
	dur, err := harness.ParseDuration(args[2], maxPhase)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", args[0])
	if err != nil {
		return err
	}
	var sent atomic.Int64
	harness.OnTerm(func() { fmt.Printf("download-server: %d bytes sent\n", sent.Load()) })
	fmt.Println("ready")
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	ln.Close()
	buf := make([]byte, chunk)
	start := time.Now()
	for int(sent.Load()) < size {
		n := min(chunk, size-int(sent.Load()))
		if _, err := c.Write(buf[:n]); err != nil {
			return err
		}
		sent.Add(int64(n))
		// Sleep until this much is due.
		due := start.Add(time.Duration(float64(dur) * float64(sent.Load()) / float64(size)))
		time.Sleep(time.Until(due))
	}
	if err := c.Close(); err != nil {
		return err
	}
	select {} // until SIGTERM (OnTerm) or the lifetime ends
}

// downloadClient connects to ADDR, reads to the end, prints "done N" and
// stays (its process row must outlive the download) until SIGTERM.
func downloadClient(args []string) error {
	if err := wantArgs(args, 1, "download-client ADDR"); err != nil {
		return err
	}
	c, err := harness.DialTCP(args[0])
	if err != nil {
		return err
	}
	fmt.Printf("connected %s\n", c.LocalAddr())
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", n, err)
	}
	c.Close()
	fmt.Printf("done %d\n", n)
	harness.UntilTerm(nil)
	return nil
}

// wireCount counts the frames of TCP port PORT on DEV, as the monitors see
// them (a packet socket), per direction, and prints the totals on
// SIGTERM. A kernel filter keeps the flood out of its queue; the frame
// length counts the Ethernet header, as the monitors and the interface
// counters do.
func wireCount(args []string) error {
	if err := wantArgs(args, 2, "wire-count DEV PORT"); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(args[0])
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(args[1])
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("bad port %q", args[1])
	}
	// The filter returns the whole packet (snap length 0: the default), so
	// that recvfrom with MSG_TRUNC reports its full length: a packet
	// socket trims what it queues to the filter's result.
	prog, err := pcapfilter.Compile(fmt.Sprintf("tcp port %d", port), 0)
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	// SOCK_DGRAM: the filter sees the IP header first, as pcapfilter
	// compiles for. ETH_P_ALL: only such a socket also sees the packets
	// the namespace sends.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return err
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}); err != nil {
		return fmt.Errorf("attaching the filter: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: htons(unix.ETH_P_ALL)}); err != nil {
		return err
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	var in, out [2]atomic.Int64 // packets, bytes
	harness.OnTerm(func() {
		st, _ := unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
		drops := uint32(0)
		if st != nil {
			drops = st.Drops
		}
		fmt.Printf("wire-count: sent %d packets %d bytes; received %d packets %d bytes; %d dropped\n",
			out[0].Load(), out[1].Load(), in[0].Load(), in[1].Load(), drops)
	})
	fmt.Println("ready")
	buf := make([]byte, 64)
	for {
		n, from, err := unix.Recvfrom(fd, buf, unix.MSG_TRUNC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		c := &in
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			c = &out
		}
		c[0].Add(1)
		c[1].Add(int64(n + ethLen))
	}
}

//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"hogs/bench/internal/harness"
)

// Limits that keep every traffic process bounded whatever its arguments.
const (
	maxDatagrams   = 20_000_000       // per UDP generator run
	maxSmallWrites = 50_000_000       // per tcp-small run
	maxBulkWrites  = 100_000          // 1 MiB writes per tcp-bulk run (100 GiB)
	maxTraffic     = 60 * time.Second // longest generator run accepted
	roleLifetime   = 5 * time.Minute  // every role exits by itself after this
	bulkWrite      = 1 << 20
)

// roles are the traffic processes: the harness re-executes itself inside a
// namespace (ip netns exec NS /proc/self/exe ROLE ARGS...) to play one.
var roles = harness.Roles{
	"gen-udp":        genUDP,
	"sink-udp":       func(args []string) error { return sinkUDP(args, true) },
	"sink-udp-bound": func(args []string) error { return sinkUDP(args, false) },
	"sink-tcp":       sinkTCP,
	"gen-tcp-small":  genTCPSmall,
	"gen-tcp-bulk":   genTCPBulk,
}

func wantArgs(args []string, n int, usage string) error {
	return harness.WantArgs(args, n, "live "+usage)
}

func parseDuration(s string) (time.Duration, error) { return harness.ParseDuration(s, maxTraffic) }

// genUDP sends SIZE-byte datagrams to ADDR at RATE per second for
// DURATION (RATE 0: as fast as this one goroutine can). Paced sending
// works on a 1 ms ticker: at every tick it sends the datagrams that are
// due by then (rate × elapsed), so the rate holds without a sleep per
// datagram and a late tick is caught up at the next one.
func genUDP(args []string) error {
	if err := wantArgs(args, 4, "gen-udp ADDR RATE DURATION SIZE"); err != nil {
		return err
	}
	rate, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || rate < 0 {
		return fmt.Errorf("bad rate %q", args[1])
	}
	dur, err := parseDuration(args[2])
	if err != nil {
		return err
	}
	size, err := strconv.Atoi(args[3])
	if err != nil || size < 1 || size > 1472 {
		return fmt.Errorf("bad size %q", args[3])
	}
	conn, err := net.Dial("udp4", args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	limit := int64(maxDatagrams)
	if rate > 0 {
		limit = min(limit, int64(float64(rate)*dur.Seconds()))
	}
	buf := make([]byte, size)
	var sent, errs int64
	send := func() {
		if _, err := conn.Write(buf); err != nil {
			errs++ // ECONNREFUSED after an ICMP error, ENOBUFS: count, go on
		}
		sent++
	}
	start := time.Now()
	deadline := start.Add(dur)
	if rate == 0 {
		for sent < limit && (sent&255 != 0 || time.Now().Before(deadline)) {
			send()
		}
	} else {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			now := time.Now()
			if !now.Before(deadline) || sent >= limit {
				break
			}
			due := min(limit, int64(float64(rate)*now.Sub(start).Seconds()))
			for sent < due {
				send()
			}
			<-tick.C
		}
	}
	took := time.Since(start)
	fmt.Printf("gen-udp: %d datagrams of %d bytes in %v (%.0f/s), %d send errors\n",
		sent, size, took.Round(time.Millisecond), float64(sent)/took.Seconds(), errs)
	return nil
}

// sinkUDP reads datagrams on ADDR until SIGTERM, then prints how many.
// With connect, it connects its socket to the first sender, as iperf3's UDP
// server does, so the flow is a full 4-tuple in /proc/net/udp (nethogs then
// attributes it to the sink; an unconnected sink lands in its unknown UDP
// row, defect 7 of ../shared/docs/nethogs.md).
func sinkUDP(args []string, connect bool) error {
	if err := wantArgs(args, 1, "sink-udp ADDR"); err != nil {
		return err
	}
	addr, err := net.ResolveUDPAddr("udp4", args[0])
	if err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp4", addr)
	if err != nil {
		return err
	}
	conn.SetReadBuffer(8 << 20)
	var n, bytes atomic.Int64
	harness.OnTerm(func() { fmt.Printf("sink-udp: %d datagrams, %d bytes\n", n.Load(), bytes.Load()) })
	fmt.Println("ready")
	buf := make([]byte, 65536)
	for {
		m, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			return err
		}
		if connect && n.Load() == 0 {
			if err := connectUDP(conn, from); err != nil {
				return err
			}
		}
		n.Add(1)
		bytes.Add(int64(m))
	}
}

// connectUDP connects a listening UDP socket to a peer (connect(2) on its
// descriptor: the net package has no call for it).
func connectUDP(conn *net.UDPConn, peer *net.UDPAddr) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	sa := &unix.SockaddrInet4{Port: peer.Port}
	copy(sa.Addr[:], peer.IP.To4())
	var cerr error
	if err := raw.Control(func(fd uintptr) { cerr = unix.Connect(int(fd), sa) }); err != nil {
		return err
	}
	return cerr
}

// sinkTCP accepts one connection on ADDR and reads it to the end, then
// keeps it open (CLOSE_WAIT) until SIGTERM, so that its owner still
// exists when the monitors print their last refresh.
func sinkTCP(args []string) error {
	if err := wantArgs(args, 1, "sink-tcp ADDR"); err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", args[0])
	if err != nil {
		return err
	}
	var bytes, reads atomic.Int64
	harness.OnTerm(func() { fmt.Printf("sink-tcp: %d bytes in %d reads\n", bytes.Load(), reads.Load()) })
	fmt.Println("ready")
	conn, err := ln.Accept()
	if err != nil {
		return err
	}
	ln.Close()
	buf := make([]byte, 256<<10)
	for {
		m, err := conn.Read(buf)
		bytes.Add(int64(m))
		reads.Add(1)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	select {} // until SIGTERM or the lifetime ends (onTerm)
}

// genTCPSmall writes 64-byte chunks with TCP_NODELAY as fast as it can,
// for a duration ("10s") or a count of writes ("100000").
func genTCPSmall(args []string) error {
	if err := wantArgs(args, 2, "gen-tcp-small ADDR COUNT-or-DURATION"); err != nil {
		return err
	}
	count, dur := int64(maxSmallWrites), maxTraffic
	if n, err := strconv.ParseInt(args[1], 10, 64); err == nil {
		if n < 1 || n > maxSmallWrites {
			return fmt.Errorf("count %d out of range [1, %d]", n, maxSmallWrites)
		}
		count = n
	} else if dur, err = parseDuration(args[1]); err != nil {
		return err
	}
	conn, err := harness.DialTCP(args[0])
	if err != nil {
		return err
	}
	if err := conn.SetNoDelay(true); err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(dur)
	conn.SetWriteDeadline(deadline.Add(5 * time.Second))
	buf := make([]byte, 64)
	var writes int64
	for writes < count && (writes&255 != 0 || time.Now().Before(deadline)) {
		if _, err := conn.Write(buf); err != nil {
			return fmt.Errorf("after %d writes: %w", writes, err)
		}
		writes++
	}
	took := time.Since(start)
	if err := conn.Close(); err != nil {
		return err
	}
	fmt.Printf("gen-tcp-small: %d writes of 64 bytes in %v (%.0f/s)\n",
		writes, took.Round(time.Millisecond), float64(writes)/took.Seconds())
	return nil
}

// genTCPBulk writes 1 MiB chunks for DURATION.
func genTCPBulk(args []string) error {
	if err := wantArgs(args, 2, "gen-tcp-bulk ADDR DURATION"); err != nil {
		return err
	}
	dur, err := parseDuration(args[1])
	if err != nil {
		return err
	}
	conn, err := harness.DialTCP(args[0])
	if err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(dur)
	conn.SetWriteDeadline(deadline.Add(5 * time.Second))
	buf := make([]byte, bulkWrite)
	var writes int64
	for writes < maxBulkWrites && time.Now().Before(deadline) {
		if _, err := conn.Write(buf); err != nil {
			return fmt.Errorf("after %d writes: %w", writes, err)
		}
		writes++
	}
	took := time.Since(start)
	if err := conn.Close(); err != nil {
		return err
	}
	fmt.Printf("gen-tcp-bulk: %d writes of 1 MiB in %v (%.2f GB/s)\n",
		writes, took.Round(time.Millisecond), float64(writes*bulkWrite)/took.Seconds()/1e9)
	return nil
}

package rawcap

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"hogs/decode"
)

// counts is what a live source delivered, per direction.
type counts struct {
	inPackets, inBytes         uint64
	outPackets, outBytes       uint64
	unknownDirection           uint64
	byInterface                map[string]uint64
	decodedTCP, decodedUDP     uint64
	notIP                      uint64
	truncatedWithoutPortsCount uint64
	vlanTagged                 uint64
}

// tally sums what a live source delivers; the capture goroutine adds, the
// test reads snapshots.
type tally struct {
	mu sync.Mutex
	c  counts
}

func (t *tally) add(f *Frame) {
	var p decode.Packet
	decode.Decode(f.LinkType, f.Data, &p)
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &t.c
	switch f.Direction {
	case decode.DirIn:
		c.inPackets++
		c.inBytes += uint64(f.WireLen)
	case decode.DirOut:
		c.outPackets++
		c.outBytes += uint64(f.WireLen)
	default:
		c.unknownDirection++
	}
	if c.byInterface == nil {
		c.byInterface = map[string]uint64{}
	}
	c.byInterface[f.InterfaceName]++
	if f.vlanTagged {
		c.vlanTagged++
	}
	switch {
	case p.Family == decode.NotIP:
		c.notIP++
	case p.IsTCP():
		c.decodedTCP++
	case p.IsUDP():
		c.decodedUDP++
	}
	if !p.Has(decode.FlagPorts) && p.Family != decode.NotIP && !p.Has(decode.FlagLaterFragment) {
		c.truncatedWithoutPortsCount++
	}
}

func (t *tally) snapshot() counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.c
	out.byInterface = map[string]uint64{}
	for k, v := range t.c.byInterface {
		out.byInterface[k] = v
	}
	return out
}

// startCapture opens a live source inside ns and tallies it in the
// background until the test ends.
func startCapture(t *testing.T, ns string, cfg LiveConfig) (*Live, *tally) {
	t.Helper()
	var (
		src *Live
		err error
	)
	inNetns(t, ns, func() { src, err = OpenLive(cfg) })
	if err != nil {
		t.Fatalf("OpenLive in %s: %v", ns, err)
	}
	c := &tally{}
	done := make(chan error, 1)
	go func() {
		var f Frame
		for {
			if err := src.Next(&f); err != nil {
				done <- err
				return
			}
			c.add(&f)
		}
	}()
	t.Cleanup(func() {
		src.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Next after Close: %v, want net.ErrClosed", err)
		}
	})
	return src, c
}

// settle waits until the tally has not changed for longer than the ring's
// retire timeout (the ring hands over a block at the latest after it), so
// that everything sent before the call has been delivered.
func settle(c *tally) counts {
	quiet := DefaultRetireTimeout + 150*time.Millisecond
	last, since := c.snapshot(), time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		now := c.snapshot()
		if now.inPackets != last.inPackets || now.outPackets != last.outPackets {
			last, since = now, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return now
		}
	}
	return last
}

// transfer sends a bounded TCP stream and UDP datagrams from nsA to nsB
// and back, over sockets created inside the namespaces.
func transfer(t *testing.T, nsA, nsB string) {
	t.Helper()
	var (
		ln     net.Listener
		udpB   net.PacketConn
		lnErr  error
		udpErr error
	)
	inNetns(t, nsB, func() {
		ln, lnErr = net.Listen("tcp4", "10.77.0.2:5001")
		udpB, udpErr = net.ListenPacket("udp4", "10.77.0.2:5002")
	})
	if lnErr != nil || udpErr != nil {
		t.Fatalf("listening in %s: %v %v", nsB, lnErr, udpErr)
	}
	defer ln.Close()
	defer udpB.Close()

	const tcpBytes = 4 << 20
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		n, err := io.Copy(io.Discard, conn)
		if err == nil && n != tcpBytes {
			err = fmt.Errorf("server read %d bytes, want %d", n, tcpBytes)
		}
		if err == nil {
			_, err = conn.Write([]byte("thanks"))
		}
		served <- err
	}()
	var (
		conn    net.Conn
		udpA    net.PacketConn
		dialErr error
	)
	inNetns(t, nsA, func() {
		d := net.Dialer{Timeout: 5 * time.Second}
		conn, dialErr = d.Dial("tcp4", "10.77.0.2:5001")
		if dialErr == nil {
			udpA, dialErr = net.ListenPacket("udp4", "10.77.0.1:0")
		}
	})
	if dialErr != nil {
		t.Fatalf("dialing from %s: %v", nsA, dialErr)
	}
	defer udpA.Close()
	chunk := make([]byte, 64<<10)
	for sent := 0; sent < tcpBytes; sent += len(chunk) {
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("tcp write: %v", err)
		}
	}
	conn.(*net.TCPConn).CloseWrite()
	reply, err := io.ReadAll(conn)
	if err != nil || string(reply) != "thanks" {
		t.Fatalf("tcp reply %q, %v", reply, err)
	}
	conn.Close()
	if err := <-served; err != nil {
		t.Fatalf("tcp server: %v", err)
	}
	// 200 UDP datagrams each way, 512 bytes of payload.
	dst := &net.UDPAddr{IP: net.IPv4(10, 77, 0, 2), Port: 5002}
	buf := make([]byte, 512)
	for range 200 {
		if _, err := udpA.WriteTo(buf, dst); err != nil {
			t.Fatalf("udp write: %v", err)
		}
		udpB.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, from, err := udpB.ReadFrom(buf)
		if err != nil {
			t.Fatalf("udp read: %v", err)
		}
		if _, err := udpB.WriteTo(buf, from); err != nil {
			t.Fatalf("udp reply: %v", err)
		}
		udpA.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := udpA.ReadFrom(buf); err != nil {
			t.Fatalf("udp reply read: %v", err)
		}
	}
}

// TestLiveVethMatchesInterfaceCounters: for a bounded TCP and UDP transfer
// over a veth pair, the frames and wire bytes hogs sees on one end, per
// direction, equal the kernel's counters on the peer.
func TestLiveVethMatchesInterfaceCounters(t *testing.T) {
	for _, mode := range []string{ModeRing, ModeRecvmsg} {
		t.Run(strings.ReplaceAll(mode, " ", "-"), func(t *testing.T) {
			nsA, nsB := quietVethPair(t)
			filter, err := KernelFilter(FilterOptions{UDP: true})
			if err != nil {
				t.Fatal(err)
			}
			src, c := startCapture(t, nsA, LiveConfig{Filter: filter, ForceRecvmsg: mode == ModeRecvmsg})
			if src.Mode() != mode {
				t.Fatalf("capture mode %q, want %q", src.Mode(), mode)
			}
			before := readCounters(t, nsB, "vB")
			transfer(t, nsA, nsB)
			got := settle(c)
			after := readCounters(t, nsB, "vB")
			stats, err := src.Stats()
			if err != nil {
				t.Fatal(err)
			}
			wantOutPackets, wantOutBytes := after.RxPackets-before.RxPackets, after.RxBytes-before.RxBytes
			wantInPackets, wantInBytes := after.TxPackets-before.TxPackets, after.TxBytes-before.TxBytes
			t.Logf("%s: hogs out %d pkts %d B, in %d pkts %d B; vB rx %d pkts %d B, tx %d pkts %d B; kernel stats %+v",
				mode, got.outPackets, got.outBytes, got.inPackets, got.inBytes,
				wantOutPackets, wantOutBytes, wantInPackets, wantInBytes, stats)
			if got.outPackets != wantOutPackets || got.outBytes != wantOutBytes {
				t.Errorf("sent: hogs saw %d packets / %d bytes, peer received %d / %d", got.outPackets, got.outBytes, wantOutPackets, wantOutBytes)
			}
			if got.inPackets != wantInPackets || got.inBytes != wantInBytes {
				t.Errorf("received: hogs saw %d packets / %d bytes, peer sent %d / %d", got.inPackets, got.inBytes, wantInPackets, wantInBytes)
			}
			if got.unknownDirection != 0 || got.notIP != 0 || got.truncatedWithoutPortsCount != 0 {
				t.Errorf("%d frames without direction, %d not IP, %d without ports", got.unknownDirection, got.notIP, got.truncatedWithoutPortsCount)
			}
			if got.decodedTCP == 0 || got.decodedUDP != 400 {
				t.Errorf("decoded %d TCP and %d UDP packets, want some TCP and 400 UDP", got.decodedTCP, got.decodedUDP)
			}
			if stats.Dropped != 0 {
				t.Errorf("kernel dropped %d packets", stats.Dropped)
			}
			if n := got.byInterface["vA"]; n != got.inPackets+got.outPackets {
				t.Errorf("interface names: %v", got.byInterface)
			}
			if dc := src.DeviceCounts(); len(dc) != 1 || dc[0].Name != "vA" || dc[0].Packets != got.inPackets+got.outPackets ||
				dc[0].Bytes != got.inBytes+got.outBytes {
				t.Errorf("DeviceCounts %+v; want vA with %d packets, %d bytes", dc, got.inPackets+got.outPackets, got.inBytes+got.outBytes)
			}
		})
	}
}

// TestHandshakeWatcher: with a ring that may hold packets for 30 s, the
// handshake watcher still hands over the SYN of a connection this host
// opens at once, with its direction and ports, and nothing else: not the
// SYN-ACK, and nothing of a connection to this host (a SYN flood's
// packets would wake hogs one by one).
func TestHandshakeWatcher(t *testing.T) {
	nsA, nsB := quietVethPair(t)
	filter, err := KernelFilter(FilterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	handshakes, err := HandshakeFilter(FilterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src, _ := startCapture(t, nsA, LiveConfig{Filter: filter, HandshakeFilter: handshakes, RetireTimeout: 30 * time.Second})
	type seen struct {
		pkt decode.Packet
		dir decode.Direction
		dev string
		at  time.Time
	}
	frames := make(chan seen, 16)
	go func() {
		var f Frame
		for {
			if err := src.NextHandshake(&f); err != nil {
				close(frames)
				return
			}
			var s seen
			decode.Decode(f.LinkType, f.Data, &s.pkt)
			s.dir, s.dev, s.at = f.Direction, f.InterfaceName, time.Now()
			frames <- s
		}
	}()

	var (
		ln    net.Listener
		lnErr error
	)
	inNetns(t, nsB, func() { ln, lnErr = net.Listen("tcp4", "10.77.0.2:5003") })
	if lnErr != nil {
		t.Fatal(lnErr)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	var (
		conn    net.Conn
		dialErr error
	)
	start := time.Now()
	inNetns(t, nsA, func() { conn, dialErr = net.DialTimeout("tcp4", "10.77.0.2:5003", 5*time.Second) })
	if dialErr != nil {
		t.Fatal(dialErr)
	}
	local := conn.LocalAddr().(*net.TCPAddr).Port
	conn.Write(make([]byte, 1000))
	conn.Close()

	want := []struct {
		dir              decode.Direction
		sport, dport     uint16
		flags            uint8
		flagsDescription string
	}{
		{decode.DirOut, uint16(local), 5003, 0x02, "SYN"},
	}
	for _, w := range want {
		select {
		case s, ok := <-frames:
			if !ok {
				t.Fatal("NextHandshake ended early")
			}
			if s.dir != w.dir || s.pkt.SrcPort != w.sport || s.pkt.DstPort != w.dport || s.pkt.TCPFlags != w.flags || s.dev != "vA" {
				t.Errorf("want %s %v %d->%d on vA, got dir %v %d->%d flags %#x on %q", w.flagsDescription, w.dir, w.sport, w.dport, s.dir, s.pkt.SrcPort, s.pkt.DstPort, s.pkt.TCPFlags, s.dev)
			}
			t.Logf("%s after %v", w.flagsDescription, s.at.Sub(start))
		case <-time.After(2 * time.Second):
			t.Fatalf("no %s from the handshake watcher within 2 s (the ring's retire timeout is 30 s)", w.flagsDescription)
		}
	}
	// A connection to this host: its SYN arrives, its SYN-ACK leaves;
	// neither is the watcher's.
	var (
		inLn    net.Listener
		inLnErr error
	)
	inNetns(t, nsA, func() { inLn, inLnErr = net.Listen("tcp4", "10.77.0.1:5004") })
	if inLnErr != nil {
		t.Fatal(inLnErr)
	}
	defer inLn.Close()
	go func() {
		if c, err := inLn.Accept(); err == nil {
			c.Close()
		}
	}()
	var inConn net.Conn
	inNetns(t, nsB, func() { inConn, dialErr = net.DialTimeout("tcp4", "10.77.0.1:5004", 5*time.Second) })
	if dialErr != nil {
		t.Fatal(dialErr)
	}
	inConn.Close()
	select {
	case s := <-frames:
		t.Errorf("watcher delivered %v %d->%d flags %#x: only SYNs this host sends are its", s.dir, s.pkt.SrcPort, s.pkt.DstPort, s.pkt.TCPFlags)
	case <-time.After(300 * time.Millisecond):
	}
}

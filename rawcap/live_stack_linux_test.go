package rawcap

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpPingPong sends n datagrams of size bytes from client (in nsClient) to
// server (in nsServer) and each one back, over sockets made in the
// namespaces.
func udpPingPong(t *testing.T, nsClient string, client netip.Addr, nsServer string, server netip.AddrPort, n, size int) {
	t.Helper()
	network := "udp4"
	if server.Addr().Is6() {
		network = "udp6"
	}
	var (
		srv, cli net.PacketConn
		err      error
	)
	inNetns(t, nsServer, func() { srv, err = net.ListenPacket(network, server.String()) })
	if err != nil {
		t.Fatalf("udp listen %v in %s: %v", server, nsServer, err)
	}
	defer srv.Close()
	inNetns(t, nsClient, func() { cli, err = net.ListenPacket(network, netip.AddrPortFrom(client, 0).String()) })
	if err != nil {
		t.Fatalf("udp socket %v in %s: %v", client, nsClient, err)
	}
	defer cli.Close()
	buf := make([]byte, size)
	dst := net.UDPAddrFromAddrPort(server)
	for range n {
		if _, err := cli.WriteTo(buf, dst); err != nil {
			t.Fatalf("udp send: %v", err)
		}
		srv.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, from, err := srv.ReadFrom(buf)
		if err != nil {
			t.Fatalf("udp receive: %v", err)
		}
		if _, err := srv.WriteTo(buf, from); err != nil {
			t.Fatalf("udp reply: %v", err)
		}
		cli.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := cli.ReadFrom(buf); err != nil {
			t.Fatalf("udp reply receive: %v", err)
		}
	}
}

func mustUDPFilter(t *testing.T) LiveConfig {
	t.Helper()
	filter, err := KernelFilter(FilterOptions{UDP: true})
	if err != nil {
		t.Fatal(err)
	}
	return LiveConfig{Filter: filter}
}

// checkOnce asserts that hogs counted each packet of the exchange once, on
// the device named want, with the peer's counters as the truth.
func checkOnce(t *testing.T, got counts, peer linkCounters, want string) {
	t.Helper()
	if got.outPackets != peer.RxPackets || got.outBytes != peer.RxBytes || got.inPackets != peer.TxPackets || got.inBytes != peer.TxBytes {
		t.Errorf("hogs: out %d pkts/%d B, in %d pkts/%d B; peer: rx %d/%d, tx %d/%d",
			got.outPackets, got.outBytes, got.inPackets, got.inBytes, peer.RxPackets, peer.RxBytes, peer.TxPackets, peer.TxBytes)
	}
	for dev, n := range got.byInterface {
		if dev != want {
			t.Errorf("%d packets counted on %q; all should be on %q", n, dev, want)
		}
	}
}

func diffCounters(a, b linkCounters) linkCounters {
	return linkCounters{RxPackets: b.RxPackets - a.RxPackets, RxBytes: b.RxBytes - a.RxBytes,
		TxPackets: b.TxPackets - a.TxPackets, TxBytes: b.TxBytes - a.TxBytes}
}

// TestLiveBridgeCountsOnce: br0 with port vA in nsA. Every packet crosses
// vA and br0; hogs counts it once, on br0.
func TestLiveBridgeCountsOnce(t *testing.T) {
	nsA, nsB := quietVethPair(t)
	ipCmd(t, nsA, "addr", "del", "10.77.0.1/24", "dev", "vA")
	ipCmd(t, nsA, "link", "add", "br0", "type", "bridge")
	sysctl(t, nsA, "net.ipv6.conf.br0.disable_ipv6=1")
	ipCmd(t, nsA, "link", "set", "vA", "master", "br0")
	ipCmd(t, nsA, "addr", "add", "10.77.0.1/24", "dev", "br0")
	ipCmd(t, nsA, "link", "set", "br0", "multicast", "off", "up")
	ipCmd(t, nsA, "neigh", "replace", "10.77.0.2", "lladdr", linkMAC(t, nsB, "vB"), "dev", "br0", "nud", "permanent")
	src, c := startCapture(t, nsA, mustUDPFilter(t))
	if e, ok := src.Plan().Lookup(ifindexOf(t, nsA, "vA")); !ok || e.Count {
		t.Fatalf("plan for bridge port vA: %+v %v, want selected but not counted", e, ok)
	}
	before := readCounters(t, nsB, "vB")
	udpPingPong(t, nsA, netip.MustParseAddr("10.77.0.1"), nsB, netip.MustParseAddrPort("10.77.0.2:6001"), 50, 300)
	got := settle(c)
	checkOnce(t, got, diffCounters(before, readCounters(t, nsB, "vB")), "br0")
	if got.outPackets != 50 || got.inPackets != 50 {
		t.Errorf("counted %d out, %d in; want 50 each", got.outPackets, got.inPackets)
	}
}

// TestLiveVLANCountsOnce: vA.100 on vA in nsA, vB.100 on vB in nsB. A
// tagged packet crosses vA.100 and vA; hogs counts it once, on vA.100, with
// the VLAN device's 14-byte header, as its counters do.
func TestLiveVLANCountsOnce(t *testing.T) {
	nsA, nsB := quietVethPair(t)
	if out, err := runIP(nsA, "link", "add", "link", "vA", "name", "vA.100", "type", "vlan", "id", "100"); err != nil {
		if strings.Contains(out, "Unknown device type") {
			t.Skip("this kernel has no 802.1Q VLAN devices (CONFIG_VLAN_8021Q): the VLAN stacking rule is covered by the Plan unit tests and TestLiveTaggedFrames")
		}
		t.Fatal(err)
	}
	for _, side := range []struct{ ns, parent, addr string }{{nsA, "vA", "10.78.0.1/24"}, {nsB, "vB", "10.78.0.2/24"}} {
		dev := side.parent + ".100"
		if side.ns == nsB {
			ipCmd(t, side.ns, "link", "add", "link", side.parent, "name", dev, "type", "vlan", "id", "100")
		}
		sysctl(t, side.ns, "net.ipv6.conf."+strings.ReplaceAll(dev, ".", "/")+".disable_ipv6=1")
		ipCmd(t, side.ns, "addr", "add", side.addr, "dev", dev)
		ipCmd(t, side.ns, "link", "set", dev, "up")
	}
	ipCmd(t, nsA, "neigh", "add", "10.78.0.2", "lladdr", linkMAC(t, nsB, "vB.100"), "dev", "vA.100", "nud", "permanent")
	ipCmd(t, nsB, "neigh", "add", "10.78.0.1", "lladdr", linkMAC(t, nsA, "vA.100"), "dev", "vB.100", "nud", "permanent")
	for _, mode := range []bool{false, true} {
		cfg := mustUDPFilter(t)
		cfg.ForceRecvmsg = mode
		src, c := startCapture(t, nsA, cfg)
		before := readCounters(t, nsB, "vB.100")
		udpPingPong(t, nsA, netip.MustParseAddr("10.78.0.1"), nsB, netip.MustParseAddrPort("10.78.0.2:6002"), 40, 200)
		got := settle(c)
		t.Logf("%s: %+v", src.Mode(), got)
		checkOnce(t, got, diffCounters(before, readCounters(t, nsB, "vB.100")), "vA.100")
		if got.outPackets != 40 || got.inPackets != 40 {
			t.Errorf("%s: counted %d out, %d in; want 40 each", src.Mode(), got.outPackets, got.inPackets)
		}
		src.Close()
	}
}

// TestLiveLoopback: with lo selected, each loopback packet is seen twice by
// a packet socket, once outgoing and once incoming; both are delivered, so
// the sender's end counts it as sent and the receiver's as received.
func TestLiveLoopback(t *testing.T) {
	ns := newNetns(t)
	ipCmd(t, ns, "link", "set", "lo", "up")
	cfg := mustUDPFilter(t)
	cfg.Selection = Selection{Names: []string{"lo"}}
	_, c := startCapture(t, ns, cfg)
	before := readCounters(t, ns, "lo")
	udpPingPong(t, ns, netip.MustParseAddr("127.0.0.1"), ns, netip.MustParseAddrPort("127.0.0.1:6003"), 30, 100)
	udpPingPong(t, ns, netip.MustParseAddr("::1"), ns, netip.MustParseAddrPort("[::1]:6004"), 30, 100)
	got := settle(c)
	lo := diffCounters(before, readCounters(t, ns, "lo"))
	if got.outPackets != 120 || got.inPackets != 120 || got.outPackets != lo.TxPackets || got.outBytes != lo.TxBytes || got.inBytes != lo.RxBytes {
		t.Errorf("loopback: hogs out %d/%d B, in %d/%d B; lo tx %d/%d B rx %d/%d B; want 120 packets each way",
			got.outPackets, got.outBytes, got.inPackets, got.inBytes, lo.TxPackets, lo.TxBytes, lo.RxPackets, lo.RxBytes)
	}
}

// openTun creates tun device name in ns and returns its file; the test
// writes packets into it (they arrive on the device) and reads what the
// stack sends.
func openTun(t *testing.T, ns, name string) *os.File {
	t.Helper()
	var (
		f   *os.File
		err error
	)
	inNetns(t, ns, func() {
		var fd int
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		var ifr [unix.IFNAMSIZ + 64]byte
		copy(ifr[:], name)
		*(*uint16)(unsafe.Pointer(&ifr[unix.IFNAMSIZ])) = unix.IFF_TUN | unix.IFF_NO_PI
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&ifr[0]))); errno != 0 {
			unix.Close(fd)
			err = errno
			return
		}
		f = os.NewFile(uintptr(fd), "/dev/net/tun")
	})
	if err != nil {
		t.Skipf("cannot create a tun device (%v): the kernel or sandbox lacks /dev/net/tun", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestLiveTun: IPv4 and IPv6 over a tun device (a raw-IP link: no link
// header), both directions.
func TestLiveTun(t *testing.T) {
	ns := newNetns(t)
	tun := openTun(t, ns, "tun7")
	ipCmd(t, ns, "addr", "add", "10.79.0.1/24", "dev", "tun7")
	ipCmd(t, ns, "addr", "add", "fd00:79::1/64", "dev", "tun7", "nodad")
	ipCmd(t, ns, "link", "set", "tun7", "up")
	_, c := startCapture(t, ns, mustUDPFilter(t))

	// Outgoing: the stack sends UDP to addresses behind the tun; the test
	// reads them off the tun and answers by writing the reply into it.
	var out4, out6 net.PacketConn
	var err error
	inNetns(t, ns, func() {
		out4, err = net.ListenPacket("udp4", "10.79.0.1:6005")
		if err == nil {
			out6, err = net.ListenPacket("udp6", "[fd00:79::1]:6006")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer out4.Close()
	defer out6.Close()
	var sentBytes, readBack int
	for range 10 {
		n4, _ := out4.WriteTo(make([]byte, 100), &net.UDPAddr{IP: net.ParseIP("10.79.0.2"), Port: 9})
		n6, _ := out6.WriteTo(make([]byte, 100), &net.UDPAddr{IP: net.ParseIP("fd00:79::2"), Port: 9})
		sentBytes += n4 + 28 + n6 + 48
	}
	// Read the 20 packets the stack sent into the tun, and write each back
	// with source and destination swapped: they arrive on tun7.
	buf := make([]byte, 2048)
	tun.SetReadDeadline(time.Now().Add(3 * time.Second))
	for readBack < 20 {
		n, err := tun.Read(buf)
		if err != nil {
			t.Fatalf("reading from tun after %d packets: %v", readBack, err)
		}
		pkt := buf[:n]
		if pkt[0]>>4 == 4 {
			var a [4]byte
			copy(a[:], pkt[12:16])
			copy(pkt[12:16], pkt[16:20])
			copy(pkt[16:20], a[:])
			pkt[20], pkt[21], pkt[22], pkt[23] = pkt[22], pkt[23], pkt[20], pkt[21]
			pkt[26], pkt[27] = 0, 0 // UDP checksum optional in IPv4
		} else if pkt[0]>>4 == 6 && pkt[6] == 17 {
			var a [16]byte
			copy(a[:], pkt[8:24])
			copy(pkt[8:24], pkt[24:40])
			copy(pkt[24:40], a[:])
			pkt[40], pkt[41], pkt[42], pkt[43] = pkt[42], pkt[43], pkt[40], pkt[41]
		} else {
			continue // not ours (none expected)
		}
		if _, err := tun.Write(pkt); err != nil {
			t.Fatalf("writing into tun: %v", err)
		}
		readBack++
	}
	got := settle(c)
	if got.outPackets != 20 || got.outBytes != uint64(sentBytes) {
		t.Errorf("tun out: %d packets / %d bytes, want 20 / %d (IP lengths, no link header)", got.outPackets, got.outBytes, sentBytes)
	}
	if got.inPackets != 20 || got.inBytes != uint64(sentBytes) {
		t.Errorf("tun in: %d packets / %d bytes, want 20 / %d", got.inPackets, got.inBytes, sentBytes)
	}
	if got.decodedUDP != 40 || got.byInterface["tun7"] != 40 {
		t.Errorf("decoded %d UDP packets, by interface %v; want 40 on tun7 (IPv4 and IPv6)", got.decodedUDP, got.byInterface)
	}
}

// TestLiveHotPlug: a device created after the capture started is counted;
// one deleted mid-capture leaves the capture running.
func TestLiveHotPlug(t *testing.T) {
	nsA, nsB := quietVethPair(t)
	src, c := startCapture(t, nsA, mustUDPFilter(t))
	udpPingPong(t, nsA, netip.MustParseAddr("10.77.0.1"), nsB, netip.MustParseAddrPort("10.77.0.2:6007"), 5, 100)

	ipCmd(t, nsA, "link", "add", "vC", "type", "veth", "peer", "name", "vD", "netns", nsB)
	ipCmd(t, nsA, "addr", "add", "10.80.0.1/24", "dev", "vC")
	ipCmd(t, nsB, "addr", "add", "10.80.0.2/24", "dev", "vD")
	ipCmd(t, nsA, "link", "set", "vC", "up")
	ipCmd(t, nsB, "link", "set", "vD", "up")
	udpPingPong(t, nsA, netip.MustParseAddr("10.80.0.1"), nsB, netip.MustParseAddrPort("10.80.0.2:6008"), 7, 100)
	got := settle(c)
	if got.byInterface["vC"] != 14 {
		t.Errorf("hot-plugged vC: %d packets counted, want 14 (by interface %v)", got.byInterface["vC"], got.byInterface)
	}
	ipCmd(t, nsA, "link", "del", "vC")
	udpPingPong(t, nsA, netip.MustParseAddr("10.77.0.1"), nsB, netip.MustParseAddrPort("10.77.0.2:6009"), 5, 100)
	got = settle(c)
	if got.byInterface["vA"] != 20 {
		t.Errorf("after deleting vC: %d packets on vA, want 20", got.byInterface["vA"])
	}
	if _, ok := src.Plan().Lookup(ifindexOfGone()); ok {
		t.Errorf("plan still lists a deleted device")
	}
}

func ifindexOfGone() int { return 1 << 30 }

func ifindexOf(t *testing.T, ns, dev string) int {
	t.Helper()
	var i *net.Interface
	var err error
	inNetns(t, ns, func() { i, err = net.InterfaceByName(dev) })
	if err != nil {
		t.Fatal(err)
	}
	return i.Index
}

// TestLivePromiscuous: -p turns promiscuous mode on for the device and the
// kernel turns it off when the capture closes.
func TestLivePromiscuous(t *testing.T) {
	nsA, _ := quietVethPair(t)
	src, _ := startCapture(t, nsA, mustUDPFilter(t))
	idx := ifindexOf(t, nsA, "vA")
	promiscuity := func() string {
		out := ipCmd(t, nsA, "-d", "link", "show", "dev", "vA")
		i := strings.Index(out, "promiscuity ")
		if i < 0 {
			t.Fatalf("no promiscuity in %q", out)
		}
		return strings.Fields(out[i:])[1]
	}
	if err := src.SetPromiscuous(idx, true); err != nil {
		t.Fatal(err)
	}
	if p := promiscuity(); p != "1" {
		t.Errorf("promiscuity %s after SetPromiscuous, want 1", p)
	}
	src.Close()
	if p := promiscuity(); p != "0" {
		t.Errorf("promiscuity %s after Close, want 0", p)
	}
}

// TestLiveTaggedFrames: 802.1Q-tagged frames arriving on a device with no
// VLAN device above it are counted there (the kernel strips the tag before
// packet sockets see it, and says so), on both receive paths.
func TestLiveTaggedFrames(t *testing.T) {
	nsA, nsB := quietVethPair(t)
	macA, err := net.ParseMAC(linkMAC(t, nsA, "vA"))
	if err != nil {
		t.Fatal(err)
	}
	macB, _ := net.ParseMAC(linkMAC(t, nsB, "vB"))
	// Ethernet to vA, tag VLAN 100, IPv4 UDP 10.77.0.2:7000 > 10.77.0.1:7001, 16 bytes of payload.
	frame := append(append(append([]byte{}, macA...), macB...), 0x81, 0x00, 0x00, 0x64, 0x08, 0x00)
	frame = append(frame, hexBytes(t, "4500002c 00004000 4011 0000 0a4d0002 0a4d0001 1b581b59 00180000 00000000000000000000000000000000")...)
	var sock int
	inNetns(t, nsB, func() {
		sock, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sock)
	to := &unix.SockaddrLinklayer{Ifindex: ifindexOf(t, nsB, "vB"), Halen: 6}
	copy(to.Addr[:], macA)
	for _, recvmsg := range []bool{false, true} {
		cfg := mustUDPFilter(t)
		cfg.ForceRecvmsg = recvmsg
		src, c := startCapture(t, nsA, cfg)
		for range 25 {
			if err := unix.Sendto(sock, frame, 0, to); err != nil {
				t.Fatal(err)
			}
		}
		got := settle(c)
		// On the wire: 14 + 4 (tag) + 44; the kernel reports the frame
		// without its tag, as vA's counters do.
		if got.inPackets != 25 || got.inBytes != 25*(14+44) || got.decodedUDP != 25 || got.byInterface["vA"] != 25 || got.vlanTagged != 25 {
			t.Errorf("%s: %+v; want 25 UDP packets of 58 bytes in on vA", src.Mode(), got)
		}
		src.Close()
	}
}

// TestLiveNextAllocatesNothing gates the receive path: with UDP flowing,
// Next allocates nothing per packet, on the ring and on recvmsg.
func TestLiveNextAllocatesNothing(t *testing.T) {
	nsA, nsB := quietVethPair(t)
	var (
		sender int
		err    error
	)
	inNetns(t, nsB, func() {
		sender, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			err = unix.Connect(sender, &unix.SockaddrInet4{Addr: [4]byte{10, 77, 0, 1}, Port: 9})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sender)
	for _, recvmsg := range []bool{false, true} {
		cfg := mustUDPFilter(t)
		cfg.ForceRecvmsg = recvmsg
		var src *Live
		inNetns(t, nsA, func() { src, err = OpenLive(cfg) })
		if err != nil {
			t.Fatal(err)
		}
		// A bounded, allocation-free sender: at most 2 million datagrams.
		stop := make(chan struct{})
		sent := make(chan int)
		go func() {
			payload := make([]byte, 64)
			n := 0
			for ; n < 2_000_000; n++ {
				select {
				case <-stop:
					sent <- n
					return
				default:
				}
				unix.Write(sender, payload)
			}
			sent <- n
		}()
		var f Frame
		allocs := -1.0
		for range 5 {
			a := testing.AllocsPerRun(2000, func() {
				if err := src.Next(&f); err != nil {
					t.Fatal(err)
				}
			})
			if allocs < 0 || a < allocs {
				allocs = a
			}
		}
		close(stop)
		n := <-sent
		src.Close()
		t.Logf("%s: %.2f allocations per packet (least of 5 runs), %d datagrams sent", src.Mode(), allocs, n)
		if allocs != 0 {
			t.Errorf("%s: Next allocates %.2f times per packet, want 0", src.Mode(), allocs)
		}
	}
}

package proc

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// inodeOf returns the inode of a socket this process holds.
func inodeOfConn(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	raw.Control(func(fd uintptr) { err = syscall.Fstat(int(fd), &st) })
	if err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestSockDiagLookup finds this process's own sockets by their addresses:
// both ends of a TCP connection (IPv4, IPv6, IPv4 over a dual-stack
// listener), unconnected and connected UDP, and nothing for a flow with no
// socket.
func TestSockDiagLookup(t *testing.T) {
	d, err := OpenSockDiag()
	if err != nil {
		t.Skipf("no sock_diag here: %v", err)
	}
	defer d.Close()
	uid := uint32(os.Geteuid())

	for _, tc := range []struct{ listen, dial, network string }{
		{"127.0.0.1:0", "127.0.0.1", "tcp4"},
		{"[::1]:0", "::1", "tcp6"},
		{"[::]:0", "127.0.0.1", "tcp"}, // dual-stack listener, IPv4 client
	} {
		ln, err := net.Listen(tc.network, tc.listen)
		if err != nil {
			t.Skipf("%s: %v", tc.listen, err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		client, err := net.Dial("tcp", net.JoinHostPort(tc.dial, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []net.Conn{client, server} {
			s, err := d.Lookup(ProtoTCP, addrPort(c.LocalAddr()), addrPort(c.RemoteAddr()))
			if want := inodeOfConn(t, c.(syscall.Conn)); err != nil || s.Inode != want || s.UID != uid {
				t.Errorf("%s %v→%v: %+v err %v; want inode %d uid %d", tc.network, c.LocalAddr(), c.RemoteAddr(), s, err, want, uid)
			}
		}
		client.Close()
		server.Close()
		ln.Close()
	}

	udpServer, err := net.ListenPacket("udp", ":0") // dual-stack wildcard
	if err != nil {
		t.Fatal(err)
	}
	defer udpServer.Close()
	port := udpServer.LocalAddr().(*net.UDPAddr).Port
	udpClient, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer udpClient.Close()
	serverEnd := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	if s, err := d.Lookup(ProtoUDP, serverEnd, addrPort(udpClient.LocalAddr())); err != nil || s.Inode != inodeOfConn(t, udpServer.(syscall.Conn)) {
		t.Errorf("unconnected UDP server: %+v, %v; want inode %d", s, err, inodeOfConn(t, udpServer.(syscall.Conn)))
	}
	if s, err := d.Lookup(ProtoUDP, addrPort(udpClient.LocalAddr()), serverEnd); err != nil || s.Inode != inodeOfConn(t, udpClient.(syscall.Conn)) {
		t.Errorf("connected UDP client: %+v, %v; want inode %d", s, err, inodeOfConn(t, udpClient.(syscall.Conn)))
	}
	if s, err := d.Lookup(ProtoTCP, netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")); err != nil || s != (DiagSocket{}) {
		t.Errorf("no socket: %+v, %v", s, err)
	}
}

func BenchmarkSockDiagLookup(b *testing.B) {
	d, err := OpenSockDiag()
	if err != nil {
		b.Skip(err)
	}
	defer d.Close()
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	defer ln.Close()
	c, _ := net.Dial("tcp4", ln.Addr().String())
	defer c.Close()
	local, remote := addrPort(c.LocalAddr()), addrPort(c.RemoteAddr())
	b.ReportAllocs()
	for b.Loop() {
		if s, err := d.Lookup(ProtoTCP, local, remote); err != nil || s.Inode == 0 {
			b.Fatal(s, err)
		}
	}
}

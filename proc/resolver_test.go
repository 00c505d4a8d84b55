package proc

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"

	"hogs/internal/conntable"
)

// TestResolverOwnSockets resolves flows of sockets this test process owns:
// a connected TCP pair (both ends), an IPv6 TCP pair, an unconnected UDP
// server bound to a wildcard address and a connected UDP client.
func TestResolverOwnSockets(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	udpServer, err := net.ListenPacket("udp", ":0") // dual-stack wildcard
	if err != nil {
		t.Fatal(err)
	}
	defer udpServer.Close()
	udpPort := udpServer.LocalAddr().(*net.UDPAddr).Port
	udpClient, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(udpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer udpClient.Close()

	ap := func(a net.Addr) netip.AddrPort {
		switch a := a.(type) {
		case *net.TCPAddr:
			return a.AddrPort()
		case *net.UDPAddr:
			return a.AddrPort()
		}
		t.Fatalf("address %v", a)
		return netip.AddrPort{}
	}
	keys := []conntable.Key{
		{Proto: ProtoTCP, Local: ap(client.LocalAddr()), Remote: ap(client.RemoteAddr())},
		{Proto: ProtoTCP, Local: ap(server.LocalAddr()), Remote: ap(server.RemoteAddr())},
		// The UDP server as a flow sees it: local = 127.0.0.1:port (the
		// wildcard socket), remote = the client.
		{Proto: ProtoUDP, Local: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(udpPort)), Remote: ap(udpClient.LocalAddr())},
		{Proto: ProtoUDP, Local: ap(udpClient.LocalAddr()), Remote: ap(udpClient.RemoteAddr())},
		// Nobody's: a port nothing is bound to.
		{Proto: ProtoTCP, Local: netip.MustParseAddrPort("127.0.0.1:1"), Remote: netip.MustParseAddrPort("127.0.0.1:2")},
	}
	diag, err := OpenSockDiag()
	if err != nil {
		t.Fatal(err)
	}
	defer diag.Close()
	for _, cfg := range []ResolverConfig{{FS: NewFS("/proc")}, {FS: NewFS("/proc"), SockDiag: diag}} {
		resolveOwnSockets(t, cfg, keys)
	}
}

func resolveOwnSockets(t *testing.T, cfg ResolverConfig, keys []conntable.Key) {
	t.Helper()
	r := NewResolver(cfg)
	owners := make([]conntable.Owner, len(keys))
	if err := r.Resolve(keys, owners); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys[:4] {
		o, ok := r.Lookup(owners[i])
		if !ok || o.PID != os.Getpid() {
			t.Errorf("flow %v: owner %d (%+v, %v), want this process %d", k, owners[i], o, ok, os.Getpid())
		}
	}
	if owners[0] != owners[1] || owners[0] != owners[2] {
		t.Errorf("one process, several owner numbers: %v", owners)
	}
	if owners[4] != conntable.OwnerUnresolved {
		t.Errorf("a flow without a socket resolved to %d", owners[4])
	}
	if s := r.Stats(); s.FDScans != 1 || s.Processes != 1 {
		t.Errorf("stats %+v: want one fd scan and one process", s)
	}
	// Only other PIDs allowed (-P): nothing resolves.
	cfg.OnlyPIDs = []int{1}
	r = NewResolver(cfg)
	if err := r.Resolve(keys[:1], owners[:1]); err != nil || owners[0] != conntable.OwnerUnresolved {
		t.Errorf("with -P 1: owner %d, %v", owners[0], err)
	}
}

package proc

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"

	"hogs/internal/flow"
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
	keys := []flow.Key{
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

func resolveOwnSockets(t *testing.T, cfg ResolverConfig, keys []flow.Key) {
	t.Helper()
	r := NewResolver(cfg)
	owners := make([]flow.Owner, len(keys))
	if err := r.Resolve(keys, owners); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys[:4] {
		o, ok := r.Owners().Lookup(owners[i])
		if !ok || o.PID != os.Getpid() {
			t.Errorf("flow %v: owner %d (%+v, %v), want this process %d", k, owners[i], o, ok, os.Getpid())
		}
	}
	if owners[0] != owners[1] || owners[0] != owners[2] {
		t.Errorf("one process, several owner numbers: %v", owners)
	}
	if owners[4] != flow.Unresolved {
		t.Errorf("a flow without a socket resolved to %d", owners[4])
	}
	if s := r.Stats(); s.FDScans != 1 || r.Owners().Len() != 1 {
		t.Errorf("stats %+v: want one fd scan and one process", s)
	}
	// Only other PIDs allowed (-P): nothing resolves.
	cfg.OnlyPIDs = []int{1}
	r = NewResolver(cfg)
	if err := r.Resolve(keys[:1], owners[:1]); err != nil || owners[0] != flow.Unresolved {
		t.Errorf("with -P 1: owner %d, %v", owners[0], err)
	}
}

// writeProcess adds process pid (name, start time) holding the given
// descriptors (fd number → link target) to a fixture proc tree.
func writeProcess(t *testing.T, root string, pid int, name string, start int, fds map[int]string) {
	t.Helper()
	dir := root + "/" + strconv.Itoa(pid)
	if err := os.MkdirAll(dir+"/fd", 0o755); err != nil {
		t.Fatal(err)
	}
	stat := strconv.Itoa(pid) + " (" + name + ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " + strconv.Itoa(start) + " 0 0\n"
	status := "Name:\t" + name + "\nTgid:\t" + strconv.Itoa(pid) + "\nUid:\t0\t0\t0\t0\n"
	for file, text := range map[string]string{"stat": stat, "status": status, "cmdline": name + "\x00"} {
		if err := os.WriteFile(dir+"/"+file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for fd, target := range fds {
		if err := os.Symlink(target, dir+"/fd/"+strconv.Itoa(fd)); err != nil {
			t.Fatal(err)
		}
	}
}

// serverSockets writes a /proc/net fixture under root whose tcp table holds
// connections from 10.0.0.2 port 40000+i to 10.0.0.1:80, with inodes
// 9001+i, one for each i in conns.
func serverSockets(t *testing.T, root string, conns ...int) {
	t.Helper()
	if err := os.MkdirAll(root+"/net", 0o755); err != nil {
		t.Fatal(err)
	}
	tcp := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	for _, i := range conns {
		tcp += fmt.Sprintf("   %d: 0100000A:0050 0200000A:%04X 01 00000000:00000000 00:00000000 00000000     0        0 %d 1 0 20 4 30 10 -1\n", i, 40000+i, 9001+i)
	}
	for file, text := range map[string]string{"tcp": tcp, "tcp6": "", "udp": "", "udp6": ""} {
		if err := os.WriteFile(root+"/net/"+file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// serverKey is the flow of serverSockets's connection from port.
func serverKey(port uint16) flow.Key {
	return flow.Key{Proto: ProtoTCP, Local: netip.MustParseAddrPort("10.0.0.1:80"), Remote: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), port)}
}

// ownerName names the process behind an owner number, or "unresolved".
func ownerName(r *Resolver, o flow.Owner) string {
	if p, ok := r.Owners().Lookup(o); ok {
		return p.Name
	}
	return "unresolved"
}

// TestResolverHandedOnSocket: a forking server accepts a connection and
// passes it to a child. While both hold it, the child (newer) gets it; once
// the parent has closed its copy and the child is the only holder, a flow
// resolved later still goes to the child, although the parent's scan saw
// the socket first (nethogs: whichever was scanned last).
func TestResolverHandedOnSocket(t *testing.T) {
	root := t.TempDir()
	// 10.0.0.1:80 <- 10.0.0.2:40000, 40001, 40002: inodes 9001, 9002, 9003.
	serverSockets(t, root, 0, 1, 2)
	writeProcess(t, root, 500, "server", 100, map[int]string{3: "socket:[7000]", 4: "socket:[9001]", 5: "socket:[9002]"})
	r := NewResolver(ResolverConfig{FS: NewFS(root)})
	key := serverKey
	name := func(o flow.Owner) string { return ownerName(r, o) }
	owners := make([]flow.Owner, 1)
	// The first connection, while only the server holds both sockets.
	if err := r.Resolve([]flow.Key{key(40000)}, owners); err != nil {
		t.Fatal(err)
	}
	if got := name(owners[0]); got != "server" {
		t.Fatalf("before the hand-off: %s, want server", got)
	}
	// The server hands 9002 to a child and closes its copy.
	if err := os.Remove(root + "/500/fd/5"); err != nil {
		t.Fatal(err)
	}
	writeProcess(t, root, 600, "child", 200, map[int]string{3: "socket:[9002]"})
	if err := r.Resolve([]flow.Key{key(40001)}, owners); err != nil {
		t.Fatal(err)
	}
	if got := name(owners[0]); got != "child" {
		t.Errorf("after the hand-off: %s, want child (the index still named the server)", got)
	}
	// Two processes hold 9001; the walk for 9003 (the server's, the
	// oldest process) passes both: the newer one keeps 9001.
	writeProcess(t, root, 700, "grandchild", 300, map[int]string{7: "socket:[9001]"})
	if err := os.Remove(root + "/500/fd/4"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("socket:[9003]", root+"/500/fd/6"); err != nil {
		t.Fatal(err)
	}
	writeProcess(t, root, 501, "server-copy", 150, map[int]string{4: "socket:[9001]"})
	r2 := NewResolver(ResolverConfig{FS: NewFS(root)})
	owners = make([]flow.Owner, 2)
	if err := r2.Resolve([]flow.Key{key(40000), key(40002)}, owners); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"grandchild", "server"} {
		if p, _ := r2.Owners().Lookup(owners[i]); p.Name != want {
			t.Errorf("flow %d: %q, want %q", i, p.Name, want)
		}
	}
}

// TestResolverRecheck: a flow resolved while the forking server still held
// its socket alone goes to the child once the child has it and the server
// has closed its copy; a flow whose holder keeps it is not reported; a
// flow is followed for recheckPasses calls, not longer; a flow the table
// no longer has is dropped.
func TestResolverRecheck(t *testing.T) {
	root := t.TempDir()
	serverSockets(t, root, 0, 1, 2)
	writeProcess(t, root, 500, "server", 100, map[int]string{4: "socket:[9001]", 5: "socket:[9002]", 6: "socket:[9003]"})
	r := NewResolver(ResolverConfig{FS: NewFS(root)})
	key := serverKey
	name := func(o flow.Owner) string { return ownerName(r, o) }
	keys := []flow.Key{key(40000), key(40001), key(40002)}
	owners := make([]flow.Owner, len(keys))
	if err := r.Resolve(keys, owners); err != nil {
		t.Fatal(err)
	}
	for i, o := range owners {
		if name(o) != "server" {
			t.Fatalf("flow %d: %s before the hand-off, want server", i, name(o))
		}
	}
	type change struct {
		key  flow.Key
		name string
	}
	var changes []change
	gone := map[flow.Key]bool{key(40002): true}
	recheck := func() {
		t.Helper()
		changes = changes[:0]
		if err := r.Recheck(func(k flow.Key, o flow.Owner) bool {
			changes = append(changes, change{k, name(o)})
			return !gone[k]
		}); err != nil {
			t.Fatal(err)
		}
	}
	recheck()
	if len(changes) != 0 {
		t.Fatalf("nothing handed on yet, changes %v", changes)
	}
	// The server hands 9002 and 9003 to children, keeps 9001.
	if err := os.Remove(root + "/500/fd/5"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(root + "/500/fd/6"); err != nil {
		t.Fatal(err)
	}
	writeProcess(t, root, 600, "child", 200, map[int]string{3: "socket:[9002]"})
	writeProcess(t, root, 601, "child2", 201, map[int]string{3: "socket:[9003]"})
	recheck()
	want := []change{{key(40001), "child"}, {key(40002), "child2"}}
	if fmt.Sprint(changes) != fmt.Sprint(want) {
		t.Fatalf("after the hand-off: changes %v, want %v", changes, want)
	}
	// 40002's flow is gone from the table: no longer followed, although
	// its socket changes hands again.
	if err := os.Remove(root + "/601/fd/3"); err != nil {
		t.Fatal(err)
	}
	writeProcess(t, root, 602, "child3", 202, map[int]string{3: "socket:[9003]"})
	// This is the third and last pass for the flows resolved above.
	recheck()
	if len(changes) != 0 {
		t.Errorf("third pass: changes %v, want none", changes)
	}
	// Past recheckPasses a hand-off is no longer seen.
	if err := os.Remove(root + "/600/fd/3"); err != nil {
		t.Fatal(err)
	}
	writeProcess(t, root, 603, "child4", 203, map[int]string{3: "socket:[9002]"})
	recheck()
	if len(changes) != 0 {
		t.Errorf("after %d passes: changes %v, want none", recheckPasses, changes)
	}
}

// TestResolverRecheckClosed: a flow whose socket was closed (a short
// connection) is dropped after one lookup, without scanning the processes
// for it: with 20,000 idle sockets in the namespace such a scan costs
// milliseconds.
func TestResolverRecheckClosed(t *testing.T) {
	root := t.TempDir()
	serverSockets(t, root, 0)
	writeProcess(t, root, 500, "server", 100, map[int]string{4: "socket:[9001]"})
	r := NewResolver(ResolverConfig{FS: NewFS(root)})
	k := serverKey(40000)
	owners := make([]flow.Owner, 1)
	if err := r.Resolve([]flow.Key{k}, owners); err != nil || owners[0] == flow.Unresolved {
		t.Fatalf("Resolve: %v, owner %v", err, owners[0])
	}
	// The connection closes: gone from the table and from the server.
	serverSockets(t, root)
	if err := os.Remove(root + "/500/fd/4"); err != nil {
		t.Fatal(err)
	}
	scans := r.Stats().FDScans
	for range recheckPasses {
		if err := r.Recheck(func(k flow.Key, o flow.Owner) bool {
			t.Errorf("closed socket reported as changed: %v → %v", k, o)
			return true
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Stats().FDScans; got != scans {
		t.Errorf("%d fd scans for a closed socket, want none", got-scans)
	}
	if len(r.young) != 0 {
		t.Errorf("still following %d flows", len(r.young))
	}
}

// TestResolverScanPIDs: the descriptor walk visits only the processes
// ScanPIDs accepts; a socket held by one it refuses stays unresolved.
func TestResolverScanPIDs(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := flow.Key{Proto: ProtoTCP, Local: c.LocalAddr().(*net.TCPAddr).AddrPort(), Remote: c.RemoteAddr().(*net.TCPAddr).AddrPort()}
	self := os.Getpid()
	for _, tc := range []struct {
		name   string
		accept func(int) bool
		found  bool
	}{
		{"this process", func(pid int) bool { return pid == self }, true},
		{"any other", func(pid int) bool { return pid != self }, false},
	} {
		var visited []int
		r := NewResolver(ResolverConfig{FS: NewFS("/proc"), ScanPIDs: func(pid int) bool {
			visited = append(visited, pid)
			return tc.accept(pid)
		}})
		owners := make([]flow.Owner, 1)
		if err := r.Resolve([]flow.Key{key}, owners); err != nil {
			t.Fatal(err)
		}
		if got := owners[0] != flow.Unresolved; got != tc.found {
			t.Errorf("%s: resolved %v, want %v", tc.name, got, tc.found)
		}
		if len(visited) == 0 {
			t.Errorf("%s: ScanPIDs never asked", tc.name)
		}
	}
}

// TestResolverLabelsOwner: a process the resolver registers carries the
// PID its own namespace gives it (NSpid) and the label a labelled
// registry gives it, once.
func TestResolverLabelsOwner(t *testing.T) {
	root := t.TempDir()
	writeProcess(t, root, 500, "nginx", 100, map[int]string{4: "socket:[9001]"})
	f, err := os.OpenFile(root+"/500/status", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("NSpid:\t500\t7\n")
	f.Close()
	serverSockets(t, root, 0)
	web := flow.Label{Runtime: "docker", ID: "0123", Name: "web"}
	labelled := 0
	owners := flow.NewLabelledOwners(func(pid int) flow.Label {
		labelled++
		if pid == 500 {
			return web
		}
		return flow.Label{}
	})
	r := NewResolver(ResolverConfig{FS: NewFS(root), Owners: owners})
	got := make([]flow.Owner, 1)
	for range 2 {
		if err := r.Resolve([]flow.Key{serverKey(40000)}, got); err != nil {
			t.Fatal(err)
		}
	}
	p, ok := owners.Lookup(got[0])
	if !ok || p.PID != 500 || p.NSPID != 7 || p.Label != web {
		t.Fatalf("owner %+v, %v: want pid 500, NSPID 7, label %+v", p, ok, web)
	}
	if labelled != 1 {
		t.Errorf("labelled %d times, want once", labelled)
	}
}

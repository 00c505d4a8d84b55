package proc

import (
	"encoding/binary"
	"net/netip"
	"os"
	"syscall"
	"testing"

	"hogs/internal/flow"
)

// fakeKernel answers sock_diag lookups of IPv4 TCP sockets from a table,
// as inet_lookup does: the connection with these ends, else the listener
// on the local end, else ENOENT.
type fakeKernel struct {
	sockets map[[2]netip.AddrPort]DiagSocket // by (src, dst); dst 0.0.0.0:0 for a listener
}

func (k *fakeKernel) answer(req []byte) [][]byte {
	seq := reqSeq(req)
	if binary.NativeEndian.Uint16(req[6:])&nlmFDump != 0 {
		return [][]byte{nlmsg(nlmsgDone, nlmFMulti, seq, make([]byte, 4))}
	}
	id := req[nlmsgHeaderLen+8:]
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(id[4:8])), binary.BigEndian.Uint16(id[0:]))
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(id[20:24])), binary.BigEndian.Uint16(id[2:]))
	s, ok := k.sockets[[2]netip.AddrPort{src, dst}]
	if !ok {
		dst = netip.MustParseAddrPort("0.0.0.0:0")
		s, ok = k.sockets[[2]netip.AddrPort{src, dst}]
	}
	if !ok || req[nlmsgHeaderLen] != afInet {
		return [][]byte{nlmsg(nlmsgError, 0, seq, errorBody(syscall.ENOENT))}
	}
	return [][]byte{nlmsg(sockDiagByFamily, 0, seq, diagBody(s.State, src, dst, uint32(s.Inode), s.Cookie))}
}

// TestResolverLateAccept: a connection waiting in the listener's queue
// (no inode) goes provisionally to the process holding the listener; once
// a worker has accepted it, Recheck hands it to the worker. A connection
// closed unaccepted stays the listener's; a socket known closed is never
// searched for.
func TestResolverLateAccept(t *testing.T) {
	root := t.TempDir()
	writeProcess(t, root, 500, "server", 100, map[int]string{3: "socket:[7000]"})
	listener := [2]netip.AddrPort{flowLocal, netip.MustParseAddrPort("0.0.0.0:0")}
	conn := [2]netip.AddrPort{flowLocal, flowRemote}
	kernel := &fakeKernel{sockets: map[[2]netip.AddrPort]DiagSocket{
		listener: {Inode: 7000, State: TCPListen},
		conn:     {State: TCPEstablished, Cookie: 55},
	}}
	d := newSockDiag(&fakeNetlink{answer: kernel.answer})
	if err := d.probe(); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(ResolverConfig{FS: NewFS(root), SockDiag: d})
	key := flow.Key{Proto: ProtoTCP, Local: flowLocal, Remote: flowRemote}
	owners := make([]flow.Owner, 1)
	if err := r.Resolve([]flow.Key{key}, owners); err != nil {
		t.Fatal(err)
	}
	if got := ownerName(r, owners[0]); got != "server" || !r.Provisional(key) {
		t.Fatalf("before accept: %s, provisional %v; want server, provisional", got, r.Provisional(key))
	}
	var changes []string
	recheck := func() {
		t.Helper()
		if err := r.Recheck(func(k flow.Key, o flow.Owner) bool {
			changes = append(changes, ownerName(r, o))
			return true
		}); err != nil {
			t.Fatal(err)
		}
	}
	recheck() // still in the queue
	if len(changes) != 0 || !r.Provisional(key) {
		t.Fatalf("not accepted yet: changes %v, provisional %v", changes, r.Provisional(key))
	}
	// A worker accepts it.
	writeProcess(t, root, 600, "worker", 200, map[int]string{4: "socket:[9001]"})
	kernel.sockets[conn] = DiagSocket{Inode: 9001, State: TCPEstablished, Cookie: 55}
	recheck()
	if len(changes) != 1 || changes[0] != "worker" || r.Provisional(key) {
		t.Fatalf("after accept: changes %v, provisional %v; want [worker], not provisional", changes, r.Provisional(key))
	}

	// Closed unaccepted: the listener's for good, no fd scan.
	key2 := flow.Key{Proto: ProtoTCP, Local: flowLocal, Remote: netip.MustParseAddrPort("10.0.0.2:40001")}
	if err := r.Resolve([]flow.Key{key2}, owners); err != nil || ownerName(r, owners[0]) != "server" || r.Provisional(key2) {
		t.Fatalf("closed unaccepted: %s, %v, provisional %v; want server for good", ownerName(r, owners[0]), err, r.Provisional(key2))
	}

	// Known closed (a destroy event), although the lookup still sees it:
	// no fd scan, unresolved.
	conn3 := [2]netip.AddrPort{flowLocal, netip.MustParseAddrPort("10.0.0.2:40002")}
	kernel.sockets[conn3] = DiagSocket{Inode: 9003, State: TCPEstablished, Cookie: 99}
	r.SocketClosed(ProtoTCP, conn3[0], conn3[1], 99)
	scans := r.Stats().FDScans
	key3 := flow.Key{Proto: ProtoTCP, Local: conn3[0], Remote: conn3[1]}
	if err := r.Resolve([]flow.Key{key3}, owners); err != nil || owners[0] != flow.Unresolved {
		t.Fatalf("closed socket: owner %s, %v; want unresolved", ownerName(r, owners[0]), err)
	}
	// The accepted flow closes too: Recheck neither looks it up nor scans.
	os.Remove(root + "/600/fd/4")
	r.SocketClosed(ProtoTCP, flowLocal, flowRemote, 55)
	recheck()
	if got := r.Stats().FDScans; got != scans {
		t.Errorf("%d fd scans for closed sockets, want none", got-scans)
	}
	if len(changes) != 1 {
		t.Errorf("changes %v after the close, want the worker kept", changes)
	}
}

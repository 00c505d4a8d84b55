package proc

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
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
	var attrs []any
	if s.CgroupID != 0 {
		attrs = append(attrs, uint16(inetDiagCgroup), binary.NativeEndian.AppendUint64(nil, s.CgroupID))
	}
	return [][]byte{nlmsg(sockDiagByFamily, 0, seq, diagBody(s.State, src, dst, uint32(s.Inode), s.Cookie, attrs...))}
}

// TestResolverDeferCgroupOwners: behind kernel socket events
// (DeferCgroupOwners) a socket whose process is not found stays
// unresolved at its first lookup, and goes to its cgroup's row at the
// next: with the cgroup the first lookup told when the socket has gone
// since, with none when no lookup told one; a flow found for its
// process at the retry does not go to the cgroup.
func TestResolverDeferCgroupOwners(t *testing.T) {
	const svcCgroup = 77
	remote := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(flowRemote.Addr(), port) }
	tests := []struct {
		name       string
		socket     DiagSocket
		goneBefore bool   // the socket has closed by the second lookup
		heldLater  bool   // a readable process holds it by the second lookup
		want       string // after the second lookup; "" unresolved
	}{
		{name: "still open, no readable process", socket: DiagSocket{Inode: 9200, State: TCPEstablished, CgroupID: svcCgroup}, want: "ssh.service"},
		{name: "gone by the retry", socket: DiagSocket{Inode: 9201, State: TCPEstablished, CgroupID: svcCgroup}, goneBefore: true, want: "ssh.service"},
		{name: "no cgroup told", socket: DiagSocket{Inode: 9202, State: TCPEstablished}, goneBefore: true},
		{name: "found at the retry", socket: DiagSocket{Inode: 7002, State: TCPEstablished, CgroupID: svcCgroup}, heldLater: true, want: "server"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeProcess(t, root, 500, "server", 100, map[int]string{3: "socket:[7000]"})
			conn := [2]netip.AddrPort{flowLocal, remote(uint16(42000 + i))}
			kernel := &fakeKernel{sockets: map[[2]netip.AddrPort]DiagSocket{conn: tt.socket}}
			d := newSockDiag(&fakeNetlink{answer: kernel.answer})
			if err := d.probe(); err != nil {
				t.Fatal(err)
			}
			r := NewResolver(ResolverConfig{FS: NewFS(root), SockDiag: d,
				CgroupOwner: func(id uint64) (flow.Process, bool) {
					if id != svcCgroup {
						return flow.Process{}, false
					}
					return flow.Process{Name: "ssh.service", Cgroup: "/system.slice/ssh.service"}, true
				}})
			r.DeferCgroupOwners()
			key := flow.Key{Proto: ProtoTCP, Local: conn[0], Remote: conn[1]}
			owners := make([]flow.Owner, 1)
			if err := r.Resolve([]flow.Key{key}, owners); err != nil {
				t.Fatal(err)
			}
			if owners[0] != flow.Unresolved {
				t.Fatalf("first lookup: owner %q, want unresolved (the events may know it by the retry)", ownerName(r, owners[0]))
			}
			if tt.goneBefore {
				delete(kernel.sockets, conn)
			}
			if tt.heldLater {
				// The process has it by now (one not readable before).
				if err := os.Symlink("socket:[7002]", filepath.Join(root, "500", "fd", "4")); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Resolve([]flow.Key{key}, owners); err != nil {
				t.Fatal(err)
			}
			if got := ownerName(r, owners[0]); tt.want == "" && owners[0] != flow.Unresolved || tt.want != "" && got != tt.want {
				t.Errorf("second lookup: owner %q (%d), want %q", got, owners[0], tt.want)
			}
		})
	}
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

// TestResolverCgroupOwner: a socket no readable process holds goes to its
// cgroup's row when the cgroup is a service or container, stays unknown
// in any other cgroup, and a closed socket's cgroup names it without an
// fd scan. With OnlyPIDs (-P) nothing goes to a cgroup.
func TestResolverCgroupOwner(t *testing.T) {
	const (
		svcCgroup  = 77
		rootCgroup = 1
	)
	remote := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(flowRemote.Addr(), port) }
	tests := []struct {
		name   string
		socket DiagSocket
		closed bool // a destroy event named it
		only   []int
		want   string // owner's name, "" for unresolved
		scans  uint64
	}{
		{name: "a process has it", socket: DiagSocket{Inode: 7001, State: TCPEstablished, CgroupID: svcCgroup}, want: "server", scans: 1},
		{name: "no readable process, service cgroup", socket: DiagSocket{Inode: 9100, State: TCPEstablished, CgroupID: svcCgroup}, want: "ssh.service", scans: 1},
		{name: "no readable process, root cgroup", socket: DiagSocket{Inode: 9101, State: TCPEstablished, CgroupID: rootCgroup}, scans: 1},
		{name: "no cgroup told", socket: DiagSocket{Inode: 9102, State: TCPEstablished}, scans: 1},
		{name: "closed, service cgroup", socket: DiagSocket{Inode: 9103, State: TCPEstablished, Cookie: 5, CgroupID: svcCgroup}, closed: true, want: "ssh.service"},
		{name: "-P", socket: DiagSocket{Inode: 9104, State: TCPEstablished, CgroupID: svcCgroup}, only: []int{500}, scans: 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeProcess(t, root, 500, "server", 100, map[int]string{3: "socket:[7000]", 4: "socket:[7001]"})
			conn := [2]netip.AddrPort{flowLocal, remote(uint16(41000 + i))}
			kernel := &fakeKernel{sockets: map[[2]netip.AddrPort]DiagSocket{conn: tt.socket}}
			d := newSockDiag(&fakeNetlink{answer: kernel.answer})
			if err := d.probe(); err != nil {
				t.Fatal(err)
			}
			var asked []uint64
			r := NewResolver(ResolverConfig{FS: NewFS(root), SockDiag: d, OnlyPIDs: tt.only,
				CgroupOwner: func(id uint64) (flow.Process, bool) {
					asked = append(asked, id)
					if id != svcCgroup {
						return flow.Process{}, false
					}
					return flow.Process{Name: "ssh.service", Cgroup: "/system.slice/ssh.service"}, true
				}})
			if tt.closed {
				r.SocketClosed(ProtoTCP, conn[0], conn[1], tt.socket.Cookie)
			}
			key := flow.Key{Proto: ProtoTCP, Local: conn[0], Remote: conn[1]}
			owners := make([]flow.Owner, 2)
			// Twice: the second lookup finds the cgroup's row registered.
			if err := r.Resolve([]flow.Key{key, key}, owners); err != nil {
				t.Fatal(err)
			}
			if owners[0] != owners[1] {
				t.Errorf("same flow, owners %d and %d", owners[0], owners[1])
			}
			if got := ownerName(r, owners[0]); tt.want == "" && owners[0] != flow.Unresolved || tt.want != "" && got != tt.want {
				t.Fatalf("owner %q (%d), want %q (cgroups asked: %v)", got, owners[0], tt.want, asked)
			}
			p, _ := r.Owners().Lookup(owners[0])
			if isCgroup := tt.want == "ssh.service"; p.IsCgroup() != isCgroup || isCgroup && (p.CgroupID != svcCgroup || p.PID != 0) {
				t.Errorf("owner %+v: want a cgroup row %v, cgroup id %d", p, isCgroup, svcCgroup)
			}
			if got := r.Stats().FDScans; got != tt.scans {
				t.Errorf("%d fd scans, want %d", got, tt.scans)
			}
			if p.IsCgroup() && r.Alive(p) {
				t.Error("a cgroup's row reported alive as a process")
			}
		})
	}
}

package proc

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"testing"

	"hogs/internal/flow"
)

// socketFDs returns n descriptors from fd first on, sockets from inode on.
func socketFDs(first, n int, inode uint64) map[int]string {
	fds := map[int]string{}
	for i := range n {
		fds[first+i] = fmt.Sprintf("socket:[%d]", inode+uint64(i))
	}
	return fds
}

// setFD points descriptor fd of process pid at target, replacing it.
func setFD(t *testing.T, root string, pid, fd int, target string) {
	t.Helper()
	path := root + "/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd)
	os.Remove(path)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// writeLoadavg writes ROOT/loadavg with last as the last PID handed out.
func writeLoadavg(t *testing.T, root string, last int) {
	t.Helper()
	if err := os.WriteFile(root+"/loadavg", fmt.Appendf(nil, "0.00 0.01 0.05 1/123 %d\n", last), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestProcIndexWalkReadsOnlyNewDescriptors: a process holding many
// sockets has its links read once; a later walk reads only descriptors
// it did not have, and those whose socket was forgotten (closed); a
// descriptor number reused for another socket behind the cache's back is
// not read (the Resolver's second pass covers that); a small process is
// read whole every time; a walk without trust reads everything.
func TestProcIndexWalkReadsOnlyNewDescriptors(t *testing.T) {
	root := t.TempDir()
	const big, n = 500, 300
	writeProcess(t, root, big, "holder", 100, socketFDs(10, n, 100000))
	writeProcess(t, root, 600, "client", 200, map[int]string{3: "socket:[1]", 4: "/dev/null"})
	ix := newProcIndex(NewFS(root))
	walk := func(pid int, start uint64, trust bool) (links int, seen map[int]uint64) {
		t.Helper()
		seen = map[int]uint64{}
		links, err := ix.walk(pid, start, trust, func(fd int, inode uint64, cached bool) { seen[fd] = inode })
		if err != nil {
			t.Fatal(err)
		}
		return links, seen
	}
	if links, seen := walk(big, 100, true); links != n || len(seen) != n || seen[10] != 100000 {
		t.Fatalf("first walk: %d links, %d descriptors, fd 10 = %d; want %d, %d, 100000", links, len(seen), seen[10], n, n)
	}
	if links, _ := walk(big, 100, true); links != 0 {
		t.Errorf("unchanged process: %d links read, want 0", links)
	}
	// Two new sockets, one descriptor closed.
	setFD(t, root, big, 5000, "socket:[7]")
	setFD(t, root, big, 5001, "socket:[8]")
	os.Remove(root + "/500/fd/11")
	links, seen := walk(big, 100, true)
	if links != 2 || seen[5000] != 7 || seen[5001] != 8 || len(seen) != n+1 {
		t.Errorf("two new: %d links, fd 5000 = %d, 5001 = %d, %d descriptors; want 2, 7, 8, %d", links, seen[5000], seen[5001], len(seen), n+1)
	}
	if _, ok := seen[11]; ok {
		t.Error("closed descriptor 11 still reported")
	}
	// Descriptor 12 reused for a new socket: trusted, the cache's answer.
	setFD(t, root, big, 12, "socket:[9]")
	if links, seen := walk(big, 100, true); links != 0 || seen[12] != 100002 {
		t.Errorf("reused unnoticed: %d links, fd 12 = %d; want 0 and the cached 100002", links, seen[12])
	}
	// Its socket reported closed: read again.
	ix.forget(big, 12)
	if links, seen := walk(big, 100, true); links != 1 || seen[12] != 9 {
		t.Errorf("after forget: %d links, fd 12 = %d; want 1, 9", links, seen[12])
	}
	// Without trust: every link.
	setFD(t, root, big, 13, "socket:[10]")
	if links, seen := walk(big, 100, false); links != n+1 || seen[13] != 10 {
		t.Errorf("full walk: %d links, fd 13 = %d; want %d, 10", links, seen[13], n+1)
	}
	// A small process is read whole, so a reused descriptor is seen.
	walk(600, 200, true)
	setFD(t, root, 600, 3, "socket:[2]")
	if links, seen := walk(600, 200, true); links != 2 || seen[3] != 2 || seen[4] != 0 {
		t.Errorf("small process: %d links, fd 3 = %d, fd 4 = %d; want 2, 2, 0", links, seen[3], seen[4])
	}
	// The PID reused by another process: its cache starts over.
	if links, _ := walk(big, 101, true); links != n+1 {
		t.Errorf("reused PID: %d links, want %d", links, n+1)
	}
}

// TestProcIndexBounded: past the caps, descriptors are not cached (and
// are read at every walk), and a process that vanishes releases its
// entries.
func TestProcIndexBounded(t *testing.T) {
	root := t.TempDir()
	writeProcess(t, root, 500, "a", 100, socketFDs(10, 150, 1000))
	writeProcess(t, root, 501, "b", 101, socketFDs(10, 150, 5000))
	ix := newProcIndex(NewFS(root))
	ix.maxProc, ix.maxTotal = 140, 200
	nop := func(int, uint64, bool) {}
	for _, pid := range []int{500, 501} {
		if _, err := ix.walk(pid, uint64(pid-400), true, nop); err != nil {
			t.Fatal(err)
		}
	}
	if len(ix.procs[500].fds) != 140 || ix.cached != 200 || len(ix.procs[501].fds) != 60 {
		t.Fatalf("cached %d + %d = %d, want 140 + 60 = 200", len(ix.procs[500].fds), len(ix.procs[501].fds), ix.cached)
	}
	// The uncached rest is read at every walk.
	if links, _ := ix.walk(500, 100, true, nop); links != 10 {
		t.Errorf("rewalk: %d links, want the 10 uncached", links)
	}
	if err := os.RemoveAll(root + "/500"); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.walk(500, 100, true, nop); err == nil {
		t.Fatal("walk of a vanished process: no error")
	}
	if ix.cached != 60 || ix.procs[500] != nil {
		t.Errorf("after the process vanished: %d cached, entry %v; want 60, none", ix.cached, ix.procs[500])
	}
}

// TestProcIndexRefresh: /proc is listed again only when the last PID
// handed out moved, only new processes have their stat read, vanished
// ones are dropped, and the order is newest first with processes in
// hogs's network namespace before the others.
func TestProcIndexRefresh(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(root+"/self/ns", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("net:[4026531833]", root+"/self/ns/net"); err != nil {
		t.Fatal(err)
	}
	netns := func(pid int, target string) {
		t.Helper()
		if err := os.MkdirAll(root+"/"+strconv.Itoa(pid)+"/ns", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, root+"/"+strconv.Itoa(pid)+"/ns/net"); err != nil {
			t.Fatal(err)
		}
	}
	writeProcess(t, root, 10, "old", 100, nil)
	netns(10, "net:[4026531833]")
	writeProcess(t, root, 20, "elsewhere", 300, nil)
	netns(20, "net:[4026532000]")
	writeProcess(t, root, 30, "newer", 200, nil)
	netns(30, "net:[4026531833]")
	writeLoadavg(t, root, 30)
	ix := newProcIndex(NewFS(root))
	refresh := func() bool {
		t.Helper()
		listed, err := ix.refresh()
		if err != nil {
			t.Fatal(err)
		}
		return listed
	}
	if !refresh() {
		t.Fatal("first refresh did not list")
	}
	if fmt.Sprint(ix.order) != "[30 10 20]" {
		t.Errorf("order %v, want [30 10 20]: newest first, another namespace's last", ix.order)
	}
	if refresh() {
		t.Error("listed again with no PID handed out")
	}
	// A new process (and the stat of an indexed one made unreadable: not
	// read again).
	writeProcess(t, root, 40, "newest", 400, nil)
	if err := os.Chmod(root+"/10/stat", 0); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(root + "/30")
	writeLoadavg(t, root, 41)
	if !refresh() {
		t.Fatal("new PID handed out, not listed")
	}
	if fmt.Sprint(ix.order) != "[40 10 20]" {
		t.Errorf("order %v, want [40 10 20]", ix.order)
	}
	if refresh() {
		t.Error("listed again after dropping the vanished process")
	}
	// No loadavg: listed every time.
	os.Remove(root + "/loadavg")
	if !refresh() || !refresh() {
		t.Error("without loadavg: not listed every time")
	}
}

// TestResolverScanStopsForClosedSocket: with hundreds of sockets in one
// process, a second connection's socket is found without reading the
// holder's links again; one that closes while the scan runs stops it
// before the holder (counted as in vain); one known closed is not scanned
// for; a new socket under a reused descriptor number of the holder is
// found by the second pass.
func TestResolverScanStopsForClosedSocket(t *testing.T) {
	root := t.TempDir()
	local := netip.MustParseAddrPort("10.0.0.1:80")
	remote := func(port uint16) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), port)
	}
	const idle = 300
	writeProcess(t, root, 100, "holder", 10, socketFDs(10, idle, 500000))
	writeProcess(t, root, 200, "client", 20, map[int]string{3: "socket:[9001]"})
	kernel := &fakeKernel{sockets: map[[2]netip.AddrPort]DiagSocket{
		{local, remote(1)}: {Inode: 9001, State: TCPEstablished, Cookie: 1},
		{local, remote(2)}: {Inode: 9002, State: TCPEstablished, Cookie: 2},
		{local, remote(3)}: {Inode: 9003, State: TCPEstablished, Cookie: 3},
		{local, remote(4)}: {Inode: 9004, State: TCPEstablished, Cookie: 4},
	}}
	// closeOn drops socket port after the kernel has answered lookups
	// lookups more times.
	var closeAfter, closePort int
	answers := 0
	nl := &fakeNetlink{answer: func(req []byte) [][]byte {
		answers++
		if closeAfter > 0 && answers > closeAfter {
			delete(kernel.sockets, [2]netip.AddrPort{local, remote(uint16(closePort))})
		}
		return kernel.answer(req)
	}}
	d := newSockDiag(nl)
	if err := d.probe(); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(ResolverConfig{FS: NewFS(root), SockDiag: d})
	resolve := func(port uint16) string {
		t.Helper()
		owners := make([]flow.Owner, 1)
		if err := r.Resolve([]flow.Key{{Proto: ProtoTCP, Local: local, Remote: remote(port)}}, owners); err != nil {
			t.Fatal(err)
		}
		return ownerName(r, owners[0])
	}
	// A socket of the holder's, found by reading all its links once.
	setFD(t, root, 100, 30000, "socket:[9002]")
	if got := resolve(2); got != "holder" {
		t.Fatalf("holder's socket: %s", got)
	}
	links := r.Stats().FDLinks
	if links < idle {
		t.Fatalf("first scan read %d links, want the holder's %d at least", links, idle)
	}
	// The client's second connection: found in the client (read whole),
	// the holder's links not read again.
	answers = 0
	setFD(t, root, 200, 4, "socket:[9003]")
	if got := resolve(3); got != "client" {
		t.Fatalf("client's socket: %s", got)
	}
	if n := r.Stats().FDLinks - links; n > 10 {
		t.Errorf("%d links read for the client's socket, want the client's few", n)
	}
	// A socket that closes once looked up (the client has it no more):
	// the scan stops before the holder, counted in vain.
	links, vain := r.Stats().FDLinks, r.Stats().ScansInVain
	answers, closeAfter, closePort = 0, 1, 4
	if got := resolve(4); got != "unresolved" {
		t.Errorf("closed socket: %s", got)
	}
	if n := r.Stats().FDLinks - links; n > 10 {
		t.Errorf("%d links read for a socket closed meanwhile, want the client's few", n)
	}
	if r.Stats().ScansInVain != vain+1 {
		t.Errorf("scans in vain %d, want %d", r.Stats().ScansInVain, vain+1)
	}
	closeAfter = 0
	// Known closed (a destroy event): no scan at all.
	kernel.sockets[[2]netip.AddrPort{local, remote(5)}] = DiagSocket{Inode: 9005, State: TCPEstablished, Cookie: 5}
	r.SocketClosed(ProtoTCP, local, remote(5), 5)
	scans := r.Stats().FDScans
	if got := resolve(5); got != "unresolved" || r.Stats().FDScans != scans {
		t.Errorf("known closed: %s, %d scans; want unresolved, none", got, r.Stats().FDScans-scans)
	}
	// The holder reuses descriptor 20 for a new socket: the cache still
	// says 500010 there, so the first pass misses it; the socket still
	// exists, so the second pass reads every link and finds it.
	setFD(t, root, 100, 20, "socket:[9006]")
	kernel.sockets[[2]netip.AddrPort{local, remote(6)}] = DiagSocket{Inode: 9006, State: TCPEstablished, Cookie: 6}
	if got := resolve(6); got != "holder" {
		t.Errorf("socket under a reused descriptor: %s, want holder", got)
	}
	// The holder's socket 9002 closes (a destroy event names its cookie)
	// and its descriptor is reused: read again in the first pass.
	r.SocketClosed(ProtoTCP, local, remote(2), 2)
	delete(kernel.sockets, [2]netip.AddrPort{local, remote(2)})
	setFD(t, root, 100, 30000, "socket:[9007]")
	kernel.sockets[[2]netip.AddrPort{local, remote(7)}] = DiagSocket{Inode: 9007, State: TCPEstablished, Cookie: 7}
	links = r.Stats().FDLinks
	if got := resolve(7); got != "holder" {
		t.Errorf("socket under a closed socket's descriptor: %s, want holder", got)
	}
	if n := r.Stats().FDLinks - links; n > 10 {
		t.Errorf("%d links read, want the client's and the one descriptor", n)
	}
}

// TestResolverProbesNewTasks: once /proc was listed, a socket of a
// process created since is found by looking at the tasks created since
// (/proc/loadavg's last PID), newest first, without listing /proc again:
// a thread's descriptors are its process's, and the owner is the process
// (Tgid), not the thread. A recent owner that exited is forgotten.
func TestResolverProbesNewTasks(t *testing.T) {
	root := t.TempDir()
	serverSockets(t, root, 0, 1, 2)
	writeProcess(t, root, 500, "server", 100, map[int]string{3: "socket:[9001]"})
	writeLoadavg(t, root, 500)
	r := NewResolver(ResolverConfig{FS: NewFS(root)})
	resolve := func(port uint16) string {
		t.Helper()
		owners := make([]flow.Owner, 1)
		if err := r.Resolve([]flow.Key{serverKey(port)}, owners); err != nil {
			t.Fatal(err)
		}
		if p, ok := r.Owners().Lookup(owners[0]); ok {
			return fmt.Sprintf("%s %d", p.Name, p.PID)
		}
		return "unresolved"
	}
	if got := resolve(40000); got != "server 500" {
		t.Fatalf("first: %s", got)
	}
	// A worker (PID 530) with a thread (531), hidden from the listing as
	// threads are: only ROOT/531 answers.
	writeProcess(t, root, 530, "worker", 200, map[int]string{4: "socket:[9002]"})
	writeProcess(t, root, 531, "worker-thread", 201, map[int]string{4: "socket:[9002]"})
	if err := os.WriteFile(root+"/531/status", []byte("Name:\tworker-thread\nTgid:\t530\nUid:\t0\t0\t0\t0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeLoadavg(t, root, 531)
	listings := r.Stats().ProcListings
	if got := resolve(40001); got != "worker 530" {
		t.Errorf("new process's socket: %s, want worker 530", got)
	}
	if n := r.Stats().ProcListings - listings; n != 0 {
		t.Errorf("/proc listed %d times, want none", n)
	}
	// The worker exits: forgotten as a recent owner; the server's next
	// socket is found.
	os.RemoveAll(root + "/530")
	os.RemoveAll(root + "/531")
	setFD(t, root, 500, 5, "socket:[9003]")
	if got := resolve(40002); got != "server 500" {
		t.Errorf("after the worker exited: %s", got)
	}
	for _, id := range r.recent {
		if id.id.pid == 530 {
			t.Errorf("exited worker still a recent owner: %v", r.recent)
		}
	}
}

// TestResolverHotDescriptor: a client that closes a connection and opens
// the next gets the same descriptor number back; its next socket is found
// with one readlink there, no walk. Should the number hold something else,
// the walk follows.
func TestResolverHotDescriptor(t *testing.T) {
	root := t.TempDir()
	serverSockets(t, root, 0, 1, 2)
	writeProcess(t, root, 500, "client", 100, map[int]string{0: "/dev/null", 1: "/dev/null", 2: "/dev/null", 3: "anon_inode:[eventpoll]", 7: "socket:[9001]"})
	r := NewResolver(ResolverConfig{FS: NewFS(root)})
	resolve := func(port uint16) string {
		t.Helper()
		owners := make([]flow.Owner, 1)
		if err := r.Resolve([]flow.Key{serverKey(port)}, owners); err != nil {
			t.Fatal(err)
		}
		return ownerName(r, owners[0])
	}
	if got := resolve(40000); got != "client" {
		t.Fatalf("first: %s", got)
	}
	setFD(t, root, 500, 7, "socket:[9002]")
	links := r.Stats().FDLinks
	if got := resolve(40001); got != "client" {
		t.Fatalf("same descriptor: %s", got)
	}
	if n := r.Stats().FDLinks - links; n != 1 {
		t.Errorf("%d links read, want 1", n)
	}
	// The next socket at another descriptor: found by the walk.
	os.Remove(root + "/500/fd/7")
	setFD(t, root, 500, 8, "socket:[9003]")
	links = r.Stats().FDLinks
	if got := resolve(40002); got != "client" {
		t.Fatalf("other descriptor: %s", got)
	}
	if n := r.Stats().FDLinks - links; n < 5 {
		t.Errorf("%d links read, want the hot descriptor's and the walk's", n)
	}
}

// TestWalkFDsUpTo: a process with more descriptors than the limit is not
// walked (no link read); one within it is, whole.
func TestWalkFDsUpTo(t *testing.T) {
	root := t.TempDir()
	writeProcess(t, root, 500, "big", 100, socketFDs(10, 200, 1000))
	writeProcess(t, root, 600, "small", 100, socketFDs(3, 5, 2000))
	fsys := NewFS(root)
	n := 0
	links, err := fsys.walkFDsUpTo(500, bigProcess, nil, func(int, uint64, bool) { n++ })
	if !errors.Is(err, errTooManyFDs) || links != 0 || n != 0 {
		t.Errorf("big: %v, %d links, %d descriptors; want errTooManyFDs and nothing read", err, links, n)
	}
	links, err = fsys.walkFDsUpTo(600, bigProcess, nil, func(int, uint64, bool) { n++ })
	if err != nil || links != 5 || n != 5 {
		t.Errorf("small: %v, %d links, %d descriptors; want 5, 5", err, links, n)
	}
}

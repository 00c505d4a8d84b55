package netns

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hogs/internal/netlab"
)

func inodeOf(t *testing.T, path string) uint32 {
	t.Helper()
	inode, err := InodeOf(path)
	if err != nil {
		t.Fatal(err)
	}
	return inode
}

func find(list []Namespace, inode uint32) (Namespace, bool) {
	i := slices.IndexFunc(list, func(n Namespace) bool { return n.Inode == inode })
	if i < 0 {
		return Namespace{}, false
	}
	return list[i], true
}

// In a namespace standing in for the host, a veth whose peer is in a
// "container" namespace: the scan finds both, Peers maps the host side to
// the container's namespace and the peer's ifindex, and code run with Do
// and sockets made with SocketIn are in the container's namespace.
func TestLiveVethPeer(t *testing.T) {
	host, ctr := netlab.New(t), netlab.New(t)
	hostVeth := fmt.Sprintf("hv%08x", rand.Uint32())
	netlab.IP(t, host, "link", "add", hostVeth, "type", "veth", "peer", "name", "ceth0", "netns", ctr)
	hostIno, ctrIno := inodeOf(t, "/run/netns/"+host), inodeOf(t, "/run/netns/"+ctr)

	var (
		s   *Scanner
		rt  *RTNL
		err error
	)
	netlab.Run(t, host, func() {
		if s, err = NewScanner(Config{}); err != nil {
			t.Fatal(err)
		}
		if rt, err = OpenRTNL(); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { rt.Close(); s.Close() })
	if s.Self() != hostIno {
		t.Fatalf("Self = %d, want the host namespace %d", s.Self(), hostIno)
	}
	list, err := s.Scan(nil)
	if err != nil {
		t.Fatal(err)
	}
	if ns, ok := find(list, ctrIno); !ok || ns.Mount != "/run/netns/"+ctr || ns.Name() != ctr || ns.Self {
		t.Errorf("container namespace in the scan: %+v, %v", ns, ok)
	}
	if ns, ok := find(list, hostIno); !ok || !ns.Self {
		t.Errorf("host namespace in the scan: %+v, %v", ns, ok)
	}

	links, err := rt.Links()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(links, func(l Link) bool { return l.Name == hostVeth })
	if i < 0 {
		t.Fatalf("%s not among the host's links %+v", hostVeth, links)
	}
	hv := links[i]
	if hv.Kind != "veth" || hv.PeerNSID < 0 {
		t.Errorf("host veth %+v: want kind veth and a peer namespace id", hv)
	}

	ctrFD, err := s.Open(ctrIno)
	if err != nil {
		t.Fatal(err)
	}
	var inside uint32
	if err := Do(ctrFD, func() error {
		var err error
		inside, err = readNSLink("/proc/thread-self/ns/net")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if inside != ctrIno {
		t.Errorf("Do ran in namespace %d, want %d", inside, ctrIno)
	}
	crt, err := OpenRTNLIn(ctrFD)
	if err != nil {
		t.Fatal(err)
	}
	defer crt.Close()
	clinks, err := crt.Links()
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(clinks, func(l Link) bool { return l.Name == "ceth0" })
	if j < 0 {
		t.Fatalf("ceth0 not among the container's links %+v (socket not in the container's namespace?)", clinks)
	}
	if clinks[j].PeerIndex != hv.Index {
		t.Errorf("ceth0's peer index %d, want the host veth's %d", clinks[j].PeerIndex, hv.Index)
	}

	peers, err := s.Peers(rt)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Peer{NetNS: ctrIno, Index: clinks[j].Index}); peers[hv.Index] != want {
		t.Errorf("Peers[%s] = %+v, want %+v (all: %v)", hostVeth, peers[hv.Index], want, peers)
	}
	if _, ok := peers[1]; ok {
		t.Error("loopback has a peer")
	}
}

// Namespaces that come and go: one held by a process only (unshare -n),
// one bind-mounted; each is found while it exists and its handle closed
// once it is gone.
func TestLiveNamespacesComeAndGo(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs util-linux's unshare: ", err)
	}
	s, err := NewScanner(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	child := exec.Command("unshare", "--net", "sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	// unshare execs sleep once it has its namespace: wait for the link to
	// change from ours.
	path := fmt.Sprintf("/proc/%d/ns/net", child.Process.Pid)
	var childIno uint32
	for deadline := time.Now().Add(5 * time.Second); ; {
		if childIno = inodeOf(t, path); childIno != s.Self() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare --net did not enter a new namespace within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	lab := netlab.NewLab()
	t.Cleanup(func() { lab.Cleanup() })
	name := netlab.RandomName("hogs-test")
	if err := lab.AddNetns(name); err != nil {
		t.Fatal(err)
	}
	mounted := inodeOf(t, "/run/netns/"+name)

	// The child may have been read before it unshared: a full pass reads
	// every process again.
	s.fullEvery = time.Nanosecond
	list, err := s.Scan(nil)
	if err != nil {
		t.Fatal(err)
	}
	if ns, ok := find(list, childIno); !ok || ns.PID != child.Process.Pid || ns.Mount != "" {
		t.Errorf("process-held namespace: %+v, %v; want PID %d, no mount", ns, ok, child.Process.Pid)
	}
	if ns, ok := find(list, mounted); !ok || ns.Mount != "/run/netns/"+name {
		t.Errorf("bind-mounted namespace: %+v, %v", ns, ok)
	}
	for _, ino := range []uint32{childIno, mounted} {
		fd, err := s.Open(ino)
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || uint32(st.Ino) != ino {
			t.Errorf("handle of %d is inode %d (%v)", ino, st.Ino, err)
		}
	}

	child.Process.Kill()
	child.Wait()
	if err := lab.DelNetns(name); err != nil {
		t.Fatal(err)
	}
	if list, err = s.Scan(list); err != nil {
		t.Fatal(err)
	}
	for _, ino := range []uint32{childIno, mounted} {
		if ns, ok := find(list, ino); ok {
			t.Errorf("namespace %+v still found after it went", ns)
		}
		if _, open := s.handles[ino]; open {
			t.Errorf("handle on namespace %d still open", ino)
		}
	}
}

// TestLiveAddrs: an RTNL opened inside a namespace lists that namespace's
// addresses, and one watching them tells when one is added.
func TestLiveAddrs(t *testing.T) {
	ctr := netlab.New(t)
	netlab.IP(t, ctr, "link", "add", "dummy0", "type", "veth", "peer", "name", "dummy1")
	netlab.IP(t, ctr, "link", "set", "dummy0", "up")
	netlab.IP(t, ctr, "addr", "add", "10.77.3.4/24", "dev", "dummy0")
	fd, err := unix.Open("/run/netns/"+ctr, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	rt, err := OpenRTNLIn(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.WatchAddrs(); err != nil {
		t.Fatal(err)
	}
	addrs, err := rt.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(addrs, func(a Addr) bool { return a.Prefix == netip.MustParsePrefix("10.77.3.4/24") && a.Index > 1 }) {
		t.Errorf("addresses %v lack 10.77.3.4/24", addrs)
	}
	rt.AddrsChanged() // whatever came before
	if rt.AddrsChanged() {
		t.Error("a change reported with none made")
	}
	netlab.IP(t, ctr, "addr", "add", "10.77.4.5/24", "dev", "dummy0")
	deadline := time.Now().Add(2 * time.Second)
	for !rt.AddrsChanged() {
		if time.Now().After(deadline) {
			t.Fatal("an address added: no change reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

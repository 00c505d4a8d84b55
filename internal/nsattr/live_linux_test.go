//go:build linux

package nsattr

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/internal/netlab"
	"hogs/internal/netns"
	"hogs/proc"
)

// connectedPair makes, inside namespace ns, a TCP connection from
// 127.0.0.1:client to a listener on 127.0.0.1:server; the sockets stay in
// ns whichever goroutine uses them.
func connectedPair(t *testing.T, ns string, client, server uint16) (c, s *net.TCPConn) {
	t.Helper()
	netlab.IP(t, ns, "link", "set", "lo", "up")
	netlab.Run(t, ns, func() {
		ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(server)})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(client)}}
		conn, err := d.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c = conn.(*net.TCPConn)
		if s, err = ln.AcceptTCP(); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func pidOf(t *testing.T, owners *flow.Owners, o flow.Owner) int {
	t.Helper()
	if o == flow.Unresolved {
		return 0
	}
	p, ok := owners.Lookup(o)
	if !ok {
		t.Fatalf("owner %d not in the registry", o)
	}
	return p.PID
}

// Two namespaces hold connections with identical ends; in one the client
// socket belongs to another process. Each flow, keyed by its namespace,
// resolves to the process that holds its socket there, through sock_diag
// opened inside that namespace; the same ends in the monitor's own
// namespace resolve to nobody.
func TestLiveIdenticalAddressesKeptApart(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	n1, n2 := netlab.New(t), netlab.New(t)
	client, server := uint16(20000+rand.IntN(20000)), uint16(40000+rand.IntN(20000))
	c1, s1 := connectedPair(t, n1, client, server)
	c2, _ := connectedPair(t, n2, client, server)

	// The sockets go to processes inside the namespaces (a namespace's
	// resolver walks the descriptors of its own processes): both of
	// n1's to one, n2's client to another; n2's server stays with this
	// process, in the monitor's namespace, where n2's resolver does not
	// look.
	hold := func(ns string, conns ...*net.TCPConn) *exec.Cmd {
		child := exec.Command("ip", "netns", "exec", ns, "sleep", "60")
		for _, c := range conns {
			f, err := c.File()
			if err != nil {
				t.Fatal(err)
			}
			child.ExtraFiles = append(child.ExtraFiles, f)
			defer f.Close()
			defer c.Close()
		}
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { child.Process.Kill(); child.Wait() })
		// In its namespace once ip has exec'd sleep (a process's
		// namespace is read once when the scanner first sees it).
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child.Process.Pid)); string(comm) == "sleep\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("ip netns exec did not exec sleep within 5 s")
			}
		}
		return child
	}
	h1, h2 := hold(n1, c1, s1), hold(n2, c2)

	ns1, ns2 := mustStat(t, "/run/netns/"+n1), mustStat(t, "/run/netns/"+n2)

	owners := flow.NewOwners()
	fsys := proc.NewFS("")
	diag, err := proc.OpenSockDiag()
	if err != nil {
		t.Fatal(err)
	}
	own := monitor.Proc{Resolver: proc.NewResolver(proc.ResolverConfig{FS: fsys, Owners: owners, SockDiag: diag})}
	sc, err := netns.NewScanner(netns.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Scanner: sc, Own: own, New: ProcFactory(fsys, owners, nil, nil)})
	t.Cleanup(func() { a.Close(); sc.Close(); diag.Close() })

	lo := netip.MustParseAddr("127.0.0.1")
	k := func(ns uint32, local, remote uint16) flow.Key {
		return flow.Key{Proto: flow.TCP, NetNS: ns, Local: netip.AddrPortFrom(lo, local), Remote: netip.AddrPortFrom(lo, remote)}
	}
	keys := []flow.Key{k(ns1, client, server), k(ns2, client, server), k(ns1, server, client), k(ns2, server, client), k(0, client, server)}
	want := []int{h1.Process.Pid, h2.Process.Pid, h1.Process.Pid, 0, 0}
	got := make([]flow.Owner, len(keys))
	if err := a.Resolve(keys, got); err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if pid := pidOf(t, owners, got[i]); pid != want[i] {
			t.Errorf("%v in namespace %d: pid %d, want %d", keys[i], keys[i].NetNS, pid, want[i])
		}
	}
	// Every namespace on the machine has its resolver (other tests' too).
	if st := a.Stats(); a.Namespaces() < 2 || st.Lookups < 5 {
		t.Errorf("Stats = %+v, want namespace resolvers and five lookups", st)
	}

	// With a cgroup fallback, n2's server socket, whose process (this
	// one) n2's resolver does not visit, goes to the row of the cgroup
	// sock_diag names for it: this process's, whatever namespace the
	// socket is in.
	var asked []uint64
	cgroupRow := func(id uint64) (flow.Process, bool) {
		asked = append(asked, id)
		return flow.Process{Name: "test.service", Cgroup: "/test.service", CgroupID: id}, id != 0
	}
	withCgroups := New(Config{Scanner: sc, Own: own, New: ProcFactory(fsys, owners, cgroupRow, nil)})
	t.Cleanup(func() { withCgroups.Close() })
	got = got[:2]
	if err := withCgroups.Resolve([]flow.Key{k(ns2, server, client), k(ns1, client, server)}, got); err != nil {
		t.Fatal(err)
	}
	if p, ok := owners.Lookup(got[0]); !ok || !p.IsCgroup() || p.CgroupID == 0 {
		t.Errorf("n2's server socket with a cgroup fallback: owner %d (%+v, %v), want its cgroup's row (asked for %v)", got[0], p, ok, asked)
	}
	if pid := pidOf(t, owners, got[1]); pid != h1.Process.Pid {
		t.Errorf("n1's client socket with a cgroup fallback: pid %d, want its process %d", pid, h1.Process.Pid)
	}
}

func mustStat(t *testing.T, path string) uint32 {
	t.Helper()
	inode, err := netns.InodeOf(path)
	if err != nil {
		t.Fatal(err)
	}
	return inode
}

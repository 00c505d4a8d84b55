//go:build linux

package nsattr

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

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
	connectedPair(t, n1, client, server)
	c2, _ := connectedPair(t, n2, client, server)

	// Hand n2's client socket to a child and close ours.
	f, err := c2.File()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command("sleep", "60")
	child.ExtraFiles = []*os.File{f}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	f.Close()
	c2.Close()

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
	a := New(Config{Scanner: sc, Own: own, New: ProcFactory(fsys, owners)})
	t.Cleanup(func() { a.Close(); sc.Close(); diag.Close() })

	lo := netip.MustParseAddr("127.0.0.1")
	k := func(ns uint32, local, remote uint16) flow.Key {
		return flow.Key{Proto: flow.TCP, NetNS: ns, Local: netip.AddrPortFrom(lo, local), Remote: netip.AddrPortFrom(lo, remote)}
	}
	keys := []flow.Key{k(ns1, client, server), k(ns2, client, server), k(ns1, server, client), k(ns2, server, client), k(0, client, server)}
	want := []int{os.Getpid(), child.Process.Pid, os.Getpid(), os.Getpid(), 0}
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
	if st := a.Stats(); !strings.HasPrefix(st.Attributor, "proc+") || st.Lookups < 5 {
		t.Errorf("Stats = %+v, want namespace resolvers and five lookups", st)
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

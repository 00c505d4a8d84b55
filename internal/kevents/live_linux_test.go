//go:build linux && !hogs_small

package kevents

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/internal/netlab"
	"hogs/proc"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// liveNetns creates a namespace with loopback up and returns its name and
// a Lab to start helpers in.
func liveNetns(t *testing.T) (string, *netlab.Lab) {
	t.Helper()
	netlab.SkipUnlessAdmin(t)
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("needs kernel BTF (/sys/kernel/btf/vmlinux): ", err)
	}
	lab := netlab.NewLab()
	t.Cleanup(func() {
		if err := lab.Cleanup(); err != nil {
			t.Errorf("removing the test's namespace: %v", err)
		}
	})
	ns := netlab.RandomName("hogs-kev")
	if err := lab.AddNetns(ns); err != nil {
		t.Fatal(err)
	}
	netlab.IP(t, ns, "link", "set", "lo", "up")
	return ns, lab
}

// openIn opens an Attributor whose keys with NetNS 0 are in namespace ns
// ("": this one).
func openIn(t *testing.T, ns string, fallback monitor.Attributor, owners *flow.Owners) *Attributor {
	t.Helper()
	cfg := Config{Fallback: fallback, Owners: owners}
	if ns != "" {
		ino, err := netNSInode("/run/netns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		cfg.NetNS = ino
	}
	// A minute: the lookups of a slow run (-race) may come more than
	// DefaultLinger after a close; TestLinger tests the linger.
	cfg.Linger = time.Minute
	a, err := Open(cfg)
	if err != nil {
		t.Fatalf("opening kernel socket events: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// pidsOf resolves keys with a and returns the PID each was found for (0:
// none).
func pidsOf(t *testing.T, a *Attributor, keys []flow.Key) []int {
	t.Helper()
	owners := make([]flow.Owner, len(keys))
	if err := a.Resolve(keys, owners); err != nil {
		t.Fatal(err)
	}
	pids := make([]int, len(keys))
	for i, o := range owners {
		if p, ok := a.owners.Lookup(o); ok {
			pids[i] = p.PID
		}
	}
	return pids
}

func tcpKey(local, remote netip.AddrPort) flow.Key {
	return flow.Key{Proto: flow.TCP, Local: local, Remote: remote}
}

// checkPIDs fails for every key not found for its expected PID.
func checkPIDs(t *testing.T, what string, keys []flow.Key, got []int, want int) {
	t.Helper()
	bad := 0
	for i, k := range keys {
		if got[i] != want {
			if bad < 5 {
				t.Errorf("%s %v: found PID %d, want %d", what, k, got[i], want)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d connections not found for PID %d", what, bad, len(keys), want)
	}
}

// tcpServerIn starts a tcp-server helper, accepting acceptDelayMS after
// each connection arrived, on host addr in a fresh namespace watched by an
// Attributor.
func tcpServerIn(t *testing.T, addr string, acceptDelayMS int) (ns string, lab *netlab.Lab, a *Attributor, server *helper, srv netip.AddrPort) {
	t.Helper()
	ns, lab = liveNetns(t)
	a = openIn(t, ns, nil, nil)
	server, line := startHelper(t, lab, ns, fmt.Sprintf("tcp-server %s %d", net.JoinHostPort(addr, "0"), acceptDelayMS))
	return ns, lab, a, server, netip.AddrPortFrom(netip.MustParseAddr(addr), port(t, line))
}

// dial connects to srv from this process in namespace ns and returns the
// connection with its flow keys from the client's and the server's side.
func dial(t *testing.T, ns string, srv netip.AddrPort) (c net.Conn, key, back flow.Key) {
	t.Helper()
	netlab.Run(t, ns, func() {
		var err error
		if c, err = net.Dial("tcp", srv.String()); err != nil {
			t.Fatal(err)
		}
	})
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	return c, tcpKey(local, srv), tcpKey(srv, local)
}

// TestShortConnections: 1,000 connections of well under a millisecond,
// client (this process) and server (a helper) in one namespace, closed
// before they are looked up: each end is found for its process, from the
// kernel's records alone.
func TestShortConnections(t *testing.T) {
	ns, _, a, server, srv := tcpServerIn(t, "127.0.0.1", 0)

	const n = 1000
	var clientKeys, serverKeys []flow.Key
	var took []time.Duration
	netlab.Run(t, ns, func() {
		for range n {
			start := time.Now()
			c, err := net.Dial("tcp", srv.String())
			if err != nil {
				t.Fatal(err)
			}
			local := c.LocalAddr().(*net.TCPAddr).AddrPort()
			c.Close()
			took = append(took, time.Since(start))
			clientKeys = append(clientKeys, tcpKey(local, srv))
			serverKeys = append(serverKeys, tcpKey(srv, local))
		}
	})
	slices.Sort(took)
	t.Logf("connect to close: median %v, 99th percentile %v", took[n/2], took[n*99/100])
	if took[n/2] > time.Millisecond {
		t.Errorf("median connection took %v, not under a millisecond", took[n/2])
	}
	time.Sleep(200 * time.Millisecond) // the server closes its ends
	checkPIDs(t, "client", clientKeys, pidsOf(t, a, clientKeys), os.Getpid())
	checkPIDs(t, "server", serverKeys, pidsOf(t, a, serverKeys), server.proc.PID())

	// The identity registered is the one /proc gives (PID and start time),
	// so the /proc attributor and this one share rows.
	for _, pid := range []int{os.Getpid(), server.proc.PID()} {
		start, err := proc.NewFS("").StartTime(pid)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := a.owners.Find(pid, start); !ok {
			t.Errorf("PID %d with start time %d (from /proc) is not registered", pid, start)
		}
	}
	if hits, misses := a.Counts(); hits != 2*n || misses != 0 {
		t.Errorf("Counts = %d hits, %d misses; want %d, 0", hits, misses, 2*n)
	}
}

// TestLinger: a closed connection's record is used for Config.Linger
// after the close, then no more.
func TestLinger(t *testing.T) {
	ns, _, a, _, srv := tcpServerIn(t, "127.0.0.1", 0)
	a.linger = uint64(300 * time.Millisecond) // after openIn's minute
	c, key, _ := dial(t, ns, srv)
	c.Close()
	if got := pidsOf(t, a, []flow.Key{key}); got[0] != os.Getpid() {
		t.Fatalf("just closed: PID %d, want %d", got[0], os.Getpid())
	}
	time.Sleep(500 * time.Millisecond)
	if got := pidsOf(t, a, []flow.Key{key}); got[0] != 0 {
		t.Errorf("closed 500 ms ago with a 300 ms linger: still found for PID %d", got[0])
	}
}

// TestLateAccept: a server accepting 3 s after the connection arrived;
// the connection is found for it before and after the accept, over IPv4
// and IPv6.
func TestLateAccept(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) {
			ns, _, a, server, srv := tcpServerIn(t, addr, 3000)
			c, key, back := dial(t, ns, srv)
			sent := make(chan error, 1)
			go func() {
				_, err := c.Write(make([]byte, 2<<20))
				c.Close()
				sent <- err
			}()
			got := pidsOf(t, a, []flow.Key{key, back})
			if got[0] != os.Getpid() || got[1] != server.proc.PID() {
				t.Errorf("before accept: client %d server %d, want %d %d", got[0], got[1], os.Getpid(), server.proc.PID())
			}
			start := time.Now()
			server.line(t) // accepted
			if waited := time.Since(start); waited < 2*time.Second {
				t.Fatalf("the server accepted after %v, not 3 s", waited)
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // the server reads to the end and closes
			got = pidsOf(t, a, []flow.Key{key, back})
			if got[0] != os.Getpid() || got[1] != server.proc.PID() {
				t.Errorf("after accept and close: client %d server %d, want %d %d", got[0], got[1], os.Getpid(), server.proc.PID())
			}
		})
	}
}

// TestShortLivedClients: client processes that connect, send 20 kB and
// exit at once are found after they exited, named by their comm.
func TestShortLivedClients(t *testing.T) {
	ns, lab, a, server, srv := tcpServerIn(t, "127.0.0.1", 0)
	type client struct {
		pid int
		key flow.Key
	}
	var clients []client
	for range 20 {
		h, line := startHelper(t, lab, ns, "tcp-client "+srv.String())
		local := netip.AddrPortFrom(srv.Addr(), port(t, line))
		if !h.proc.Wait(5 * time.Second) {
			t.Fatal("client did not exit")
		}
		clients = append(clients, client{h.proc.PID(), tcpKey(local, srv)})
	}
	comm := filepathBase(os.Args[0])
	for _, c := range clients {
		owners := []flow.Owner{0}
		if err := a.Resolve([]flow.Key{c.key}, owners); err != nil {
			t.Fatal(err)
		}
		p, ok := a.owners.Lookup(owners[0])
		if !ok || p.PID != c.pid || p.Name != comm || p.StartTime == 0 {
			t.Errorf("exited client %d (%v): found %+v (ok %v), want PID %d named %q", c.pid, c.key, p, ok, c.pid, comm)
		}
		back := tcpKey(c.key.Remote, c.key.Local)
		if got := pidsOf(t, a, []flow.Key{back}); got[0] != server.proc.PID() {
			t.Errorf("server end %v: PID %d, want %d", back, got[0], server.proc.PID())
		}
	}
}

// filepathBase is the comm a program gets: its file name cut to 15 bytes.
func filepathBase(p string) string {
	p = p[strings.LastIndexByte(p, '/')+1:]
	return p[:min(len(p), 15)]
}

// TestUDP: an unconnected UDP server and senders from unbound sockets in
// processes that exit right after one datagram, over IPv4 and IPv6.
func TestUDP(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) {
			ns, lab := liveNetns(t)
			a := openIn(t, ns, nil, nil)
			server, line := startHelper(t, lab, ns, "udp-server "+net.JoinHostPort(addr, "0"))
			srv := netip.AddrPortFrom(netip.MustParseAddr(addr), port(t, line))
			for range 5 {
				h, line := startHelper(t, lab, ns, "udp-send "+srv.String())
				local := netip.AddrPortFrom(srv.Addr(), port(t, line))
				if !h.proc.Wait(5 * time.Second) {
					t.Fatal("sender did not exit")
				}
				time.Sleep(20 * time.Millisecond) // the server receives and echoes
				keys := []flow.Key{
					{Proto: flow.UDP, Local: local, Remote: srv},
					{Proto: flow.UDP, Local: srv, Remote: local},
				}
				got := pidsOf(t, a, keys)
				if got[0] != h.proc.PID() || got[1] != server.proc.PID() {
					t.Errorf("sender %v: PID %d, want %d; server: PID %d, want %d", local, got[0], h.proc.PID(), got[1], server.proc.PID())
				}
			}
		})
	}
}

// TestForkingServer: a server accepting each connection and handing it to
// a child process, which sends 3 MB after 0.5 s, 20 times. The kernel's record names
// the server (the listener's owner); Recheck asks the /proc attributor,
// which finds the child while the connection is open. /proc reads this
// process's own namespace, so this test runs on its loopback.
func TestForkingServer(t *testing.T) {
	_, lab := liveNetns(t)
	owners := flow.NewOwners()
	resolver := proc.NewResolver(proc.ResolverConfig{FS: proc.NewFS(""), Owners: owners})
	a := openIn(t, "", monitor.Proc{Resolver: resolver}, owners)
	server, line := startHelper(t, lab, "", "fork-server 127.0.0.1:0")
	srv := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port(t, line))
	for i := range 20 {
		c, err := net.Dial("tcp", srv.String())
		if err != nil {
			t.Fatal(err)
		}
		back := tcpKey(srv, c.LocalAddr().(*net.TCPAddr).AddrPort())
		child, err := strconv.Atoi(server.line(t))
		if err != nil {
			t.Fatal(err)
		}
		if got := pidsOf(t, a, []flow.Key{back}); got[0] != server.proc.PID() {
			t.Errorf("connection %d: PID %d, want the server's %d", i, got[0], server.proc.PID())
		}
		// The server closes its copy just after starting the child: until
		// then /proc shows both holding the socket.
		moved := 0
		for pass := 0; pass < confirmPasses && moved == 0; pass++ {
			err = a.Recheck(func(k flow.Key, o flow.Owner) bool {
				p, _ := owners.Lookup(o)
				if k == back && p.PID == child {
					moved++
				} else {
					t.Errorf("Recheck moved %v to PID %d; want %v to the child %d", k, p.PID, back, child)
				}
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if moved != 1 {
			t.Errorf("connection %d: Recheck did not move it to the child %d", i, child)
		}
		n, err := io.Copy(io.Discard, c)
		c.Close()
		if err != nil || n != 3<<20 {
			t.Fatalf("read %d bytes (%v) from the child", n, err)
		}
	}
}

// objectIDs lists the ids of the kernel objects k holds: programs, maps
// and links, as "p:ID m:ID l:ID ...".
func objectIDs(k *kernelRecords) (string, error) {
	var ids []string
	for _, p := range k.coll.Programs {
		info, err := p.Info()
		if err != nil {
			return "", err
		}
		id, _ := info.ID()
		ids = append(ids, fmt.Sprintf("p:%d", id))
	}
	for _, m := range k.coll.Maps {
		info, err := m.Info()
		if err != nil {
			return "", err
		}
		id, _ := info.ID()
		ids = append(ids, fmt.Sprintf("m:%d", id))
	}
	for _, l := range k.links {
		info, err := l.Info()
		if err != nil {
			return "", err
		}
		ids = append(ids, fmt.Sprintf("l:%d", info.ID))
	}
	return strings.Join(ids, " "), nil
}

// stillThere returns the objects of an objectIDs list the kernel still has.
func stillThere(t *testing.T, ids string) []string {
	t.Helper()
	var left []string
	for _, f := range strings.Fields(ids) {
		n, err := strconv.ParseUint(f[2:], 10, 32)
		if err != nil {
			t.Fatalf("bad id %q", f)
		}
		var c io.Closer
		switch f[0] {
		case 'p':
			c, err = ebpf.NewProgramFromID(ebpf.ProgramID(n))
		case 'm':
			c, err = ebpf.NewMapFromID(ebpf.MapID(n))
		case 'l':
			c, err = link.NewFromID(link.ID(n))
		}
		if err == nil {
			c.Close()
			left = append(left, f)
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("looking up %s: %v", f, err)
		}
	}
	return left
}

// waitGone fails unless every object of ids is freed within 5 s (the
// kernel frees them a little after the last reference goes).
func waitGone(t *testing.T, ids string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := stillThere(t, ids)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still in the kernel: %v (of %s)", left, ids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCloseDetaches: after Close no program, map or link of ours is left.
func TestCloseDetaches(t *testing.T) {
	liveNetns(t)
	a, err := Open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := objectIDs(a.rec.(*kernelRecords))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(ids)); n != 2+3+3 {
		t.Fatalf("ids %q: want 2 programs, 3 maps, 3 links", ids)
	}
	if left := stillThere(t, ids); len(left) != 8 {
		t.Fatalf("before Close only %v of %s found", left, ids)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, ids)
}

// TestKilledDetaches: a process holding the programs that is killed
// (SIGKILL: no Close) leaves nothing attached: links, programs and maps
// live by its file descriptors only.
func TestKilledDetaches(t *testing.T) {
	_, lab := liveNetns(t)
	h, ids := startHelper(t, lab, "", "hold-events")
	if len(stillThere(t, ids)) != 8 {
		t.Fatalf("the helper's objects %s are not all there", ids)
	}
	h.proc.Signal(os.Kill)
	if !h.proc.Wait(5 * time.Second) {
		t.Fatal("helper did not die")
	}
	waitGone(t, ids)
}

// TestUnprivileged: without CAP_BPF and CAP_PERFMON Open fails, saying so.
func TestUnprivileged(t *testing.T) {
	_, lab := liveNetns(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs util-linux's setpriv to drop privileges: ", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", exe)
	_, line := startHelperCmd(t, lab, "open-events", cmd)
	if !strings.Contains(line, "CAP_BPF and CAP_PERFMON") {
		t.Errorf("unprivileged Open: %q, want it to name CAP_BPF and CAP_PERFMON", line)
	}
}

// TestNeverAccepted: a connection the server never accepts, sent to and
// closed by the client, is found for the server (the listener's owner).
func TestNeverAccepted(t *testing.T) {
	ns, _, a, server, srv := tcpServerIn(t, "127.0.0.1", 600000)
	c, key, back := dial(t, ns, srv)
	if _, err := c.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	got := pidsOf(t, a, []flow.Key{key, back})
	if got[0] != os.Getpid() || got[1] != server.proc.PID() {
		t.Errorf("client %d server %d, want %d %d", got[0], got[1], os.Getpid(), server.proc.PID())
	}
}

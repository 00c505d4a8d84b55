//go:build linux

package nsattr

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/internal/netlab"
	"hogs/internal/netns"
	"hogs/proc"
	"hogs/rawcap"
	"hogs/ui"
)

// roleEnv makes the test binary play a traffic role instead of running
// the tests (see TestMain).
const roleEnv = "HOGS_NSATTR_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "":
		os.Exit(m.Run())
	case "sink":
		os.Exit(sink(os.Getenv("HOGS_NSATTR_ADDR")))
	case "send":
		os.Exit(send(os.Getenv("HOGS_NSATTR_ADDR")))
	default:
		fmt.Fprintln(os.Stderr, "unknown", roleEnv)
		os.Exit(2)
	}
}

// sink listens on addr, says "listening", and reads one connection to
// its end.
func sink(addr string) int {
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("listening")
	c, err := ln.Accept()
	if err != nil {
		return 1
	}
	n, _ := io.Copy(io.Discard, c)
	fmt.Println("read", n)
	return 0
}

// sendPayload is what the send role sends.
const sendPayload = 300_000

// send connects to addr, sends sendPayload bytes, says "sent", and keeps
// the connection until its standard input closes (until the test has
// seen its row).
func send(addr string) int {
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := c.Write(make([]byte, sendPayload)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("sent")
	io.Copy(io.Discard, os.Stdin)
	c.Close()
	return 0
}

// End to end, with the live capture on the host side of a bridged veth: a process
// in the "container" namespace sends to a server process in the "host"
// namespace. The frames on the host veth carry the container's namespace
// and its direction, so the flow resolves through sock_diag inside the
// container to the sending process (this test), not to the server in the
// host namespace; its row's bytes are the veth's wire bytes.
func TestLiveVethFlowsBelongToThePeerNamespace(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	lab := netlab.NewLab()
	t.Cleanup(func() { lab.Cleanup() })
	pair, err := lab.NewPair(netlab.PairConfig{Prefix: "hogs-test", AddrA: "10.78.0.1", AddrB: "10.78.0.2",
		MACA: "02:78:00:00:00:01", MACB: "02:78:00:00:00:02"})
	if err != nil {
		t.Fatal(err)
	}
	host, ctr := pair.A, pair.B
	// vA becomes a port of a bridge that takes over its address, as
	// Docker's docker0 is: a bridged veth is a namespace boundary.
	for _, args := range [][]string{{"link", "add", "br0", "type", "bridge"}, {"link", "set", "br0", "up"},
		{"addr", "del", "10.78.0.1/24", "dev", "vA"}, {"addr", "add", "10.78.0.1/24", "dev", "br0"}, {"link", "set", "vA", "master", "br0"},
		{"neigh", "replace", "10.78.0.2", "lladdr", "02:78:00:00:00:02", "dev", "br0", "nud", "permanent"}} {
		netlab.IP(t, host, args...)
	}

	// The server, another process, in the host namespace.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("10.78.0.1:%d", 20000+rand.IntN(40000))
	cmd := exec.Command("ip", "netns", "exec", host, self)
	cmd.Env = append(os.Environ(), roleEnv+"=sink", "HOGS_NSATTR_ADDR="+addr)
	out, w := io.Pipe()
	server, err := lab.Start("sink", cmd, w, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "listening" {
		t.Fatalf("server: %q, want listening", lines.Text())
	}

	// The monitor, in the host namespace, on the host side of the veth.
	var (
		live *rawcap.Live
		sc   *netns.Scanner
		rt   *netns.RTNL
		diag *proc.SockDiag
	)
	netlab.Run(t, host, func() {
		filter, err := rawcap.KernelFilter(rawcap.FilterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hs, err := rawcap.HandshakeFilter(rawcap.FilterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if live, err = rawcap.OpenLive(rawcap.LiveConfig{Filter: filter, HandshakeFilter: hs, Selection: rawcap.Selection{Names: []string{"vA"}}}); err != nil {
			t.Fatal(err)
		}
		if sc, err = netns.NewScanner(netns.Config{}); err != nil {
			t.Fatal(err)
		}
		if rt, err = netns.OpenRTNL(); err != nil {
			t.Fatal(err)
		}
		if diag, err = proc.OpenSockDiag(); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { rt.Close(); sc.Close(); diag.Close() })
	src := NewLiveSource(monitor.Live{Live: live})
	if _, err := sc.Scan(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Refresh(sc, rt); err != nil {
		t.Fatal(err)
	}
	owners := flow.NewOwners()
	fsys := proc.NewFS("")
	attr := New(Config{Scanner: sc, Own: monitor.Proc{Resolver: proc.NewResolver(proc.ResolverConfig{FS: fsys, Owners: owners, SockDiag: diag})},
		New: ProcFactory(fsys, owners, nil, nil), Log: os.Stderr,
		OnScan: func([]netns.Namespace) {
			if _, err := src.Refresh(sc, rt); err != nil {
				t.Errorf("veth peers: %v", err)
			}
		}})
	t.Cleanup(func() { attr.Close() })
	m := monitor.New(monitor.Config{Interval: 200 * time.Millisecond}, src, attr, owners)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("monitor: %v", err)
		}
	})

	// The container exists before its connections: wait for the first
	// refresh's scan to have made the resolvers of the namespaces.
	for deadline := time.Now().Add(5 * time.Second); attr.Namespaces() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no namespace resolver made within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := netlab.ReadCounters(t, host, "vA")
	const payload = sendPayload
	// The sender, a process in the container namespace (the resolver of
	// a namespace walks the descriptors of its processes only).
	sender := exec.Command("ip", "netns", "exec", ctr, self)
	sender.Env = append(os.Environ(), roleEnv+"=send", "HOGS_NSATTR_ADDR="+addr)
	stdin, err := sender.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	sout, sw := io.Pipe()
	sp, err := lab.Start("send", sender, sw, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if sl := bufio.NewScanner(sout); !sl.Scan() || sl.Text() != "sent" {
		t.Fatalf("sender: %q, want sent", sl.Text())
	}
	go io.Copy(io.Discard, sout)
	// Like any socket, it must live until a lookup finds it: a few
	// milliseconds, unless the machine is busy.
	for deadline := time.Now().Add(5 * time.Second); rowOf(m.Latest(), sp.PID()) == nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	stdin.Close()
	sp.Wait(5 * time.Second)
	if !lines.Scan() || lines.Text() != fmt.Sprintf("read %d", payload) {
		t.Fatalf("server: %q, want read %d", lines.Text(), payload)
	}
	server.Wait(5 * time.Second)
	after := netlab.ReadCounters(t, host, "vA")
	wire := after.Sub(before)

	// Wait until the rows account for every wire byte (the ring hands
	// blocks over within its retire timeout).
	var rows []ui.Row
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows = nil
		var total uint64
		if v := m.Latest(); v != nil {
			rows = v.Rows
			for _, r := range rows {
				total += r.Sent.Bytes + r.Recv.Bytes
			}
		}
		if total >= wire.Bytes() || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var mine *ui.Row
	var desc []string
	for i := range rows {
		r := &rows[i]
		desc = append(desc, fmt.Sprintf("%s pid %d sent %d recv %d", r.Name, r.PID, r.Sent.Bytes, r.Recv.Bytes))
		if r.PID == server.PID() {
			t.Errorf("the server in the host namespace has a row: the veth's frames were not given the container's namespace")
		}
		if r.PID == sp.PID() {
			mine = r
		}
	}
	if mine == nil {
		t.Fatalf("no row for the sending process (pid %d) in the container namespace; rows: %s", sp.PID(), strings.Join(desc, "; "))
	}
	// What the veth received (rx) the container sent, and the other way.
	if mine.Sent.Bytes != wire.RxBytes || mine.Recv.Bytes != wire.TxBytes {
		t.Errorf("container process: sent %d recv %d bytes; the host veth received %d and sent %d (rows: %s)",
			mine.Sent.Bytes, mine.Recv.Bytes, wire.RxBytes, wire.TxBytes, strings.Join(desc, "; "))
	}
}

// rowOf is pid's row in v, nil if none.
func rowOf(v *ui.View, pid int) *ui.Row {
	if v == nil {
		return nil
	}
	for i := range v.Rows {
		if v.Rows[i].PID == pid {
			return &v.Rows[i]
		}
	}
	return nil
}

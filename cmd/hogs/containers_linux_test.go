package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hogs/internal/container"
	"hogs/internal/netlab"
	"hogs/internal/netns"
)

// nsServer ADDR REPLY: accepts connections at ADDR until killed; reads each
// to its end, answers REPLY bytes and closes it. Says "listening".
func nsServer(args []string) int {
	reply := make([]byte, atoi(args[1]))
	return serveEach(args[0], func(conn net.Conn) {
		io.Copy(io.Discard, conn)
		conn.Write(reply)
	})
}

// nsClient LOCAL REMOTE BYTES: connects to REMOTE (from LOCAL, "-" for
// any), says "connected", sends BYTES in 64 KiB writes over about a
// second and a half, reads the answer to its end and says "done N" (N the
// bytes answered).
func nsClient(args []string) int {
	d := net.Dialer{Timeout: 5 * time.Second}
	if args[0] != "-" {
		a, err := net.ResolveTCPAddr("tcp", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		d.LocalAddr = a
	}
	conn, err := d.Dial("tcp", args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("connected")
	n := atoi(args[2])
	chunk := make([]byte, 64<<10)
	writes := (n + len(chunk) - 1) / len(chunk)
	for n > 0 {
		c := chunk[:min(n, len(chunk))]
		if _, err := conn.Write(c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		n -= len(c)
		time.Sleep(1500 * time.Millisecond / time.Duration(writes))
	}
	conn.(*net.TCPConn).CloseWrite()
	got, _ := io.Copy(io.Discard, conn)
	conn.Close()
	fmt.Println("done", got)
	return 0
}

// lab is the test's host: namespace host with container bridges, the
// containers, and the namespaces beyond its routed uplinks.
type lab struct {
	t    *testing.T
	self string // the test binary, which plays the traffic roles
}

// sysctlQuiet turns IPv6 off in ns before its links come up (no router
// solicitations, neighbour discovery or MLD on the wire).
func (l *lab) namespace() string {
	ns := netlab.New(l.t)
	netlab.Sysctl(l.t, ns, "net.ipv6.conf.all.disable_ipv6=1")
	netlab.Sysctl(l.t, ns, "net.ipv6.conf.default.disable_ipv6=1")
	netlab.IP(l.t, ns, "link", "set", "lo", "up")
	return ns
}

// container makes a namespace with eth0 at addr/24, whose host side
// (dev, in host) is a port of bridge; gw is its default route ("" none).
func (l *lab) container(host, bridge, dev, addr, gw string) string {
	ns := l.namespace()
	l.plug(host, bridge, dev, ns, addr, gw)
	return ns
}

// plug connects namespace ns to bridge in host through veth dev.
func (l *lab) plug(host, bridge, dev, ns, addr, gw string) {
	netlab.IP(l.t, host, "link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", ns)
	netlab.IP(l.t, host, "link", "set", dev, "master", bridge, "up")
	netlab.IP(l.t, ns, "addr", "add", addr+"/24", "dev", "eth0")
	netlab.IP(l.t, ns, "link", "set", "eth0", "up")
	if gw != "" {
		netlab.IP(l.t, ns, "route", "add", "default", "via", gw)
	}
}

// routed makes a namespace beyond a routed (unbridged) veth dev of host:
// hostAddr on dev, addr on its eth0, via a route to each other's side.
func (l *lab) routed(host, dev, hostAddr, addr string, routes ...string) string {
	ns := l.namespace()
	netlab.IP(l.t, host, "link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", ns)
	netlab.IP(l.t, host, "addr", "add", hostAddr+"/24", "dev", dev)
	netlab.IP(l.t, host, "link", "set", dev, "up")
	netlab.IP(l.t, ns, "addr", "add", addr+"/24", "dev", "eth0")
	netlab.IP(l.t, ns, "link", "set", "eth0", "up")
	for _, r := range routes {
		netlab.IP(l.t, ns, "route", "add", r, "via", hostAddr)
	}
	return ns
}

// cgroup makes the cgroup v2 directory path (its parents too) and removes
// what it made at cleanup, once the processes in it are gone.
func (l *lab) cgroup(mount, path string) string {
	dir := mount
	for _, part := range strings.Split(path, "/") {
		dir = filepath.Join(dir, part)
		if _, err := os.Stat(dir); err == nil {
			continue
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			l.t.Skipf("cannot create cgroup %s: %v", dir, err)
		}
		made := dir
		l.t.Cleanup(func() {
			for range 50 {
				if os.Remove(made) == nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			l.t.Errorf("cgroup %s left behind", made)
		})
	}
	return dir
}

// start runs role in namespace ns (in its own PID namespace with pidns,
// in cgroup cg unless ""), and returns it once it said its first line.
func (l *lab) start(ns, cg string, pidns bool, role string, args ...string) *process {
	l.t.Helper()
	argv := []string{"ip", "netns", "exec", ns}
	if pidns {
		argv = append(argv, "unshare", "--pid", "--kill-child", "--mount-proc")
	}
	argv = append(argv, l.self)
	cmd := exec.Command(argv[0], argv[1:]...)
	if cg != "" {
		cmd = exec.Command("sh", append([]string{"-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, cg}, argv...)...)
	}
	cmd.Env = append(os.Environ(), "HOGS_TEST_ROLE="+role, "HOGS_TEST_ARGS="+strings.Join(args, " "))
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &process{cmd: cmd, out: bufio.NewReader(stdout)}
	if line := p.line(l.t); line != "listening" && line != "connected" {
		l.t.Fatalf("%s in %s: %q", role, ns, line)
	}
	return p
}

// pidsIn lists the processes whose network namespace is ns's.
func pidsIn(t *testing.T, ns string) map[int]bool {
	t.Helper()
	want, err := netns.InodeOf("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	pids := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ino, err := netns.InodeOf(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && ino == want {
			pids[pid] = true
		}
	}
	return pids
}

// jsonLine is what the test reads of a refresh of hogs --json.
type jsonLine struct {
	Processes []struct {
		PID      int     `json:"pid"`
		Name     string  `json:"name"`
		Sent     jsonDir `json:"sent"`
		Received jsonDir `json:"received"`
	} `json:"processes"`
	Unknown   []struct{ Sent, Received jsonDir } `json:"unknown"`
	Forwarded []struct{ Sent, Received jsonDir } `json:"forwarded"`
}

type jsonDir struct {
	Total struct {
		Bytes uint64 `json:"bytes"`
	} `json:"total"`
}

// sums adds up the rows of the processes in pids, sent and received.
func (j *jsonLine) sums(pids map[int]bool) (sent, recv uint64) {
	for _, p := range j.Processes {
		if pids[p.PID] {
			sent += p.Sent.Total.Bytes
			recv += p.Received.Total.Bytes
		}
	}
	return sent, recv
}

// within reports whether got is want within frac (of want).
func within(got, want uint64, frac float64) bool {
	return math.Abs(float64(got)-float64(want)) <= frac*float64(want)
}

// nftCounter reads a named counter of table ip NAME in ns: its bytes as
// the wire counts them (IP bytes plus an Ethernet header per packet).
func nftCounter(t *testing.T, ns, table, name string) uint64 {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-j", "list", "counter", "ip", table, name).Output()
	if err != nil {
		t.Fatalf("nft list counter %s: %v", name, err)
	}
	var v struct {
		Nftables []struct {
			Counter *struct{ Packets, Bytes uint64 } `json:"counter"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("nft counter %s: %v: %s", name, err, out)
	}
	for _, e := range v.Nftables {
		if e.Counter != nil {
			return e.Counter.Bytes + 14*e.Counter.Packets
		}
	}
	t.Fatalf("nft counter %s: none in %s", name, out)
	return 0
}

func hex64(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestContainersLive runs the hogs binary in a host namespace that
// bridges two containers (each in its own PID namespace, one in a
// Docker-shaped cgroup, one in a Kubernetes pod's), masquerades them out
// of an uplink to a remote namespace and forwards a port from it to one of
// them, and routes a client's traffic through to the remote; a second
// bridge holds two more containers with the first two's addresses, and a
// fifth container comes and goes while hogs runs. Each container's
// processes carry its interface's wire bytes (0.5 %), all the rows add up
// to the wire bytes once (1 %), the routed traffic is in the forwarded
// row, and the namespace deleted leaves nothing held.
func TestContainersLive(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	for _, tool := range []string{"nft", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian nftables, util-linux)", tool)
		}
	}
	if !namespacesBuiltIn || !conntrackBuiltIn {
		t.Skip("the small build (hogs_small) counts its own namespace only: no containers, no connection tracking")
	}
	mount, err := container.FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("needs a cgroup v2 mount: %v", err)
	}
	l := &lab{t: t, self: mustExecutable(t)}
	host := l.namespace()
	netlab.Sysctl(t, host, "net.ipv4.ip_forward=1")
	for _, args := range [][]string{
		{"link", "add", "br0", "type", "bridge"}, {"addr", "add", "10.201.0.1/24", "dev", "br0"}, {"link", "set", "br0", "up"},
		{"link", "add", "br1", "type", "bridge"}, {"link", "set", "br1", "up"},
	} {
		netlab.IP(t, host, args...)
	}
	a := l.container(host, "br0", "vA", "10.201.0.2", "10.201.0.1")
	b := l.container(host, "br0", "vB", "10.201.0.3", "10.201.0.1")
	// The twins have A's and B's addresses, on a bridge of their own.
	twinA := l.container(host, "br1", "vTA", "10.201.0.2", "")
	twinB := l.container(host, "br1", "vTB", "10.201.0.3", "")
	remote := l.routed(host, "vU", "10.202.0.1", "10.202.0.2", "10.203.0.0/24")
	client := l.routed(host, "vC", "10.203.0.1", "10.203.0.2", "default")
	ruleset := `table ip hogstest {
	counter hostin {}
	counter hostout {}
	chain post { type nat hook postrouting priority srcnat; ip saddr 10.201.0.0/24 oifname "vU" masquerade; }
	chain pre { type nat hook prerouting priority dstnat; iifname "vU" tcp dport 8080 dnat to 10.201.0.3:80; }
	chain in { type filter hook input priority 0; iifname "br0" ip daddr 10.201.0.1 meta l4proto tcp counter name "hostin"; }
	chain out { type filter hook output priority 0; oifname "br0" ip saddr 10.201.0.1 meta l4proto tcp counter name "hostout"; }
}`
	nft := exec.Command("ip", "netns", "exec", host, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(ruleset)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	dockerCG := l.cgroup(mount, fmt.Sprintf("system.slice/docker-%s.scope", hex64(t)))
	uid := hex64(t)
	uid = uid[:8] + "_" + uid[8:12] + "_" + uid[12:16] + "_" + uid[16:20] + "_" + uid[20:32]
	podCG := l.cgroup(mount, fmt.Sprintf("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/cri-containerd-%s.scope", uid, hex64(t)))

	// Servers first: in the remote, the containers and the twins.
	const reply = "200000"
	l.start(remote, "", false, "ns-server", "10.202.0.2:7000", reply)
	l.start(remote, "", false, "ns-server", "10.202.0.2:7001", reply)
	l.start(remote, "", false, "ns-server", "10.202.0.2:7002", reply)
	l.start(b, podCG, true, "ns-server", "0.0.0.0:80", reply)
	l.start(b, podCG, true, "ns-server", "10.201.0.3:9000", reply)
	l.start(a, dockerCG, true, "ns-server", "10.201.0.2:9001", reply)
	l.start(twinB, "", false, "ns-server", "10.201.0.3:9000", reply)

	h := startHogsCmd(t, inNamespace(host, hogsBinary(t), "--json", "-d", "0.5"))
	time.Sleep(time.Second) // the namespaces scanned, their peers read
	ifaces := map[string]string{a: "A", b: "B", twinA: "twin of A", twinB: "twin of B", client: "routed client"}
	before := map[string]netlab.Counters{}
	for ns := range ifaces {
		before[ns] = netlab.ReadCounters(t, ns, "eth0")
	}
	hostIn0, hostOut0 := nftCounter(t, host, "hogstest", "hostin"), nftCounter(t, host, "hogstest", "hostout")

	// The traffic: A to the remote (masqueraded), the remote to B through
	// the port forward, A to B and A's twin to B's twin from the same
	// port to the same port (identical flows in two namespace pairs), a
	// host process to A, the client through the host to the remote.
	clients := []*process{
		l.start(a, dockerCG, true, "ns-client", "-", "10.202.0.2:7000", "2000000"),
		l.start(remote, "", false, "ns-client", "-", "10.202.0.1:8080", "1000000"),
		l.start(a, dockerCG, true, "ns-client", "10.201.0.2:40000", "10.201.0.3:9000", "1200000"),
		l.start(twinA, "", false, "ns-client", "10.201.0.2:40000", "10.201.0.3:9000", "700000"),
		l.start(host, "", false, "ns-client", "-", "10.201.0.2:9001", "1500000"),
		l.start(client, "", false, "ns-client", "-", "10.202.0.2:7001", "900000"),
	}
	pids := map[string]map[int]bool{}
	for ns := range ifaces {
		pids[ns] = pidsIn(t, ns)
	}
	hostPID := clients[4].cmd.Process.Pid
	twinPID := clients[3].cmd.Process.Pid

	// A container made, used and deleted while hogs runs.
	nl := netlab.NewLab()
	t.Cleanup(func() { nl.Cleanup() })
	late := netlab.RandomName("hogs-test")
	if err := nl.AddNetns(late); err != nil {
		t.Fatal(err)
	}
	netlab.Sysctl(t, late, "net.ipv6.conf.all.disable_ipv6=1")
	netlab.Sysctl(t, late, "net.ipv6.conf.default.disable_ipv6=1")
	l.plug(host, "br0", "vE", late, "10.201.0.5", "10.201.0.1")
	lateBefore := netlab.ReadCounters(t, late, "eth0")
	lateClient := l.start(late, "", false, "ns-client", "-", "10.202.0.2:7002", "800000")
	latePID := lateClient.cmd.Process.Pid
	for _, p := range append(clients, lateClient) {
		if line := p.line(t); !strings.HasPrefix(line, "done ") || line == "done 0" {
			t.Fatalf("client: %q", line)
		}
		p.cmd.Wait()
	}
	wire := map[string]netlab.Counters{}
	for ns := range ifaces {
		wire[ns] = netlab.ReadCounters(t, ns, "eth0").Sub(before[ns])
	}
	lateWire := netlab.ReadCounters(t, late, "eth0").Sub(lateBefore)
	hostIn, hostOut := nftCounter(t, host, "hogstest", "hostin")-hostIn0, nftCounter(t, host, "hogstest", "hostout")-hostOut0
	if err := nl.DelNetns(late); err != nil {
		t.Fatal(err)
	}
	// Gone from the host once nothing holds the namespace: hogs's
	// handles and sockets in it are closed at its next scans.
	gone := false
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := netlab.RunIP(host, "link", "show", "vE"); err != nil {
			gone = true
			break
		}
	}
	if !gone {
		t.Errorf("the deleted container's namespace is still alive 8 s later (its veth vE is in the host): something holds it")
	}

	h.stop(t)
	lines := strings.Split(strings.TrimSpace(h.out.String()), "\n")
	var last jsonLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("last JSON line: %v", err)
	}
	var rows strings.Builder
	for _, p := range last.Processes {
		fmt.Fprintf(&rows, "\n  pid %d %s: sent %d received %d", p.PID, p.Name, p.Sent.Total.Bytes, p.Received.Total.Bytes)
	}
	var unknownSent, unknownRecv, fwdSent, fwdRecv uint64
	for _, u := range last.Unknown {
		unknownSent += u.Sent.Total.Bytes
		unknownRecv += u.Received.Total.Bytes
	}
	for _, f := range last.Forwarded {
		fwdSent += f.Sent.Total.Bytes
		fwdRecv += f.Received.Total.Bytes
	}
	fmt.Fprintf(&rows, "\n  unknown: sent %d received %d; forwarded: sent %d received %d", unknownSent, unknownRecv, fwdSent, fwdRecv)
	if strings.Contains(h.err.String(), "panic") {
		t.Errorf("hogs stderr: %s", h.err.String())
	}

	// Each container's processes carry its interface's wire bytes.
	check := func(what string, pids map[int]bool, w netlab.Counters) {
		sent, recv := last.sums(pids)
		if !within(sent, w.TxBytes, 0.005) || !within(recv, w.RxBytes, 0.005) {
			t.Errorf("%s: its processes %v sent %d, received %d; its eth0 sent %d, received %d (0.5 %%)%s", what, pids, sent, recv, w.TxBytes, w.RxBytes, rows.String())
		}
	}
	for ns, what := range ifaces {
		if ns != client {
			check(what, pids[ns], wire[ns])
		}
	}
	check("the container made and deleted while hogs ran", map[int]bool{latePID: true}, lateWire)
	// The twin's client is its own row, apart from A's identical flow.
	if sent, _ := last.sums(map[int]bool{twinPID: true}); !within(sent, 700000, 0.05) {
		t.Errorf("A's twin's client (pid %d) sent %d, want about 700000 (its own, not A's identical flow)%s", twinPID, sent, rows.String())
	}
	// The host process's end, as the host's bridge counted it.
	hostSent, hostRecv := last.sums(map[int]bool{hostPID: true})
	if !within(hostSent, hostOut, 0.005) || !within(hostRecv, hostIn, 0.005) {
		t.Errorf("host process: sent %d received %d; the bridge carried %d out, %d in%s", hostSent, hostRecv, hostOut, hostIn, rows.String())
	}
	// The routed client: received once by the host, in forwarded.
	if cw := wire[client]; fwdSent != 0 || !within(fwdRecv, cw.TxBytes+cw.RxBytes, 0.01) {
		t.Errorf("forwarded: sent %d received %d; the routed client's eth0 moved %d (all to be received once)%s", fwdSent, fwdRecv, cw.TxBytes+cw.RxBytes, rows.String())
	}
	if s, r := last.sums(pids[client]); s+r != 0 {
		t.Errorf("the routed client's processes have rows (%d, %d): it is beyond a routed link", s, r)
	}
	// Every row together: the wire bytes, once.
	var wantSent, wantRecv uint64
	for ns, w := range wire {
		if ns != client {
			wantSent += w.TxBytes
			wantRecv += w.RxBytes
		}
	}
	wantSent += lateWire.TxBytes + hostOut
	wantRecv += lateWire.RxBytes + hostIn + wire[client].TxBytes + wire[client].RxBytes
	var allSent, allRecv uint64
	for _, p := range last.Processes {
		allSent += p.Sent.Total.Bytes
		allRecv += p.Received.Total.Bytes
	}
	allSent += unknownSent + fwdSent
	allRecv += unknownRecv + fwdRecv
	if !within(allSent, wantSent, 0.01) || !within(allRecv, wantRecv, 0.01) {
		t.Errorf("all rows: sent %d received %d; the wire, once: %d, %d (1 %%)%s", allSent, allRecv, wantSent, wantRecv, rows.String())
	}
}

// TestNamespacesWithoutSysAdmin: hogs without cap_sys_admin cannot join
// a container's namespace: it says once, at start, how many namespaces it
// cannot attribute and names the capability; each end of the traffic
// between a host process and the container still counts once.
func TestNamespacesWithoutSysAdmin(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux) to drop cap_sys_admin")
	}
	if !namespacesBuiltIn {
		t.Skip("the small build (hogs_small) counts its own namespace only")
	}
	l := &lab{t: t, self: mustExecutable(t)}
	host := l.namespace()
	for _, args := range [][]string{{"link", "add", "br0", "type", "bridge"}, {"addr", "add", "10.204.0.1/24", "dev", "br0"}, {"link", "set", "br0", "up"}} {
		netlab.IP(t, host, args...)
	}
	ctr := l.container(host, "br0", "vA", "10.204.0.2", "10.204.0.1")
	l.start(host, "", false, "ns-server", "10.204.0.1:9000", "100000")
	h := startHogsCmd(t, exec.Command("ip", "netns", "exec", host, "setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin",
		hogsBinary(t), "--json", "-d", "0.5"))
	before := netlab.ReadCounters(t, ctr, "eth0")
	c := l.start(ctr, "", false, "ns-client", "-", "10.204.0.1:9000", "500000")
	if line := c.line(t); !strings.HasPrefix(line, "done ") {
		t.Fatalf("client: %q", line)
	}
	w := netlab.ReadCounters(t, ctr, "eth0").Sub(before)
	h.stop(t)
	stderr := h.err.String()
	if n := strings.Count(stderr, "needs cap_sys_admin"); n != 1 || !strings.Contains(stderr, "other network namespaces") {
		t.Errorf("stderr says %d times that joining needs cap_sys_admin, want once naming the namespaces:\n%s", n, stderr)
	}
	lines := strings.Split(strings.TrimSpace(h.out.String()), "\n")
	var last jsonLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	// Both ends count once each: the host's server from the bridge, the
	// container's client from its veth (unknown, or its process where
	// kernel socket events name it without joining the namespace).
	var sent, recv uint64
	for _, p := range last.Processes {
		sent += p.Sent.Total.Bytes
		recv += p.Received.Total.Bytes
	}
	for _, u := range last.Unknown {
		sent += u.Sent.Total.Bytes
		recv += u.Received.Total.Bytes
	}
	if all := w.TxBytes + w.RxBytes; !within(sent, all, 0.005) || !within(recv, all, 0.005) {
		t.Errorf("all rows: sent %d received %d; the container's eth0 moved %d, to count once at each end", sent, recv, all)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hogs/internal/netlab"
)

// testContainer is a network namespace with a PID namespace and /proc of its
// own, as a container runtime makes one: its init (PID 1, sleep) holds
// every capability, /run is an empty tmpfs (no host's ip netns or Docker
// namespace bindings show through). Commands join it with nsenter.
type testContainer struct {
	ns      string
	initPID int // the init's PID on the host
}

func newContainer(t *testing.T, ns string) *testContainer {
	t.Helper()
	for _, tool := range []string{"unshare", "nsenter", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux) to make a container", tool)
		}
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
		"sh", "-c", "mount -t tmpfs tmpfs /run && exec sleep 600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	children := fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)
	for range 100 {
		b, _ := os.ReadFile(children)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(comm) == "sleep\n" {
				return &testContainer{ns: ns, initPID: pid}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the container's init did not start (%s)", children)
	return nil
}

// Capability sets a command runs with in the container.
var (
	netRawOnly = []string{"setpriv", "--inh-caps=-all,+net_raw", "--ambient-caps=-all,+net_raw", "--bounding-set=-all,+net_raw", "--"}
	nobodyUser = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"}
)

// command runs argv in the container, through the prefix (a setpriv
// command line, or nothing: root with every capability).
func (c *testContainer) command(prefix []string, argv ...string) *exec.Cmd {
	args := []string{"-t", strconv.Itoa(c.initPID), "-n", "-p", "-m", "--"}
	return exec.Command("nsenter", append(append(args, prefix...), argv...)...)
}

// childOf returns the PID of the process nsenter (pid) forked to run the
// command in the container's PID namespace: signals for the command go to
// it, as nsenter does not pass them on.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	children := fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)
	for range 100 {
		b, _ := os.ReadFile(children)
		if child, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
			return child
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nsenter (PID %d) started no command", pid)
	return 0
}

// ctrRefresh is the part of a --json line the container test reads.
type ctrRefresh struct {
	Processes []struct {
		PID      int      `json:"pid"`
		UID      int      `json:"uid"`
		Cmdline  []string `json:"cmdline"`
		Sent     ctrDir   `json:"sent"`
		Received ctrDir   `json:"received"`
	} `json:"processes"`
	Unknown []struct {
		Sent     ctrDir `json:"sent"`
		Received ctrDir `json:"received"`
	} `json:"unknown"`
	Capture []struct {
		Drops uint64 `json:"drops"`
	} `json:"capture"`
}

type ctrDir struct {
	Total struct {
		Bytes uint64 `json:"bytes"`
	} `json:"total"`
}

// lastJSON returns the last complete refresh hogs printed.
func lastJSON(t *testing.T, out string) ctrRefresh {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r ctrRefresh
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last JSON line: %v: %q", err, lines[len(lines)-1])
	}
	return r
}

// rowOf returns the sent and received totals of the process whose command
// line has marker, and whether there is one.
func (r ctrRefresh) rowOf(marker string) (sent, recv uint64, pid int, ok bool) {
	for _, p := range r.Processes {
		if len(p.Cmdline) > 1 && p.Cmdline[1] == marker {
			return p.Sent.Total.Bytes, p.Received.Total.Bytes, p.PID, true
		}
	}
	return 0, 0, 0, false
}

// total sums every row, unknown ones included.
func (r ctrRefresh) total() (sent, recv uint64) {
	for _, p := range r.Processes {
		sent, recv = sent+p.Sent.Total.Bytes, recv+p.Received.Total.Bytes
	}
	for _, u := range r.Unknown {
		sent, recv = sent+u.Sent.Total.Bytes, recv+u.Received.Total.Bytes
	}
	return sent, recv
}

// withinFrac reports whether got is within frac of want.
func withinFrac(got, want uint64, frac float64) bool {
	d := float64(got) - float64(want)
	return want > 0 && d <= frac*float64(want) && -d <= frac*float64(want)
}

// TestInsideContainerNetRawOnly runs hogs as a container runtime would
// with only cap_net_raw (no cap_net_admin, cap_sys_ptrace, cap_sys_admin,
// cap_bpf): in the container's network and PID namespaces, with its /proc,
// as root. It captures; it attributes a root process of the container
// holding no more capabilities than itself, byte for byte with the
// container interface's counters (0.5 %); the processes it cannot read
// (another user's, and one holding every capability) have no row but their
// bytes are counted (unknown); and it says once each, on stderr, what it
// cannot see and which capability would show it; SIGTERM ends it with
// status 0. Then the table, in the same container under tmux, shows the
// first of those in its footer, and q gives back a sane terminal.
func TestInsideContainerNetRawOnly(t *testing.T) {
	nsA, nsB := netlab.QuietVethPair(t)
	c := newContainer(t, nsA)
	server := startRole(t, nsB, "sink-server", "10.77.0.2:7971")
	if l := server.line(t); l != "listening" {
		t.Fatal(l)
	}
	bin := copyOfHogs(t, "hogs-container-")
	self := mustExecutable(t)
	os.Chmod(filepath.Dir(self), 0o755)

	h := startHogsCmd(t, c.command(netRawOnly, bin, "--json", "-d", "0.5"))
	hogsPID := childOf(t, h.cmd.Process.Pid)
	waitForOutput(t, h, "{")
	before := netlab.ReadCounters(t, nsA, "vA")
	client := func(prefix []string, marker string, bytes int) {
		t.Helper()
		cmd := c.command(prefix, self, marker)
		cmd.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-client", "HOGS_TEST_ADDR=10.77.0.2:7971", "HOGS_TEST_BYTES="+strconv.Itoa(bytes))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", marker, err, out)
		}
	}
	// Refreshes arriving after t: the connections' last packets are in.
	refreshAfter := func(at time.Time) ctrRefresh {
		t.Helper()
		n := strings.Count(h.out.String(), "\n")
		for time.Since(at) < 1200*time.Millisecond || strings.Count(h.out.String(), "\n") < n+2 {
			time.Sleep(50 * time.Millisecond)
		}
		return lastJSON(t, h.out.String())
	}

	client(netRawOnly, "client-root-net-raw", 1_000_000)
	time.Sleep(300 * time.Millisecond)
	wire := netlab.ReadCounters(t, nsA, "vA")
	r := refreshAfter(time.Now())
	d := counterDelta(before, wire)
	sent, recv, pid, ok := r.rowOf("client-root-net-raw")
	if !ok {
		t.Fatalf("no row for the container's root process with cap_net_raw:\n%s\n%s", h.out.String(), h.err.String())
	}
	if !withinFrac(sent, d.TxBytes, 0.005) || !withinFrac(recv, d.RxBytes, 0.005) {
		t.Errorf("client row (container PID %d): sent %d received %d bytes; vA sent %d received %d (want within 0.5 %%)", pid, sent, recv, d.TxBytes, d.RxBytes)
	}
	if pid <= 0 || pid > 100 {
		t.Errorf("client's PID %d: not a PID of the container's namespace", pid)
	}

	client(nobodyUser, "client-nobody", 300_000)
	client(nil, "client-root-all-caps", 300_000)
	time.Sleep(300 * time.Millisecond)
	wire = netlab.ReadCounters(t, nsA, "vA")
	r = refreshAfter(time.Now())
	for _, marker := range []string{"client-nobody", "client-root-all-caps"} {
		if s, rc, pid, ok := r.rowOf(marker); ok {
			t.Errorf("%s has a row (PID %d, %d/%d bytes): hogs with cap_net_raw alone cannot read its /proc/PID/fd", marker, pid, s, rc)
		}
	}
	d = counterDelta(before, wire)
	if s, rc := r.total(); !withinFrac(s, d.TxBytes, 0.01) || !withinFrac(rc, d.RxBytes, 0.01) {
		t.Errorf("all rows: sent %d received %d bytes; vA sent %d received %d (want within 1 %%)", s, rc, d.TxBytes, d.RxBytes)
	}
	for _, cs := range r.Capture {
		if cs.Drops != 0 {
			t.Errorf("%d drops", cs.Drops)
		}
	}

	syscall.Kill(hogsPID, syscall.SIGTERM)
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("hogs after SIGTERM: %v: %s", err, h.err.String())
	}
	want := []string{
		"hogs: warning: no kernel socket events: hogs runs in a PID namespace of its own (a container): the kernel's events name processes by the host's PIDs; connections are tied to processes from /proc alone, so one that closes before hogs looks it up, or whose process has exited, shows as unknown",
		"hogs: warning: other users' processes cannot be tied to their traffic, it shows as unknown: reading their /proc/PID/fd needs cap_dac_read_search and cap_sys_ptrace (run as root, or: setcap cap_net_raw,cap_dac_read_search,cap_sys_ptrace+ep " + bin + ")",
		"hogs: warning: 1 process of this user holds capabilities hogs lacks (PID 1 sleep): their traffic shows as unknown; reading their /proc/PID/fd needs cap_sys_ptrace",
	}
	if got := h.err.String(); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("stderr:\n%s\nwant, once each:\n%s", got, strings.Join(want, "\n"))
	}

	// The table: the first warning in the footer, q, status 0, the
	// terminal restored.
	tm := newTmux(t)
	tm.run("send-keys", "-t", "main", "clear; nsenter -t "+strconv.Itoa(c.initPID)+" -n -p -m -- "+strings.Join(netRawOnly, " ")+" "+bin+" -d 0.5; echo rc=$?", "Enter")
	tm.waitFor("the table with the warning in its footer", func(s string) bool {
		return strings.Contains(s, "TOTAL") && strings.Contains(s, "! no kernel socket events") && strings.Contains(s, "(+2 more; see stderr)")
	})
	tm.quitTable()
	tm.run("send-keys", "-t", "main", "clear; stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ,; echo", "Enter")
	screen := tm.waitFor("stty's answer", func(s string) bool { return strings.Contains(s, "icanon,") })
	if strings.Contains(screen, "-icanon,") || !strings.Contains(screen, "icanon,echo,") {
		t.Errorf("terminal not restored after q:\n%s", screen)
	}
}

// TestInsideContainerAllCapabilities runs hogs as root with every
// capability in a container's network and PID namespaces (a privileged
// container): the kernel socket events, which name processes by the
// host's PIDs, are not used, and it says so once; a root process of the
// container is attributed under its PID in the container, within 0.5 % of
// the interface's counters; nothing else is said.
func TestInsideContainerAllCapabilities(t *testing.T) {
	nsA, nsB := netlab.QuietVethPair(t)
	c := newContainer(t, nsA)
	server := startRole(t, nsB, "sink-server", "10.77.0.2:7972")
	if l := server.line(t); l != "listening" {
		t.Fatal(l)
	}
	h := startHogsCmd(t, c.command(nil, hogsBinary(t), "--json", "-d", "0.5"))
	hogsPID := childOf(t, h.cmd.Process.Pid)
	waitForOutput(t, h, "{")
	before := netlab.ReadCounters(t, nsA, "vA")
	cmd := c.command(nil, mustExecutable(t), "client-privileged")
	cmd.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-client", "HOGS_TEST_ADDR=10.77.0.2:7972", "HOGS_TEST_BYTES=1000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("client: %v: %s", err, out)
	}
	time.Sleep(300 * time.Millisecond)
	d := counterDelta(before, netlab.ReadCounters(t, nsA, "vA"))
	time.Sleep(1200 * time.Millisecond)
	syscall.Kill(hogsPID, syscall.SIGTERM)
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("hogs after SIGTERM: %v: %s", err, h.err.String())
	}
	r := lastJSON(t, h.out.String())
	sent, recv, pid, ok := r.rowOf("client-privileged")
	if !ok || pid <= 0 || pid > 100 {
		t.Fatalf("client row: PID %d (%v), want the client's PID in the container:\n%s", pid, ok, h.out.String())
	}
	if !withinFrac(sent, d.TxBytes, 0.005) || !withinFrac(recv, d.RxBytes, 0.005) {
		t.Errorf("client row: sent %d received %d bytes; vA sent %d received %d (want within 0.5 %%)", sent, recv, d.TxBytes, d.RxBytes)
	}
	want := "hogs: warning: no kernel socket events: hogs runs in a PID namespace of its own (a container): the kernel's events name processes by the host's PIDs; " +
		"connections are tied to processes from /proc alone, so one that closes before hogs looks it up, or whose process has exited, shows as unknown\n"
	if got := h.err.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
}

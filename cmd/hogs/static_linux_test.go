package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"hogs/internal/netlab"
)

// TestStaticBinary: the binary has no interpreter and no dynamic section,
// and with everything in stays within the 10 MB budget.
func TestStaticBinary(t *testing.T) {
	checkStatic(t, hogsBinary(t), 10_000_000)
}

// TestSmallBinary: `make small` (the hogs_small tag: no metrics endpoint,
// no kernel-event attributor) is static, at most 4 MB, replays a capture
// as the full build does, and says --listen is not built in.
func TestSmallBinary(t *testing.T) {
	bin := buildSmall(t)
	checkStatic(t, bin, 4_000_000)
	out, err := exec.Command(bin, "-r", filepath.Join(capturesDir, "veth-ipv4.pcap"), "-v", "2", "-C").Output()
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	goldenFile(t, "replay-ipv4-bytes.txt", out)
	out, err = exec.Command(bin, "--headless", "--listen", "127.0.0.1:9466").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "not built in") {
		t.Errorf("--listen in the small build: %v, %q", err, out)
	}
}

// buildSmall builds hogs as `make small` does into a directory removed
// at the end of the test.
func buildSmall(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hogs-small")
	build := exec.Command("go", "build", "-tags", "hogs_small", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags hogs_small: %v: %s", err, out)
	}
	return bin
}

func checkStatic(t *testing.T, bin string, maxSize int64) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary is not static", p.Type)
		}
	}
	if f.Section(".dynamic") != nil || f.Section(".interp") != nil {
		t.Error("the binary has a .dynamic or .interp section")
	}
	st, _ := os.Stat(bin)
	t.Logf("binary size %d bytes (%.2f MB)", st.Size(), float64(st.Size())/1e6)
	if st.Size() > maxSize {
		t.Errorf("binary is %d bytes, over its %d-byte budget", st.Size(), maxSize)
	}
}

// TestEmptyRoot runs hogs in trace mode in a chroot that holds nothing but
// the binary, with /proc and /sys mounted, and sees a client's row.
func TestEmptyRoot(t *testing.T) {
	nsA, nsB := netlab.QuietVethPair(t)
	root := t.TempDir()
	for _, d := range []string{"proc", "sys"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(hogsBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "hogs"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	server := startRole(t, nsB, "echo-server", "10.77.0.2:8000", "1")
	server.line(t)
	// ip netns exec gives the shell a mount namespace of its own: the
	// mounts vanish with it.
	script := "mount -t proc proc " + root + "/proc && mount -t sysfs sysfs " + root + "/sys && exec chroot " + root + " /hogs -t -v 2 -d 0.5"
	h := &hogsRun{cmd: exec.Command("ip", "netns", "exec", nsA, "sh", "-c", script)}
	h.cmd.Stdout, h.cmd.Stderr = &h.out, &h.err
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.cmd.Process.Kill(); h.cmd.Wait() })
	waitForOutput(t, h, "Refreshing:")
	cli := inNamespace(nsA, mustExecutable(t))
	cli.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-client", "HOGS_TEST_ADDR=10.77.0.2:8000", "HOGS_TEST_BYTES=300000")
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("client: %v %s", err, out)
	}
	last := h.last(t)
	if v, ok := last.byPID(cli.Process.Pid); !ok || v[0] < 300000 {
		t.Errorf("in an empty root: client row %v (%v), want its 300 kB\n%s\n%s", v, ok, h.out.String(), h.err.String())
	}
	// No /etc/passwd in the root: the user shows as its uid.
	if !strings.Contains(h.out.String(), "/"+strconv.Itoa(cli.Process.Pid)+"/0\t") {
		t.Errorf("row format: %s", h.out.String())
	}
}

// TestSetcapUser runs hogs as an unprivileged user from a copy of the
// binary given cap_net_raw alone with setcap, as the missing-capability
// message advises: it captures, puts the device in promiscuous mode (-p
// needs no cap_net_admin), and sees the row of a process of the same user.
func TestSetcapUser(t *testing.T) {
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		t.Skip("needs setcap (libcap2-bin)")
	}
	nsA, nsB := netlab.QuietVethPair(t)
	bin := copyOfHogs(t, "hogs-setcap-")
	if out, err := exec.Command(setcap, "cap_net_raw+ep", bin).CombinedOutput(); err != nil {
		t.Skipf("setcap refused here (%v: %s): file capabilities unsupported", err, out)
	}
	server := startRole(t, nsB, "echo-server", "10.77.0.2:8100", "1")
	server.line(t)
	asNobody := func(args ...string) *exec.Cmd {
		return exec.Command("ip", append([]string{"netns", "exec", nsA, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}, args...)...)
	}
	h := &hogsRun{cmd: asNobody(bin, "-t", "-p", "-v", "2", "-d", "0.5")}
	h.cmd.Stdout, h.cmd.Stderr = &h.out, &h.err
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.cmd.Process.Kill(); h.cmd.Wait() })
	waitForOutput(t, h, "Refreshing:")
	if out := netlab.IP(t, nsA, "-d", "link", "show", "dev", "vA"); !strings.Contains(out, "promiscuity 1") {
		t.Errorf("-p with cap_net_raw alone: device not promiscuous: %s", out)
	}
	self := mustExecutable(t)
	os.Chmod(filepath.Dir(self), 0o755)
	cli := asNobody(self)
	cli.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-client", "HOGS_TEST_ADDR=10.77.0.2:8100", "HOGS_TEST_BYTES=300000")
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("client: %v %s", err, out)
	}
	last := h.last(t)
	if v, ok := last.byPID(cli.Process.Pid); !ok || v[0] < 300000 {
		t.Errorf("hogs as nobody with capabilities: client row %v (%v)\n%s\n%s", v, ok, h.out.String(), h.err.String())
	}
	// Not silent about what it cannot see: kernel socket events and other
	// users' processes, each in one line naming the capabilities.
	for _, want := range []string{
		"hogs: warning: no kernel socket events: needs CAP_BPF and CAP_PERFMON (or root); connections are tied to processes from /proc alone",
		"hogs: warning: other users' processes cannot be tied to their traffic, it shows as unknown: reading their /proc/PID/fd needs cap_dac_read_search and cap_sys_ptrace (run as root, or: setcap cap_net_raw,cap_dac_read_search,cap_sys_ptrace+ep " + bin + ")",
	} {
		if n := countLinesWithPrefix(h.err.String(), want); n != 1 {
			t.Errorf("stderr has %d lines starting %q, want 1:\n%s", n, want, h.err.String())
		}
	}
}

// countLinesWithPrefix counts the lines of text that start with prefix.
func countLinesWithPrefix(text, prefix string) int {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestSignalsExitCleanly: SIGINT and SIGTERM end hogs with status 0, and
// the promiscuous mode -p turned on is off again.
func TestSignalsExitCleanly(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		nsA, _ := netlab.QuietVethPair(t)
		h := startHogs(t, nsA, "-t", "-p", "-d", "0.2")
		waitForOutput(t, h, "Refreshing:")
		promiscuity := func() string {
			out := netlab.IP(t, nsA, "-d", "link", "show", "dev", "vA")
			i := strings.Index(out, "promiscuity ")
			if i < 0 {
				t.Fatalf("no promiscuity in %q", out)
			}
			return strings.Fields(out[i:])[1]
		}
		if p := promiscuity(); p != "1" {
			t.Errorf("-p: promiscuity %s while running, want 1", p)
		}
		h.cmd.Process.Signal(sig)
		if err := h.cmd.Wait(); err != nil {
			t.Errorf("after %v: %v (stderr %q), want exit status 0", sig, err, h.err.String())
		}
		if p := promiscuity(); p != "0" {
			t.Errorf("after %v: promiscuity %s, want 0", sig, p)
		}
	}
}

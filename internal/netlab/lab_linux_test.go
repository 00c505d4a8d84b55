package netlab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// registered reports how many processes l still records.
func registered(l *Lab) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.procs)
}

// startPlain starts argv as a Proc in the test's own namespace (no root
// needed): everything StartIn does but the `ip netns exec` prefix.
func startPlain(t *testing.T, l *Lab, stdout io.Writer, argv ...string) *Proc {
	t.Helper()
	p, err := l.Start(argv[0], exec.Command(argv[0], argv[1:]...), stdout, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Cmd.Process.Kill(); <-p.Done() })
	return p
}

func TestProcExit(t *testing.T) {
	l := NewLab()
	var out, errOut bytes.Buffer
	p, err := l.Start("sh", exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"), &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Wait(10 * time.Second) {
		t.Fatal("sh did not exit")
	}
	if !p.Exited() || p.Status() != "exit status 3" {
		t.Errorf("Exited %v, Status %q; want true, \"exit status 3\"", p.Exited(), p.Status())
	}
	var ee *exec.ExitError
	if !errors.As(p.WaitErr, &ee) || ee.ExitCode() != 3 {
		t.Errorf("WaitErr = %v, want exit status 3", p.WaitErr)
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done not closed after Wait")
	}
	if out.String() != "out\n" || errOut.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	if killed, took := p.Stop(time.Second); killed || took != 0 {
		t.Errorf("Stop after exit = %v, %v; want false, 0", killed, took)
	}
	if n := registered(l); n != 0 {
		t.Errorf("the lab still records %d processes", n)
	}
}

func TestProcStopTerm(t *testing.T) {
	l := NewLab()
	p := startPlain(t, l, nil, "sleep", "60")
	if pgid, err := syscall.Getpgid(p.PID()); err != nil || pgid != p.PID() {
		t.Errorf("process group %d, %v; want its own (%d)", pgid, err, p.PID())
	}
	if p.Wait(50*time.Millisecond) || p.Exited() || p.Status() != "running" {
		t.Fatalf("sleep 60 not running: Exited %v, Status %q", p.Exited(), p.Status())
	}
	if n := registered(l); n != 1 {
		t.Errorf("the lab records %d processes, want 1", n)
	}
	killed, took := p.Stop(10 * time.Second)
	if killed || took <= 0 || took > 5*time.Second {
		t.Errorf("Stop = %v, %v; want SIGTERM enough", killed, took)
	}
	if !p.Exited() || p.Status() != "signal: terminated" {
		t.Errorf("after Stop: Exited %v, Status %q", p.Exited(), p.Status())
	}
	if n := registered(l); n != 0 {
		t.Errorf("the lab still records %d processes", n)
	}
}

func TestProcStopKill(t *testing.T) {
	l := NewLab()
	// A pipe, not a buffer: the test reads it while the shell runs.
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	// The shell ignores SIGTERM: only SIGKILL stops it.
	p := startPlain(t, l, wr, "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done")
	wr.Close()
	rd.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(rd).ReadString('\n'); line != "ready\n" {
		t.Fatalf("no ready line: %q, %v", line, err)
	}
	p.Signal(syscall.SIGTERM) // ignored
	if p.Wait(100 * time.Millisecond) {
		t.Fatalf("SIGTERM not ignored: %s", p.Status())
	}
	const grace = 200 * time.Millisecond
	killed, took := p.Stop(grace)
	if !killed || took < grace {
		t.Errorf("Stop = %v, %v; want SIGKILL after %v", killed, took, grace)
	}
	if !p.Exited() || p.Status() != "signal: killed" {
		t.Errorf("after Stop: Exited %v, Status %q", p.Exited(), p.Status())
	}
	p.Signal(syscall.SIGTERM) // exited: a no-op
}

// TestCleanupKills: Cleanup kills what still runs and refuses new work.
func TestCleanupKills(t *testing.T) {
	l := NewLab()
	p := startPlain(t, l, nil, "sleep", "60")
	if err := l.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if !p.Wait(5*time.Second) || p.Status() != "signal: killed" {
		t.Errorf("after Cleanup: %s", p.Status())
	}
	if _, err := l.StartIn("x", "no-such-ns", nil, nil, "true"); !errors.Is(err, ErrStopping) {
		t.Errorf("StartIn after Cleanup: %v, want ErrStopping", err)
	}
	if err := l.AddNetns("no-such-ns"); !errors.Is(err, ErrStopping) {
		t.Errorf("AddNetns after Cleanup: %v, want ErrStopping", err)
	}
}

func TestInNetnsMissing(t *testing.T) {
	ran := false
	err := InNetns("hogs-no-such-namespace", func() { ran = true })
	if err == nil || ran || !strings.Contains(err.Error(), "hogs-no-such-namespace") {
		t.Errorf("InNetns(missing) = %v, ran %v; want an error naming it, f not run", err, ran)
	}
	if err := SetSysctl("x", "no-equals-sign"); err == nil || !strings.Contains(err.Error(), "KEY=VALUE") {
		t.Errorf("SetSysctl without '=': %v", err)
	}
}

// TestPair builds a quiet pair and checks what its contract says: only
// the packets sent cross the link, InNetns and StartIn run inside the
// namespaces, Cleanup removes them.
func TestPair(t *testing.T) {
	SkipUnlessAdmin(t)
	l := NewLab()
	t.Cleanup(func() { l.Cleanup() })
	p, err := l.NewPair(PairConfig{Prefix: "hogs-netlab-test", AddrA: "10.79.0.1", AddrB: "10.79.0.2",
		MACA: "02:79:00:00:00:01", MACB: "02:79:00:00:00:02", SysctlsB: []string{"net.ipv4.tcp_autocorking=0"}, LoopbackUp: true})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Owns(p.A) || !l.Owns(p.B) || l.Owns("hogs-other") {
		t.Errorf("Owns: %v %v %v", l.Owns(p.A), l.Owns(p.B), l.Owns("hogs-other"))
	}
	if mac := MAC(t, p.B, "vB"); mac != "02:79:00:00:00:02" {
		t.Errorf("vB's MAC %s", mac)
	}
	var autocork []byte
	Run(t, p.B, func() { autocork, err = os.ReadFile("/proc/sys/net/ipv4/tcp_autocorking") })
	if err != nil || string(autocork) != "0\n" {
		t.Errorf("tcp_autocorking in B = %q, %v; want 0", autocork, err)
	}

	c0 := ReadCounters(t, p.A, "vA")
	time.Sleep(200 * time.Millisecond)
	var recvErr error
	var got []byte
	Run(t, p.A, func() {
		conn, err := net.ListenPacket("udp4", "10.79.0.1:9999")
		if err != nil {
			recvErr = err
			return
		}
		defer conn.Close()
		Run(t, p.B, func() {
			c, err := net.Dial("udp4", "10.79.0.1:9999")
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.Write([]byte("hello"))
		})
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 64)
		n, _, err := conn.ReadFrom(buf)
		got, recvErr = buf[:n], err
	})
	if recvErr != nil || string(got) != "hello" {
		t.Fatalf("datagram over the pair: %q, %v", got, recvErr)
	}
	d := ReadCounters(t, p.A, "vA").Sub(c0)
	if d != (Counters{RxPackets: 1, RxBytes: 14 + 20 + 8 + 5}) {
		t.Errorf("vA counted %+v for one 5-byte datagram: the link is not quiet", d)
	}

	var out bytes.Buffer
	proc, err := l.StartIn("sh", p.A, &out, &out, "sh", "-c", "echo $$; readlink /proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if !proc.Wait(10*time.Second) || proc.WaitErr != nil {
		t.Fatalf("sh: %s: %s", proc.Status(), out.String())
	}
	f := strings.Fields(out.String())
	if len(f) != 2 {
		t.Fatalf("output %q", out.String())
	}
	if pid, _ := strconv.Atoi(f[0]); pid != proc.PID() {
		t.Errorf("program PID %s, Proc PID %d: ip netns exec did not exec it?", f[0], proc.PID())
	}
	if self, _ := os.Readlink("/proc/self/ns/net"); f[1] == self {
		t.Errorf("program ran in the test's own namespace %s", self)
	}

	if err := l.Cleanup(); err != nil {
		t.Fatal(err)
	}
	list, _ := RunIP("", "netns", "list")
	if strings.Contains(list, p.A) || strings.Contains(list, p.B) {
		t.Errorf("namespaces left after Cleanup: %s", list)
	}
}

// TestTestHelpers: New and QuietVethPair give namespaces that t.Cleanup
// removes.
func TestTestHelpers(t *testing.T) {
	SkipUnlessAdmin(t)
	var ns, a, b string
	t.Run("inner", func(t *testing.T) {
		ns = New(t)
		a, b = QuietVethPair(t)
		if out := IP(t, a, "-j", "addr", "show", "dev", "vA"); !strings.Contains(out, "10.77.0.1") {
			t.Errorf("vA: %s", out)
		}
	})
	list, _ := RunIP("", "netns", "list")
	for _, n := range []string{ns, a, b} {
		if n == "" || strings.Contains(list, n) {
			t.Errorf("namespace %q not removed by t.Cleanup", n)
		}
	}
}

// TestServiceCgroup: a program started with Enter is in the service's
// cgroup from its start (its /proc/PID/cgroup says so), its children too,
// and Remove takes the cgroup and its slice away even with a process
// still inside.
func TestServiceCgroup(t *testing.T) {
	SkipUnlessAdmin(t)
	c, err := NewServiceCgroup("lab")
	if err != nil {
		t.Skipf("needs a writable cgroup2 mount: %v", err)
	}
	t.Cleanup(func() { c.Remove() })
	if !strings.HasSuffix(c.Path, "/"+c.Unit) || !strings.HasPrefix(c.Path, "/hogs-test-") || !strings.HasSuffix(c.Unit, ".service") {
		t.Errorf("cgroup %+v: want /hogs-test-X.slice/hogs-lab-X.service", c)
	}
	cmd := exec.Command("sh", "-c", "cat /proc/self/cgroup; sleep 30 & echo child $!; wait")
	c.Enter(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(out)
	var lines []string
	child := 0
	for child == 0 {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%v after %q", err, lines)
		}
		lines = append(lines, l)
		fmt.Sscanf(l, "child %d", &child)
	}
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	if !strings.Contains(strings.Join(lines, ""), "0::"+c.Path+"\n") {
		t.Errorf("/proc/self/cgroup of a program started in %s: %q", c.Path, lines)
	}
	pids, err := c.Procs()
	if err != nil || !slices.Contains(pids, cmd.Process.Pid) || !slices.Contains(pids, child) {
		t.Errorf("cgroup.procs %v (%v), want %d and its child %d", pids, err, cmd.Process.Pid, child)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(c.Dir)); !os.IsNotExist(err) {
		t.Errorf("slice %s still there: %v", filepath.Dir(c.Dir), err)
	}
}

package vethlab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// comm with a space and a parenthesis; utime 1234, stime 56.
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 3 0 12345 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	ticks, comm, err := ParseStat([]byte(stat))
	if err != nil || ticks != 1290 || comm != "a (b) c" {
		t.Fatalf("parseStat = %d, %q, %v; want 1290, \"a (b) c\", nil", ticks, comm, err)
	}
	if _, _, err := ParseStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("short stat: no error")
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\thogs\nVmPeak:\t  20000 kB\nVmHWM:\t   12288 kB\nVmRSS:\t   10240 kB\nThreads:\t5\n"
	m, err := ParseStatus([]byte(status))
	if err != nil || m.RSS != 10240 || m.HWM != 12288 {
		t.Fatalf("parseStatus = %+v, %v", m, err)
	}
	if _, err := ParseStatus([]byte("Name:\tzombie\nState:\tZ (zombie)\n")); err == nil {
		t.Error("zombie status: no error")
	}
}

func TestParseCounters(t *testing.T) {
	js := `[{"ifindex":2,"ifname":"vA","stats64":{"rx":{"bytes":1000,"packets":10,"errors":0},"tx":{"bytes":200,"packets":2}}}]`
	c, err := ParseCounters([]byte(js))
	if err != nil || c != (Counters{RxPackets: 10, RxBytes: 1000, TxPackets: 2, TxBytes: 200}) {
		t.Fatalf("parseCounters = %+v, %v", c, err)
	}
	if _, err := ParseCounters([]byte(`[{"ifname":"vA"}]`)); err == nil {
		t.Error("no stats64: no error")
	}
}

func TestParseSched(t *testing.T) {
	sched := "hogs (4242, #threads: 5)\n---\nse.exec_start : 1.5\nse.sum_exec_runtime :   12.345678\nnr_switches : 30\nnr_voluntary_switches : 20\nnr_involuntary_switches : 10\n"
	s, err := ParseSched([]byte(sched))
	if err != nil || s.Ms != 12.345678 || s.Voluntary != 20 || s.Involuntary != 10 {
		t.Fatalf("parseSched = %+v, %v", s, err)
	}
}

// registered reports how many processes r still records.
func registered(r *Registry) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.procs)
}

// startPlain starts argv as a Proc without a namespace (no root needed):
// everything StartIn does but the `ip netns exec` prefix.
func startPlain(t *testing.T, r *Registry, stdout, stderr io.Writer, argv ...string) *Proc {
	t.Helper()
	p, err := r.start(argv[0], exec.Command(argv[0], argv[1:]...), stdout, stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Cmd.Process.Kill(); <-p.Done() })
	return p
}

func TestProcExit(t *testing.T) {
	r := NewRegistry("test")
	var out, errOut bytes.Buffer
	p := startPlain(t, r, &out, &errOut, "sh", "-c", "echo out; echo err >&2; exit 3")
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
	if n := registered(r); n != 0 {
		t.Errorf("registry still records %d processes", n)
	}
}

func TestProcStopTerm(t *testing.T) {
	r := NewRegistry("test")
	p := startPlain(t, r, nil, nil, "sleep", "60")
	if pgid, err := syscall.Getpgid(p.PID()); err != nil || pgid != p.PID() {
		t.Errorf("process group %d, %v; want its own (%d)", pgid, err, p.PID())
	}
	if p.Wait(50*time.Millisecond) || p.Exited() || p.Status() != "running" {
		t.Fatalf("sleep 60 not running: Exited %v, Status %q", p.Exited(), p.Status())
	}
	if n := registered(r); n != 1 {
		t.Errorf("registry records %d processes, want 1", n)
	}
	killed, took := p.Stop(10 * time.Second)
	if killed || took <= 0 || took > 5*time.Second {
		t.Errorf("Stop = %v, %v; want SIGTERM enough", killed, took)
	}
	if !p.Exited() || p.Status() != "signal: terminated" {
		t.Errorf("after Stop: Exited %v, Status %q", p.Exited(), p.Status())
	}
	if n := registered(r); n != 0 {
		t.Errorf("registry still records %d processes", n)
	}
}

func TestProcStopKill(t *testing.T) {
	r := NewRegistry("test")
	// A pipe, not a buffer: the test reads it while the shell runs.
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	// The shell ignores SIGTERM: only SIGKILL stops it.
	p := startPlain(t, r, wr, nil, "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done")
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

func TestStartInStopping(t *testing.T) {
	r := NewRegistry("test")
	r.Cleanup()
	if _, err := r.StartIn("x", "no-such-ns", nil, nil, "true"); !errors.Is(err, ErrStopping) {
		t.Errorf("StartIn after Cleanup: %v, want ErrStopping", err)
	}
}

// TestStartIn runs a program in a fresh namespace: root only.
func TestStartIn(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: cannot create a network namespace (the process handling is tested without one)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2)")
	}
	r := NewRegistry("test")
	ns := fmt.Sprintf("hogs-vethlab-test-%08x", rand.Uint32())
	if err := r.AddNetns(ns); err != nil {
		t.Fatal(err)
	}
	defer func() {
		r.Cleanup()
		if out, _ := IP("", "netns", "list"); strings.Contains(out, ns) {
			t.Errorf("namespace %s left after Cleanup", ns)
		}
	}()
	var out, errOut bytes.Buffer
	p, err := r.StartIn("sh", ns, &out, &errOut, "sh", "-c", "echo $$; readlink /proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Wait(10 * time.Second) {
		t.Fatal("sh did not exit")
	}
	if p.WaitErr != nil {
		t.Fatalf("sh: %v: %s", p.WaitErr, errOut.String())
	}
	f := strings.Fields(out.String())
	if len(f) != 2 {
		t.Fatalf("output %q", out.String())
	}
	if pid, _ := strconv.Atoi(f[0]); pid != p.PID() {
		t.Errorf("program PID %s, Proc PID %d: ip netns exec did not exec it?", f[0], p.PID())
	}
	if self, _ := os.Readlink("/proc/self/ns/net"); f[1] == self {
		t.Errorf("program ran in the test's own namespace %s", self)
	}
}

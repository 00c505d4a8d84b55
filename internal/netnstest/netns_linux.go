// Package netnstest builds network namespaces for hogs's live tests: it
// creates them (ip netns), runs code inside them on a locked OS thread,
// connects them with quiet veth pairs, and reads interface counters. Every
// namespace it creates is removed by t.Cleanup. It needs root and iproute2,
// and skips the test with a message saying so otherwise. Traffic in these
// tests stays inside the namespaces.
package netnstest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// SkipUnlessAdmin skips t, saying why, unless the test can create
// network namespaces: it must run as root, with iproute2's ip on PATH.
func SkipUnlessAdmin(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces: run as root (e.g. sudo make test)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command to create network namespaces: ", err)
	}
}

// New creates a fresh named network namespace (ip netns add
// hogs-test-<random>), removes it with t.Cleanup, and returns its name. It
// skips the test when it cannot create namespaces (see
// SkipUnlessAdmin). Cleanups registered after it run before the
// namespace is removed, so sockets opened in it can be closed first.
func New(t *testing.T) string {
	t.Helper()
	SkipUnlessAdmin(t)
	name := fmt.Sprintf("hogs-test-%08x", rand.Uint32())
	IP(t, "", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	return name
}

// Run runs f on a locked OS thread that has joined the namespace
// (unix.Setns on /run/netns/NAME), and restores the thread's original
// namespace afterwards; if restoring fails the thread stays locked, so the
// runtime discards it. f runs on its own goroutine, which Run waits for:
// the test's goroutine never changes namespace. f may call t.Fatal, t.Skip
// and friends; Run then stops the test's goroutine the same way. A
// panic in f is re-raised on the caller's goroutine.
func Run(t *testing.T, name string, f func()) {
	t.Helper()
	target, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening network namespace %s: %v", name, err)
	}
	defer unix.Close(target)

	var (
		done       = make(chan struct{})
		setupErr   error
		restoreErr error
		returned   bool // f returned normally
		panicValue any
	)
	go func() {
		defer close(done)
		runtime.LockOSThread()
		original, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			setupErr = fmt.Errorf("opening this thread's network namespace: %w", err)
			return
		}
		defer unix.Close(original)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			setupErr = fmt.Errorf("joining network namespace %s: %w", name, err)
			return
		}
		defer func() {
			if err := unix.Setns(original, unix.CLONE_NEWNET); err != nil {
				// Still locked: the thread dies with this goroutine.
				restoreErr = err
				return
			}
			runtime.UnlockOSThread()
		}()
		defer func() {
			if !returned {
				panicValue = recover() // nil when f called runtime.Goexit (t.FailNow, t.SkipNow)
			}
		}()
		f()
		returned = true
	}()
	<-done

	switch {
	case setupErr != nil:
		t.Fatal(setupErr)
	case restoreErr != nil:
		t.Errorf("restoring the original network namespace after running in %s: %v (thread discarded)", name, restoreErr)
	}
	if panicValue != nil {
		panic(panicValue)
	}
	if !returned {
		if t.Skipped() {
			t.SkipNow()
		}
		t.FailNow()
	}
}

// IP runs `ip -n NAME args...` (or plain `ip args...` when ns is "") and
// returns its output; it fails the test with the output on error.
func IP(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := RunIP(ns, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// RunIP is IP returning its failure, for steps a kernel may not support.
func RunIP(ns string, args ...string) (string, error) {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Counters reads a device's kernel counters inside a namespace.
type Counters struct {
	RxPackets, RxBytes, TxPackets, TxBytes uint64
}

func ReadCounters(t *testing.T, ns, dev string) Counters {
	t.Helper()
	out := IP(t, ns, "-s", "-j", "link", "show", "dev", dev)
	var links []struct {
		Stats64 struct {
			Rx struct{ Bytes, Packets uint64 } `json:"rx"`
			Tx struct{ Bytes, Packets uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s -j link show %s: %v: %s", dev, err, out)
	}
	s := links[0].Stats64
	return Counters{RxPackets: s.Rx.Packets, RxBytes: s.Rx.Bytes, TxPackets: s.Tx.Packets, TxBytes: s.Tx.Bytes}
}

// QuietVethPair connects two fresh namespaces with a veth pair vA/vB
// addressed 10.77.0.1/24 and 10.77.0.2/24, with IPv6 off and static ARP
// entries and multicast off, so that the only packets on the link are the
// ones the test sends. It returns the namespace names.
func QuietVethPair(t *testing.T) (nsA, nsB string) {
	t.Helper()
	nsA, nsB = New(t), New(t)
	IP(t, nsA, "link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", nsB)
	for _, side := range []struct{ ns, dev, addr string }{{nsA, "vA", "10.77.0.1/24"}, {nsB, "vB", "10.77.0.2/24"}} {
		Sysctl(t, side.ns, "net.ipv4.igmp_link_local_mcast_reports=0")
		Sysctl(t, side.ns, "net.ipv6.conf.all.disable_ipv6=1")
		Sysctl(t, side.ns, "net.ipv6.conf.default.disable_ipv6=1")
		Sysctl(t, side.ns, "net.ipv6.conf."+side.dev+".disable_ipv6=1")
		IP(t, side.ns, "addr", "add", side.addr, "dev", side.dev)
	}
	macA, macB := MAC(t, nsA, "vA"), MAC(t, nsB, "vB")
	IP(t, nsA, "neigh", "add", "10.77.0.2", "lladdr", macB, "dev", "vA", "nud", "permanent")
	IP(t, nsB, "neigh", "add", "10.77.0.1", "lladdr", macA, "dev", "vB", "nud", "permanent")
	// No IGMP or other multicast chatter either.
	IP(t, nsA, "link", "set", "vA", "multicast", "off", "up")
	IP(t, nsB, "link", "set", "vB", "multicast", "off", "up")
	return nsA, nsB
}

func Sysctl(t *testing.T, ns, setting string) {
	t.Helper()
	key, value, _ := strings.Cut(setting, "=")
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	Run(t, ns, func() {
		// /proc/sys/net is the namespace of the thread that opens it.
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			t.Errorf("Sysctl %s in %s: %v", setting, ns, err)
		}
	})
}

func MAC(t *testing.T, ns, dev string) string {
	t.Helper()
	var links []struct {
		Address string `json:"address"`
	}
	out := IP(t, ns, "-j", "link", "show", "dev", dev)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("reading MAC of %s: %v: %s", dev, err, out)
	}
	return links[0].Address
}

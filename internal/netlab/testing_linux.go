package netlab

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

// The helpers below are for tests: each does what the error-returning
// function of the same job does, skips the test when it cannot create
// namespaces, and fails it on error.

// SkipUnlessAdmin skips t, saying why, unless the test can create network
// namespaces: it must run as root, with iproute2's ip on PATH.
func SkipUnlessAdmin(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces: run as root (e.g. sudo make test)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command to create network namespaces: ", err)
	}
}

// testLab is a Lab whose Cleanup runs in t.Cleanup: cleanups registered
// after it run first, so sockets and processes of the test go before the
// namespace does.
func testLab(t testing.TB) *Lab {
	t.Helper()
	SkipUnlessAdmin(t)
	l := NewLab()
	t.Cleanup(func() {
		if err := l.Cleanup(); err != nil {
			t.Errorf("removing the test's namespaces: %v", err)
		}
	})
	return l
}

// New creates a fresh namespace hogs-test-XXXXXXXX, removed by t.Cleanup,
// and returns its name.
func New(t testing.TB) string {
	t.Helper()
	name := RandomName("hogs-test")
	if err := testLab(t).AddNetns(name); err != nil {
		t.Fatal(err)
	}
	return name
}

// QuietVethPair connects two fresh namespaces with a quiet veth pair (see
// NewPair) vA 10.77.0.1/24 – vB 10.77.0.2/24, lo left down, removed by
// t.Cleanup. It returns the namespace names.
func QuietVethPair(t testing.TB) (nsA, nsB string) {
	t.Helper()
	p, err := testLab(t).NewPair(PairConfig{
		Prefix: "hogs-test", AddrA: "10.77.0.1", AddrB: "10.77.0.2",
		MACA: "02:77:00:00:00:01", MACB: "02:77:00:00:00:02",
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.A, p.B
}

// Service creates a service-shaped cgroup (NewServiceCgroup) for the
// test's programs to start in (ServiceCgroup.Enter), removed by
// t.Cleanup: after the cleanups of the processes started later, which end
// them first. Without root it skips; without a writable cgroup2 mount it
// skips saying so, and under CI=true fails instead.
func Service(t testing.TB, name string) *ServiceCgroup {
	t.Helper()
	SkipUnlessAdmin(t)
	c, err := NewServiceCgroup(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("a service-shaped cgroup for the test's programs (CI must have a writable cgroup2 mount): %v", err)
		}
		t.Skipf("needs a writable cgroup2 mount to run the test's programs in a service's cgroup: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Remove(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// Run runs f inside namespace name (InNetns). f may call t.Fatal, t.Skip
// and friends; Run then stops the test's goroutine the same way.
func Run(t testing.TB, name string, f func()) {
	t.Helper()
	err := InNetns(name, f)
	switch {
	case errors.Is(err, ErrGoexit) && t.Skipped():
		t.SkipNow()
	case errors.Is(err, ErrGoexit):
		t.FailNow()
	case err != nil:
		t.Fatal(err)
	}
}

// IP runs `ip -n NS args...` (plain `ip args...` when ns is "") and returns
// its output.
func IP(t testing.TB, ns string, args ...string) string {
	t.Helper()
	out, err := RunIP(ns, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Sysctl sets KEY=VALUE inside namespace ns.
func Sysctl(t testing.TB, ns, setting string) {
	t.Helper()
	if err := SetSysctl(ns, setting); err != nil {
		t.Error(err)
	}
}

// MAC is device dev's MAC address in namespace ns.
func MAC(t testing.TB, ns, dev string) string {
	t.Helper()
	mac, err := LinkMAC(ns, dev)
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// ReadCounters reads device dev's kernel counters in namespace ns.
func ReadCounters(t testing.TB, ns, dev string) Counters {
	t.Helper()
	c, err := DeviceCounters(ns, dev)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

package names

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNameAsync: the first Name of an address queues it and answers at
// once; the answer shows once looked up; a failure shows as no name and
// is not asked again until its negative entry expires.
func TestNameAsync(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	r := New(Config{PerSecond: 1000, NegativeTTL: time.Minute,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Lookup: func(ctx context.Context, addr string) ([]string, error) {
			calls.Add(1)
			<-release
			if addr == "192.0.2.1" {
				return []string{"www.example.com."}, nil
			}
			return nil, errors.New("NXDOMAIN")
		}})
	defer r.Close()
	good, bad := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::ffff:192.0.2.2")
	start := time.Now()
	if n, ok := r.Name(good); ok || n != "" {
		t.Fatalf("first Name = %q, %v: want nothing yet", n, ok)
	}
	r.Name(bad)
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("Name blocked on a lookup")
	}
	r.Name(good) // pending: not queued twice
	close(release)
	waitFor(t, "the name", func() bool { n, ok := r.Name(good); return ok && n == "www.example.com" })
	waitFor(t, "the failure", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		e := r.cache[bad.Unmap()]
		return e != nil && !e.pending
	})
	if n, ok := r.Name(bad); ok || n != "" {
		t.Errorf("failed lookup: %q, %v", n, ok)
	}
	if c := calls.Load(); c != 2 {
		t.Errorf("%d lookups for two addresses", c)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute) // the failure expired; the name has not
	mu.Unlock()
	r.Name(good)
	r.Name(bad)
	waitFor(t, "the retry", func() bool { return calls.Load() == 3 })
}

// TestBounded: a flood of addresses keeps the cache within MaxEntries and
// the lookups within PerSecond.
func TestBounded(t *testing.T) {
	var calls atomic.Int32
	r := New(Config{PerSecond: 50, MaxEntries: 100, MaxQueued: 10,
		Lookup: func(ctx context.Context, addr string) ([]string, error) {
			calls.Add(1)
			return []string{"h" + addr}, nil
		}})
	start := time.Now()
	for i := range 100_000 {
		r.Name(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		if r.Len() > 100 {
			t.Fatalf("cache grew to %d entries", r.Len())
		}
	}
	time.Sleep(500 * time.Millisecond)
	r.Close()
	elapsed := time.Since(start).Seconds()
	if c := float64(calls.Load()); c > 50*elapsed+2 {
		t.Errorf("%.0f lookups in %.2f s with 50 a second allowed", c, elapsed)
	}
	if calls.Load() == 0 {
		t.Error("no lookup at all")
	}
	t.Logf("%d lookups in %.2f s, %d cached", calls.Load(), elapsed, r.Len())
}

// TestLongNameCut: a name longer than DNS allows is cut.
func TestLongNameCut(t *testing.T) {
	long := fmt.Sprintf("%0300d", 0)
	r := New(Config{PerSecond: 1000, Lookup: func(context.Context, string) ([]string, error) { return []string{long}, nil }})
	defer r.Close()
	a := netip.MustParseAddr("2001:db8::1")
	r.Name(a)
	waitFor(t, "the name", func() bool { n, ok := r.Name(a); return ok && len(n) == maxNameLen })
}

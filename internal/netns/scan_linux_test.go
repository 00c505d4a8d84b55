package netns

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestParseNSLink(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"net:[4026531840]", 4026531840, true},
		{"net:[1]", 1, true},
		{"net:[4294967295]", 1<<32 - 1, true},
		{"net:[4294967296]", 0, false}, // nsfs inodes are 32 bits
		{"net:[0]", 0, false},
		{"net:[01]", 0, false},
		{"net:[+1]", 0, false},
		{"net:[]", 0, false},
		{"net:[12", 0, false},
		{"mnt:[4026531841]", 0, false},
		{"socket:[123]", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseNSLink(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseNSLink(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestScanFixture(t *testing.T) {
	s, err := NewScanner(Config{ProcRoot: "testdata/proc", MountDirs: []string{"testdata/mounts", "testdata/missing"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Scan(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Namespace{
		{Inode: 4026531840, Self: true, PID: 1, Processes: 2},
		{Inode: 4026532001, PID: 20, Processes: 2},
		{Inode: 4026532777, PID: 301, Processes: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Scan =\n  %+v, want\n  %+v", got, want)
	}
	if st := s.Stats(); st.Processes != 5 || st.Denied != 0 || !st.Full {
		t.Errorf("Stats = %+v, want 5 processes (400's link is not a net namespace), a full pass", st)
	}
	if s.Self() != 4026531840 {
		t.Errorf("Self = %d", s.Self())
	}
	// Fixture links point nowhere: Open fails, naming the namespace.
	if _, err := s.Open(4026532001); err == nil {
		t.Error("Open of a fixture namespace succeeded")
	}
	if _, err := s.Open(12345); err == nil {
		t.Error("Open of a namespace no scan found succeeded")
	}
}

// setLink makes ROOT/PID/ns/net link to net:[inode].
func setLink(t *testing.T, root string, pid int, inode uint32) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(pid), "ns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "net"))
	if err := os.Symlink("net:["+strconv.FormatUint(uint64(inode), 10)+"]", filepath.Join(dir, "net")); err != nil {
		t.Fatal(err)
	}
}

// fixtureProc makes a proc root whose thread-self is in namespace 100,
// and returns it with a function that sets loadavg's last PID.
func fixtureProc(t *testing.T) (root string, lastPID func(pid int)) {
	t.Helper()
	root = t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "thread-self", "ns"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("net:[100]", filepath.Join(root, "thread-self", "ns", "net")); err != nil {
		t.Fatal(err)
	}
	return root, func(pid int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, "loadavg"), fmt.Appendf(nil, "0.00 0.01 0.05 1/123 %d\n", pid), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// scanInodes runs scan and returns the inodes of the namespaces it found.
func scanInodes(t *testing.T, scan func([]Namespace) ([]Namespace, error)) []uint32 {
	t.Helper()
	got, err := scan(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint32
	for _, ns := range got {
		out = append(out, ns.Inode)
	}
	return out
}

// New processes are read at every Scan, known ones only at the full pass;
// exited processes and their namespaces go at once.
func TestScanFollows(t *testing.T) {
	root, lastPID := fixtureProc(t)
	setLink(t, root, 1, 100)
	setLink(t, root, 50, 200)
	lastPID(50)
	now := time.Unix(1000, 0)
	s, err := NewScanner(Config{ProcRoot: root, MountDirs: []string{}, FullEvery: 5 * time.Second, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	steps := []struct {
		name   string
		change func()
		after  time.Duration
		want   []uint32
	}{
		{"start", func() {}, 0, []uint32{100, 200}},
		{"a new process in a new namespace", func() { setLink(t, root, 60, 300); lastPID(60) }, time.Second, []uint32{100, 200, 300}},
		// No PID given out since the last listing: the processes are not
		// listed (a fake; the kernel would have given 70 out).
		{"last PID the same: not listed", func() { setLink(t, root, 70, 500) }, time.Second, []uint32{100, 200, 300}},
		{"last PID moved: listed", func() { lastPID(70) }, time.Second, []uint32{100, 200, 300, 500}},
		{"a known process moved: not read yet", func() { setLink(t, root, 50, 400); lastPID(71) }, time.Second, []uint32{100, 200, 300, 500}},
		{"the full pass reads it", func() {}, 5 * time.Second, []uint32{100, 300, 400, 500}},
		{"a process exits", func() { os.RemoveAll(filepath.Join(root, "60")); lastPID(72) }, time.Second, []uint32{100, 400, 500}},
		{"another exits, no PID given out: seen by the full pass", func() { os.RemoveAll(filepath.Join(root, "70")) }, time.Second, []uint32{100, 400, 500}},
		{"the full pass", func() {}, 5 * time.Second, []uint32{100, 400}},
	}
	for _, st := range steps {
		st.change()
		now = now.Add(st.after)
		if got := scanInodes(t, s.Scan); !slices.Equal(got, st.want) {
			t.Errorf("%s: namespaces %v, want %v", st.name, got, st.want)
		}
	}
	if _, err := s.Scan(nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Scan(nil); err == nil {
		t.Error("Scan after Close succeeded")
	}
}

// ScanKnown reads no new process's link: it finds mounted namespaces,
// and lists the processes (dropping those gone) only when a mount
// directory moved or the first process of an unmounted namespace is gone.
// NetNSOf reads a process's link on demand; RequestFull brings the full
// pass forward, at most one a second.
func TestScanKnown(t *testing.T) {
	root, lastPID := fixtureProc(t)
	mounts := t.TempDir()
	setLink(t, root, 1, 100)
	setLink(t, root, 50, 200)
	setLink(t, root, 51, 200)
	lastPID(51)
	now := time.Unix(1000, 0)
	s, err := NewScanner(Config{ProcRoot: root, MountDirs: []string{mounts}, FullEvery: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	steps := []struct {
		name   string
		change func()
		scan   func([]Namespace) ([]Namespace, error)
		want   []uint32
	}{
		{"start (full)", func() {}, s.Scan, []uint32{100, 200}},
		{"a new process in a new namespace: not looked for", func() { setLink(t, root, 60, 300); lastPID(60) }, s.ScanKnown, []uint32{100, 200}},
		{"a Scan finds it", func() {}, s.Scan, []uint32{100, 200, 300}},
		{"one of two processes of a namespace exits, not its first: not listed", func() { os.RemoveAll(filepath.Join(root, "51")) }, s.ScanKnown, []uint32{100, 200, 300}},
		{"its first exits: listed, the namespace goes", func() { os.RemoveAll(filepath.Join(root, "50")) }, s.ScanKnown, []uint32{100, 300}},
		{"a process asked about is read", func() {
			setLink(t, root, 70, 400)
			lastPID(70)
			if ns, ok := s.NetNSOf(70); !ok || ns != 400 {
				t.Errorf("NetNSOf(70) = %d, %v; want 400, true", ns, ok)
			}
		}, s.ScanKnown, []uint32{100, 300, 400}},
		{"a known process moves: not seen", func() { setLink(t, root, 60, 500) }, s.Scan, []uint32{100, 300, 400}},
		{"RequestFull: the next scan reads every link", func() { now = now.Add(time.Second); s.RequestFull() }, s.ScanKnown, []uint32{100, 400, 500}},
		{"another RequestFull within a second waits", func() { setLink(t, root, 60, 600); s.RequestFull() }, s.Scan, []uint32{100, 400, 500}},
		{"a second later it is made", func() { now = now.Add(time.Second) }, s.ScanKnown, []uint32{100, 400, 600}},
	}
	for _, st := range steps {
		st.change()
		if got := scanInodes(t, st.scan); !slices.Equal(got, st.want) {
			t.Errorf("%s: namespaces %v, want %v", st.name, got, st.want)
		}
	}
	if ns, ok := s.NetNSOf(99); ok {
		t.Errorf("NetNSOf of no process = %d, true", ns)
	}
}

func TestParseLastPID(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0.00 0.01 0.05 1/123 4567\n", 4567, true},
		{"0.00 0.01 0.05 1/123 4567", 4567, true},
		{"1.10 0.50 0.25 3/901 4194303\n", 4194303, true},
		{"", 0, false},
		{"\n", 0, false},
		{"0.00 0.01 0.05 1/123 \n", 0, false},
		{"0.00 0.01 0.05 1/123 45x7\n", 0, false},
		{"0.00 0.01 0.05 1/123 99999999999\n", 0, false},
		{"4567", 4567, true},
	} {
		got, ok := ParseLastPID([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("ParseLastPID(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// Scan, Open and Stats from several goroutines (run under -race).
func TestScanConcurrent(t *testing.T) {
	s, err := NewScanner(Config{ProcRoot: "testdata/proc", MountDirs: []string{}, FullEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var buf []Namespace
			for range 50 {
				var err error
				if buf, err = s.Scan(buf); err != nil || len(buf) != 3 {
					t.Errorf("Scan: %d namespaces, %v", len(buf), err)
					return
				}
				s.Open(4026532001)
				s.Stats()
			}
		})
	}
	wg.Wait()
}

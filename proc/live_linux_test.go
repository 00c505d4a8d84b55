package proc

import (
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// These tests read the real /proc: any user can read the socket tables
// and its own /proc/PID/fd.

// socketInode is the inode the kernel gives a socket (what /proc/net/*
// and /proc/PID/fd show), from fstat of its descriptor.
func socketInode(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	var statErr error
	if err := raw.Control(func(fd uintptr) { statErr = syscall.Fstat(int(fd), &st) }); err != nil {
		t.Fatal(err)
	}
	if statErr != nil {
		t.Fatal(statErr)
	}
	return st.Ino
}

// liveRows reads a table of this process's network namespace, both ways:
// /proc/net/FILE and /proc/PID/net/FILE must agree on the rows sought.
func liveRows(t *testing.T, file string) map[uint64]Socket {
	t.Helper()
	rows := map[uint64]Socket{}
	for _, pid := range []int{0, os.Getpid()} {
		skipped, err := NewFS("/proc").SocketTable(file, pid, func(s Socket) {
			if s.Inode != 0 {
				rows[s.Inode] = s
			}
		})
		if err != nil {
			t.Fatalf("SocketTable(%s, %d): %v", file, pid, err)
		}
		if skipped != 0 {
			t.Errorf("SocketTable(%s, %d): %d malformed lines in the kernel's own output", file, pid, skipped)
		}
	}
	return rows
}

// ownSocketInodes is the set SocketInodes(os.Getpid()) reports.
func ownSocketInodes(t *testing.T) map[uint64]bool {
	t.Helper()
	inodes := map[uint64]bool{}
	if err := NewFS("/proc").SocketInodes(os.Getpid(), func(_ int, inode uint64) { inodes[inode] = true }); err != nil {
		t.Fatal(err)
	}
	return inodes
}

// expectRows checks that each socket (by inode) is in the table exactly as
// expected, and in this process's descriptors.
func expectRows(t *testing.T, file string, want map[uint64]Socket) {
	t.Helper()
	rows := liveRows(t, file)
	inodes := ownSocketInodes(t)
	for inode, w := range want {
		got, ok := rows[inode]
		if !ok {
			t.Errorf("%s: no row with inode %d (want %v)", file, inode, w)
		} else if got != w {
			t.Errorf("%s: row\n got %v\nwant %v", file, got, w)
		}
		if !inodes[inode] {
			t.Errorf("%s: inode %d not among this process's descriptors", file, inode)
		}
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	panic("not a TCP or UDP address")
}

// tcpPair listens on network/address, dials it over dialNetwork and
// returns the three sockets.
func tcpPair(t *testing.T, network, address, dialNetwork string) (l *net.TCPListener, client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Skipf("listen %s %s: %v", network, address, err)
	}
	t.Cleanup(func() { ln.Close() })
	port := addrPort(ln.Addr()).Port()
	dialAddr := "127.0.0.1"
	if dialNetwork == "tcp6" {
		dialAddr = "::1"
	}
	c, err := net.Dial(dialNetwork, net.JoinHostPort(dialAddr, strconv.Itoa(int(port))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return ln.(*net.TCPListener), c.(*net.TCPConn), s.(*net.TCPConn)
}

func TestLiveTCP4(t *testing.T) {
	l, c, s := tcpPair(t, "tcp4", "127.0.0.1:0", "tcp4")
	uid := uint32(os.Getuid())
	lAddr, cAddr, sAddr := addrPort(l.Addr()), addrPort(c.LocalAddr()), addrPort(s.LocalAddr())
	expectRows(t, "tcp", map[uint64]Socket{
		socketInode(t, l): {ProtoTCP, lAddr, netip.MustParseAddrPort("0.0.0.0:0"), TCPListen, uid, socketInode(t, l)},
		socketInode(t, c): {ProtoTCP, cAddr, sAddr, TCPEstablished, uid, socketInode(t, c)},
		socketInode(t, s): {ProtoTCP, sAddr, cAddr, TCPEstablished, uid, socketInode(t, s)},
	})
}

func TestLiveTCP6(t *testing.T) {
	l, c, s := tcpPair(t, "tcp6", "[::1]:0", "tcp6")
	uid := uint32(os.Getuid())
	lAddr, cAddr, sAddr := addrPort(l.Addr()), addrPort(c.LocalAddr()), addrPort(s.LocalAddr())
	expectRows(t, "tcp6", map[uint64]Socket{
		socketInode(t, l): {ProtoTCP, lAddr, netip.MustParseAddrPort("[::]:0"), TCPListen, uid, socketInode(t, l)},
		socketInode(t, c): {ProtoTCP, cAddr, sAddr, TCPEstablished, uid, socketInode(t, c)},
		socketInode(t, s): {ProtoTCP, sAddr, cAddr, TCPEstablished, uid, socketInode(t, s)},
	})
}

// A dual-stack listener on [::] accepting an IPv4 client: the listener is
// a wildcard row of tcp6, the accepted socket a tcp6 row with IPv4-mapped
// addresses, the client a plain tcp row.
func TestLiveTCP4MappedOnDualStackListener(t *testing.T) {
	l, c, s := tcpPair(t, "tcp", "[::]:0", "tcp4")
	uid := uint32(os.Getuid())
	port := addrPort(l.Addr()).Port()
	cAddr := addrPort(c.LocalAddr())
	loopback := netip.MustParseAddr("127.0.0.1")
	mapped := func(ap netip.AddrPort) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())
	}
	expectRows(t, "tcp6", map[uint64]Socket{
		socketInode(t, l): {ProtoTCP, netip.AddrPortFrom(netip.IPv6Unspecified(), port), netip.MustParseAddrPort("[::]:0"), TCPListen, uid, socketInode(t, l)},
		socketInode(t, s): {ProtoTCP, mapped(netip.AddrPortFrom(loopback, port)), mapped(cAddr), TCPEstablished, uid, socketInode(t, s)},
	})
	expectRows(t, "tcp", map[uint64]Socket{
		socketInode(t, c): {ProtoTCP, cAddr, netip.AddrPortFrom(loopback, port), TCPEstablished, uid, socketInode(t, c)},
	})
	if got := addrPort(s.LocalAddr()); got.Addr().Unmap() != loopback {
		t.Errorf("Go reports the accepted socket's address as %v", got)
	}
}

func TestLiveUDP(t *testing.T) {
	for _, tc := range []struct {
		network, file, address string
		unspecified            string
	}{
		{"udp4", "udp", "127.0.0.1:0", "0.0.0.0:0"},
		{"udp6", "udp6", "[::1]:0", "[::]:0"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			server, err := net.ListenPacket(tc.network, tc.address)
			if err != nil {
				t.Skipf("listen %s: %v", tc.network, err)
			}
			defer server.Close()
			client, err := net.Dial(tc.network, server.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			uid := uint32(os.Getuid())
			sAddr, cAddr := addrPort(server.LocalAddr()), addrPort(client.LocalAddr())
			si, ci := socketInode(t, server.(*net.UDPConn)), socketInode(t, client.(*net.UDPConn))
			expectRows(t, tc.file, map[uint64]Socket{
				si: {ProtoUDP, sAddr, netip.MustParseAddrPort(tc.unspecified), TCPClose, uid, si},
				ci: {ProtoUDP, cAddr, sAddr, TCPEstablished, uid, ci},
			})
		})
	}
}

// The side that closes first keeps a TIME_WAIT row with inode 0.
func TestLiveTimeWait(t *testing.T) {
	_, c, s := tcpPair(t, "tcp4", "127.0.0.1:0", "tcp4")
	sAddr, cAddr := addrPort(s.LocalAddr()), addrPort(c.LocalAddr())
	s.Close()
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found *Socket
		if _, err := NewFS("/proc").SocketTable("tcp", 0, func(r Socket) {
			if r.Local == sAddr && r.Remote == cAddr {
				found = &r
			}
		}); err != nil {
			t.Fatal(err)
		}
		if found != nil && found.State == TCPTimeWait {
			if found.Inode != 0 || found.UID != 0 {
				t.Errorf("TIME_WAIT row %v: want inode 0, uid 0", found)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TIME_WAIT row for %v-%v (last seen %v)", sAddr, cAddr, found)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLiveProcess(t *testing.T) {
	fsys := NewFS("/proc")
	p, err := fsys.Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != os.Getpid() || p.UID != uint32(os.Getuid()) || !slices.Equal(p.Cmdline, os.Args) || p.Name != os.Args[0] || p.StartTime == 0 {
		t.Errorf("Process(self) = %+v; args %q, uid %d", p, os.Args, os.Getuid())
	}
	start, err := fsys.StartTime(os.Getpid())
	if err != nil || start != p.StartTime {
		t.Errorf("StartTime(self) = %d, %v; want %d", start, err, p.StartTime)
	}
	pids, err := fsys.PIDs(nil)
	if err != nil || !slices.Contains(pids, os.Getpid()) {
		t.Errorf("PIDs() = %d pids, %v; own pid missing", len(pids), err)
	}
}

// Every process visible now parses (or has vanished, or is not ours to
// read); nothing malformed in the kernel's output.
func TestLiveAllProcesses(t *testing.T) {
	fsys := NewFS("/proc")
	pids, err := fsys.PIDs(nil)
	if err != nil {
		t.Fatal(err)
	}
	sockets, denied, vanished := 0, 0, 0
	for _, pid := range pids {
		if _, err := fsys.Process(pid); err != nil && !errors.Is(err, ErrNoProcess) && !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Process(%d): %v", pid, err)
		}
		err := fsys.SocketInodes(pid, func(int, uint64) { sockets++ })
		switch {
		case errors.Is(err, fs.ErrPermission):
			denied++
			t.Logf("SocketInodes(%d): %v", pid, err)
		case errors.Is(err, ErrNoProcess):
			vanished++
		case err != nil:
			t.Errorf("SocketInodes(%d): %v", pid, err)
		}
	}
	t.Logf("%d processes: %d socket descriptors, %d not readable, %d vanished", len(pids), sockets, denied, vanished)
}

// A reaped process: every read wraps ErrNoProcess, also through a
// /proc/PID directory opened while it lived (what makes Process safe
// against PID reuse).
func TestLiveVanishedProcess(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep to run: %v", err)
	}
	pid := cmd.Process.Pid
	dir, err := os.OpenRoot("/proc/" + strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	cmd.Process.Kill()
	cmd.Wait()

	fsys := NewFS("/proc")
	if _, err := fsys.Process(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Process: %v, want ErrNoProcess", err)
	}
	if _, err := fsys.StartTime(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("StartTime: %v, want ErrNoProcess", err)
	}
	if err := fsys.SocketInodes(pid, func(int, uint64) {}); !errors.Is(err, ErrNoProcess) {
		t.Errorf("SocketInodes: %v, want ErrNoProcess", err)
	}
	if _, err := fsys.SocketTable("tcp", pid, func(Socket) {}); !errors.Is(err, ErrNoProcess) {
		t.Errorf("SocketTable: %v, want ErrNoProcess", err)
	}
	if b, err := dir.ReadFile("stat"); err == nil {
		t.Errorf("the old /proc/%d directory still reads stat %q", pid, b)
	} else if !errors.Is(processError(pid, err), ErrNoProcess) {
		t.Errorf("reading the old directory: %v, not a vanished process", err)
	}
}

// As an unprivileged user, another user's descriptors are off limits:
// SocketInodes wraps fs.ErrPermission (and not ErrNoProcess). Run as root,
// the test drops to nobody on one locked OS thread (setresuid is
// per-thread as a raw system call; the thread is discarded afterwards).
func TestLivePermissionDenied(t *testing.T) {
	check := func(pid int) error {
		err := NewFS("/proc").SocketInodes(pid, func(int, uint64) {})
		t.Logf("SocketInodes(%d) as uid %d: %v", pid, syscall.Getuid(), err)
		if !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrNoProcess) {
			return errors.New("SocketInodes of another user's process: " + errString(err) + "; want fs.ErrPermission")
		}
		return nil
	}
	if os.Getuid() != 0 {
		// Not root: init is another user's process, unless this runs in
		// a user namespace where it is not.
		var st syscall.Stat_t
		if err := syscall.Stat("/proc/1", &st); err != nil || int(st.Uid) == os.Getuid() {
			t.Skip("no process of another user to try: /proc/1 is ours or unreadable")
		}
		if err := check(1); err != nil {
			t.Error(err)
		}
		return
	}
	// Root: a child stays root while one locked OS thread drops to nobody.
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep to run: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	const nobody = 65534
	var err error
	onDisposableThread(func() {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_SETRESUID, nobody, nobody, nobody); errno != 0 {
			err = errno
			return
		}
		err = check(cmd.Process.Pid)
	})
	if err != nil {
		t.Error(err)
	}
}

// onDisposableThread runs fn on an OS thread of its own that is thrown away
// afterwards, so fn may change per-thread state such as credentials. Not
// on the main thread: /proc/PID/status shows the main thread's
// credentials, and the runtime keeps the main thread instead of ending it.
func onDisposableThread(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if syscall.Gettid() == syscall.Getpid() {
			// Hold the main thread so that another one is picked, then
			// give it back.
			onDisposableThread(fn)
			runtime.UnlockOSThread()
			return
		}
		fn() // the thread stays locked: it ends with the goroutine
	}()
	<-done
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

package proc

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hogs/internal/netlab"
)

var record = flag.Bool("record", false, "rewrite testdata/sockdiag/*.txt from this kernel's replies (TestRecordSockDiag)")

// recordingConn passes a conversation through, keeping each request with
// the datagrams that followed it.
type recordingConn struct {
	conn      netlinkConn
	exchanges []exchange
}

func (r *recordingConn) Send(req []byte) error {
	r.exchanges = append(r.exchanges, exchange{request: append([]byte(nil), req...)})
	return r.conn.Send(req)
}

func (r *recordingConn) Receive(b []byte) (int, error) {
	n, err := r.conn.Receive(b)
	if err == nil && len(r.exchanges) > 0 {
		e := &r.exchanges[len(r.exchanges)-1]
		e.replies = append(e.replies, append([]byte(nil), b[:n]...))
	}
	return n, err
}

func (r *recordingConn) Close() error { return r.conn.Close() }

// take returns the exchanges since the last take.
func (r *recordingConn) take() []exchange {
	e := r.exchanges
	r.exchanges = nil
	return e
}

// saveRecording writes a recording under testdata/sockdiag with -record.
func saveRecording(t *testing.T, name string, r *recording) {
	t.Helper()
	if !*record {
		return
	}
	if err := os.MkdirAll("testdata/sockdiag", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.write("testdata/sockdiag/" + name + ".txt"); err != nil {
		t.Fatal(err)
	}
}

// socketCookie is the kernel's cookie of a socket (SO_COOKIE).
func socketCookie(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var cookie uint64
	var gerr error
	raw.Control(func(fd uintptr) { cookie, gerr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_COOKIE) })
	if gerr != nil {
		t.Fatalf("SO_COOKIE: %v", gerr)
	}
	return cookie
}

// ownCgroupID is the cgroup v2 id of this process's cgroup: the inode of
// its directory in the cgroup2 mount.
func ownCgroupID(t *testing.T) uint64 {
	t.Helper()
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var path string
	for line := range strings.Lines(string(cg)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			path = p
		}
	}
	mount := ""
	mi, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer mi.Close()
	for sc := bufio.NewScanner(mi); sc.Scan(); {
		f := strings.Fields(sc.Text())
		for i, w := range f {
			if w == "-" && i+1 < len(f) && f[i+1] == "cgroup2" {
				mount = f[4]
			}
		}
	}
	if path == "" || mount == "" {
		t.Skip("no cgroup v2 hierarchy mounted: cannot tell a socket's cgroup id")
	}
	var st syscall.Stat_t
	if err := syscall.Stat(mount+path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestRecordSockDiag asks this kernel about sockets the test opens in a
// network namespace of its own, checks each answer against what the
// sockets are (fstat's inode, SO_COOKIE, the cgroup directory's inode),
// and with -record saves the conversations under testdata/sockdiag for
// the replay tests:
//
//	sudo go test ./proc -run TestRecordSockDiag -record
func TestRecordSockDiag(t *testing.T) {
	ns := netlab.New(t)
	netlab.IP(t, ns, "link", "set", "lo", "up")
	cg := ownCgroupID(t)
	uid := uint32(os.Geteuid())
	netlab.Run(t, ns, func() {
		conn, err := openNetlinkSocket(0, 1)
		if err != nil {
			t.Fatal(err)
		}
		rec := &recordingConn{conn: conn}
		d := newSockDiag(rec)
		defer d.Close()

		if err := d.probe(); err != nil || d.unsupported != [2]error{} {
			t.Fatalf("probe: %v, unsupported %v", err, d.unsupported)
		}
		saveRecording(t, "probe", &recording{kind: "probe", comment: "OpenSockDiag's probe: an empty dump of TCP, then of UDP, sockets in no state", exchanges: rec.take()})
		// Protocol 253 (for experiments) has no inet_diag handler.
		_, err = d.exchange(afInet, 253, nlmFRequest|nlmFDump, 0, netip.AddrPort{}, netip.AddrPort{})
		if !errors.Is(err, ErrSockDiagUnsupported) {
			t.Errorf("dump of protocol 253: %v, want an error from the kernel", err)
		}
		saveRecording(t, "probe-unsupported", &recording{kind: "probe", comment: "a dump of protocol 253, which has no inet_diag handler", exchanges: rec.take()})

		lookup := func(name, comment string, proto uint8, local, remote netip.AddrPort, want DiagSocket) {
			t.Helper()
			rec.take()
			got, err := d.Lookup(proto, local, remote)
			if err != nil || got != want {
				t.Errorf("%s: Lookup %v %v: %+v, %v; want %+v", name, local, remote, got, err, want)
			}
			saveRecording(t, name, &recording{kind: "lookup", comment: comment, proto: proto, local: local, remote: remote,
				want: fmt.Sprintf("%+v", want), exchanges: rec.take()})
		}
		sock := func(c syscall.Conn, state uint8) DiagSocket {
			return DiagSocket{Inode: inodeOfConn(t, c), UID: uid, Cookie: socketCookie(t, c), CgroupID: cg, State: state}
		}
		dial := func(network, address string) *net.TCPConn {
			t.Helper()
			c, err := net.Dial(network, address)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c.(*net.TCPConn)
		}
		listen := func(network, address string) *net.TCPListener {
			t.Helper()
			ln, err := net.Listen(network, address)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			return ln.(*net.TCPListener)
		}
		accept := func(ln *net.TCPListener) *net.TCPConn {
			t.Helper()
			c, err := ln.AcceptTCP()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}

		ln4 := listen("tcp4", "127.0.0.1:0")
		c4 := dial("tcp4", ln4.Addr().String())
		s4 := accept(ln4)
		lookup("tcp4-client", "the client end of an IPv4 connection", ProtoTCP, addrPort(c4.LocalAddr()), addrPort(c4.RemoteAddr()), sock(c4, TCPEstablished))

		ln6 := listen("tcp6", "[::1]:0")
		c6 := dial("tcp6", ln6.Addr().String())
		s6 := accept(ln6)
		lookup("tcp6-server", "the accepted end of an IPv6 connection", ProtoTCP, addrPort(s6.LocalAddr()), addrPort(s6.RemoteAddr()), sock(s6, TCPEstablished))

		lnD := listen("tcp", "[::]:0")
		port := addrPort(lnD.Addr()).Port()
		cD := dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		sD := accept(lnD)
		loopback := netip.MustParseAddr("127.0.0.1")
		lookup("tcp4-dual-stack", "the accepted end of an IPv4 connection to a dual-stack listener on [::]", ProtoTCP,
			netip.AddrPortFrom(loopback, port), addrPort(cD.LocalAddr()), sock(sD, TCPEstablished))

		us, err := net.ListenPacket("udp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { us.Close() })
		uport := addrPort(us.LocalAddr()).Port()
		uc, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", uport))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { uc.Close() })
		userver := netip.AddrPortFrom(loopback, uport)
		lookup("udp-unconnected", "an IPv4 datagram to a dual-stack UDP socket bound to [::] (unconnected)", ProtoUDP,
			userver, addrPort(uc.LocalAddr()), sock(us.(syscall.Conn), TCPClose))
		lookup("udp-connected", "a connected IPv4 UDP socket", ProtoUDP, addrPort(uc.LocalAddr()), userver, sock(uc.(syscall.Conn), TCPEstablished))

		lookup("tcp-none", "no socket has these ends, none listens on the port", ProtoTCP,
			netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2"), DiagSocket{})

		// Not accepted: the connection is in the listener's queue. Its
		// cookie is the accepted socket's, read once accepted.
		for _, tc := range []struct{ name, network, address string }{
			{"tcp4-not-accepted", "tcp4", "127.0.0.1:0"}, {"tcp6-not-accepted", "tcp6", "[::1]:0"},
		} {
			ln := listen(tc.network, tc.address)
			c := dial(tc.network, ln.Addr().String())
			local, remote := addrPort(ln.Addr()), addrPort(c.LocalAddr())
			rec.take()
			got, err := d.Lookup(ProtoTCP, local, remote)
			exchanges := rec.take()
			s := accept(ln)
			want := DiagSocket{UID: uid, Cookie: socketCookie(t, s), CgroupID: cg, State: TCPEstablished, Listener: inodeOfConn(t, ln)}
			if err != nil || got != want {
				t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, want)
			}
			saveRecording(t, tc.name, &recording{kind: "lookup", comment: "the server end of a connection not accepted yet: no inode, the listener's",
				proto: ProtoTCP, local: local, remote: remote, want: fmt.Sprintf("%+v", want), exchanges: exchanges})
		}

		// Closed: the client closes first (its end waits in TIME_WAIT),
		// then the server; once the server end is gone the kernel's lookup
		// falls through to the listener.
		lnC := listen("tcp4", "127.0.0.1:0")
		cC := dial("tcp4", lnC.Addr().String())
		sC := accept(lnC)
		clientEnd, serverEnd := addrPort(cC.LocalAddr()), addrPort(sC.LocalAddr())
		clientCookie := socketCookie(t, cC)
		cC.Close()
		sC.Close()
		wantGone := DiagSocket{Listener: inodeOfConn(t, lnC)}
		var got DiagSocket
		for range 200 {
			if got, err = d.Lookup(ProtoTCP, serverEnd, clientEnd); err != nil || got == wantGone {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		lookup("tcp4-closed", "the server end of a closed connection: gone, the listener answers", ProtoTCP, serverEnd, clientEnd, wantGone)
		lookup("tcp4-time-wait", "the client end of a closed connection, in TIME_WAIT: no inode, no listener on its port", ProtoTCP,
			clientEnd, serverEnd, DiagSocket{Cookie: clientCookie, State: TCPTimeWait})
		_ = c6
		_ = s4
	})
}

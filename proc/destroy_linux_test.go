package proc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"hogs/internal/netlab"
)

// TestDestroyWatcherLive opens and closes a TCP connection over IPv4 and
// one over IPv6 (known bytes each way) and a UDP socket in a namespace of
// its own, and sees one destroy event for each of the five sockets, with
// its ends, its cookie (SO_COOKIE before the close) and, for TCP, the
// bytes acknowledged and received. With -record it saves the datagrams
// for TestDestroyWatcherReplay.
func TestDestroyWatcherLive(t *testing.T) {
	ns := netlab.New(t)
	netlab.IP(t, ns, "link", "set", "lo", "up")
	netlab.Run(t, ns, func() {
		conn, err := openNetlinkSocket(destroyGroups, 1)
		if err != nil {
			t.Fatalf("%v (subscribing needs CAP_NET_ADMIN on some kernels)", err)
		}
		rec := &recordingConn{conn: conn}
		rec.exchanges = []exchange{{}} // the datagrams land in one list
		w := newDestroyWatcher(rec)

		want := map[uint64]ClosedSocket{} // by cookie
		for _, tc := range []struct{ network, address string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
			ln, err := net.Listen(tc.network, tc.address)
			if err != nil {
				t.Fatal(err)
			}
			c, err := net.Dial(tc.network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			s, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			ln.Close()
			const sent, answered = 1000, 300
			if _, err := c.Write(make([]byte, sent)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(s, make([]byte, sent)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Write(make([]byte, answered)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, answered)); err != nil {
				t.Fatal(err)
			}
			for _, x := range []struct {
				c            net.Conn
				acked, recvd uint64
			}{{c, sent, answered}, {s, answered, sent}} {
				want[socketCookie(t, x.c.(syscall.Conn))] = ClosedSocket{Proto: ProtoTCP, Local: addrPort(x.c.LocalAddr()), Remote: addrPort(x.c.RemoteAddr()),
					Cookie: socketCookie(t, x.c.(syscall.Conn)), BytesAcked: x.acked, BytesReceived: x.recvd, HasByteCounts: true}
			}
			c.Close()
			s.Close()
		}
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		want[socketCookie(t, u.(syscall.Conn))] = ClosedSocket{Proto: ProtoUDP, Local: addrPort(u.LocalAddr()), Remote: netip.MustParseAddrPort("0.0.0.0:0"),
			Cookie: socketCookie(t, u.(syscall.Conn))}
		u.Close()

		got := map[uint64]ClosedSocket{}
		for deadline := time.Now().Add(5 * time.Second); len(got) < len(want) && time.Now().Before(deadline); {
			ev, err := w.Next()
			if errors.Is(err, syscall.EAGAIN) {
				continue // the socket's one-second timeout
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := want[ev.Cookie]; ok {
				got[ev.Cookie] = ev
			}
		}
		if len(got) < len(want) {
			t.Fatalf("after 5 s, %d of %d destroy events: %+v", len(got), len(want), got)
		}
		w.Close()
		var events []string
		for cookie, w := range want {
			g := got[cookie]
			// tcp_info counts sequence space: an acknowledged FIN is one
			// more (two on the side that closed first, on Linux 6.18).
			if g.HasByteCounts && g.BytesAcked >= w.BytesAcked && g.BytesAcked <= w.BytesAcked+2 {
				w.BytesAcked = g.BytesAcked
			}
			if g.HasByteCounts && g.BytesReceived >= w.BytesReceived && g.BytesReceived <= w.BytesReceived+1 {
				w.BytesReceived = g.BytesReceived
			}
			g.State, w.State = 0, 0 // TCP_CLOSE normally; not what is tested
			if g != w {
				t.Errorf("event\n got %+v\nwant %+v", g, w)
			}
			events = append(events, fmt.Sprintf("%+v", got[cookie]))
		}
		slices.Sort(events)
		saveRecording(t, "destroy", &recording{kind: "destroy", comment: "socket-destroy events: TCP over IPv4 and IPv6 (1000 bytes one way, 300 back, then closed), an unconnected UDP socket",
			events: events, datagrams: rec.exchanges[0].replies})
	})
}

// TestOpenDestroyWatcher: the public constructor subscribes, and Close
// ends a Next waiting in another goroutine.
func TestOpenDestroyWatcher(t *testing.T) {
	w, err := OpenDestroyWatcher()
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skipf("%v", err)
		}
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := w.Next(); err != nil && !errors.Is(err, ErrEventsLost) {
				done <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	w.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Next after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end a waiting Next")
	}
}

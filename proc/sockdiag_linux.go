package proc

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// netlinkSocket is a NETLINK_SOCK_DIAG socket talking to the kernel.
type netlinkSocket struct{ fd int }

var _ netlinkConn = (*netlinkSocket)(nil)

// openNetlinkSocket opens a NETLINK_SOCK_DIAG socket in the calling
// thread's network namespace, subscribed to the multicast groups in
// groups (a bit mask: bit g-1 for group g; 0 for none). A read waits at
// most timeout seconds (0: for ever).
func openNetlinkSocket(groups uint32, timeout int64) (*netlinkSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("opening sock_diag netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding sock_diag netlink socket: %w", err)
	}
	if timeout > 0 {
		tv := unix.NsecToTimeval(timeout * int64(time.Second)) // Timeval.Sec is 32 bits on 386, arm, mips
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("sock_diag netlink socket: setting SO_RCVTIMEO: %w", err)
		}
	}
	return &netlinkSocket{fd: fd}, nil
}

// Send writes one request; an unconnected netlink socket sends to the
// kernel, so write(2) needs no address (and allocates none).
func (s *netlinkSocket) Send(req []byte) error {
	_, err := unix.Write(s.fd, req)
	return err
}

// Receive reads one datagram.
func (s *netlinkSocket) Receive(b []byte) (int, error) {
	for {
		n, err := unix.Read(s.fd, b)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

func (s *netlinkSocket) Close() error { return unix.Close(s.fd) }

// OpenSockDiag opens a netlink socket for lookups in the calling thread's
// network namespace, and asks the kernel which protocols it can look up.
func OpenSockDiag() (*SockDiag, error) {
	// A reply that takes longer than a second is a kernel in trouble:
	// give up on that lookup rather than stall the resolver.
	conn, err := openNetlinkSocket(0, 1)
	if err != nil {
		return nil, err
	}
	d := newSockDiag(conn)
	if err := d.probe(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// OpenDestroyWatcher subscribes to the socket-destroy notifications of
// the calling thread's network namespace.
func OpenDestroyWatcher() (*DestroyWatcher, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("opening sock_diag netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: destroyGroups}); err != nil {
		// No capability is needed (sock_diag lets anyone join its groups:
		// measured as uid 65534 with none), so this is rare.
		unix.Close(fd)
		return nil, fmt.Errorf("subscribing to socket-destroy events: %w", err)
	}
	// Sockets close in bursts (a server's shutdown, a crawler's batch):
	// room for ~10,000 events; past it the kernel drops them (ENOBUFS).
	const rcvbuf = 4 << 20
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf) // capped by net.core.rmem_max
	}
	// Through the runtime's poller, so that Close ends a waiting Next.
	return newDestroyWatcher(&polledNetlink{os.NewFile(uintptr(fd), "sock_diag destroy events")}), nil
}

// polledNetlink is a non-blocking netlink socket read through the
// runtime's poller.
type polledNetlink struct{ f *os.File }

var _ netlinkConn = (*polledNetlink)(nil)

func (p *polledNetlink) Send(req []byte) error         { _, err := p.f.Write(req); return err }
func (p *polledNetlink) Receive(b []byte) (int, error) { return p.f.Read(b) }
func (p *polledNetlink) Close() error                  { return p.f.Close() }

func isNoBufs(err error) bool { return errors.Is(err, unix.ENOBUFS) }

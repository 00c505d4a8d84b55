package conntrack

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"hogs/internal/netns"
)

// SocketFunc makes a socket (socket(2) arguments): unix.Socket in the
// calling thread's namespace, or netns.SocketIn for another's.
type SocketFunc func(domain, typ, proto int) (int, error)

// Open opens a conntrack client in the calling thread's network namespace.
func Open() (*Conn, error) {
	return OpenWith(func(domain, typ, proto int) (int, error) {
		return unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
	})
}

// OpenIn opens a conntrack client for the network namespace nsFD refers
// to (joining it needs CAP_SYS_ADMIN); the socket stays there for its
// life.
func OpenIn(nsFD int) (*Conn, error) {
	return OpenWith(func(domain, typ, proto int) (int, error) {
		return netns.SocketIn(nsFD, domain, typ, proto)
	})
}

// OpenWith opens a conntrack client on a NETLINK_NETFILTER socket made by
// socket, in whichever namespace socket makes it.
func OpenWith(socket SocketFunc) (*Conn, error) {
	fd, err := socket(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("conntrack: opening a netfilter netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("conntrack: binding a netfilter netlink socket: %w", err)
	}
	// One answer per request, at once; a kernel that takes a second is in
	// trouble and the lookup is given up rather than stall a refresh.
	tv := unix.NsecToTimeval(int64(time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("conntrack: setting the receive timeout: %w", err)
	}
	return newConn(socketConn(fd)), nil
}

// socketConn is a netlink socket file descriptor; write(2) to an
// unconnected netlink socket goes to the kernel and allocates nothing.
type socketConn int

func (s socketConn) Send(req []byte) error {
	_, err := unix.Write(int(s), req)
	return err
}

func (s socketConn) Receive(b []byte) (int, error) {
	for {
		n, err := unix.Read(int(s), b)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

func (s socketConn) Close() error { return unix.Close(int(s)) }

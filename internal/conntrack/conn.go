package conntrack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// ErrNotFound reports that the table holds no entry for a tuple.
var ErrNotFound = errors.New("conntrack: no entry")

// errno values the kernel answers with (asm-generic/errno-base.h), here so
// that this file builds on every GOOS.
const (
	errnoENOENT = 2
	errnoEPERM  = 1
)

// netlinkConn is one NETLINK_NETFILTER socket's conversation with the
// kernel: Send writes one request, Receive reads one datagram (failing
// after the socket's receive timeout). Tests replace the kernel with a
// fake that replays recorded answers.
type netlinkConn interface {
	Send(req []byte) error
	Receive(b []byte) (int, error)
	Close() error
}

// KernelError is an error number the kernel answered a request with.
type KernelError int32

func (e KernelError) Error() string {
	switch e {
	case errnoEPERM:
		return "operation not permitted (reading the conntrack table needs CAP_NET_ADMIN in the namespace)"
	}
	return fmt.Sprintf("kernel error %d", int32(e))
}

// Conn asks one network namespace's conntrack table for entries. Its
// methods are serialised; Get allocates nothing.
type Conn struct {
	mu   sync.Mutex
	conn netlinkConn
	seq  uint32
	req  []byte
	buf  []byte
}

func newConn(c netlinkConn) *Conn {
	// An entry with every optional attribute (counters, timestamps,
	// labels, helper, security context, sequence adjustments) is under
	// 1 kB; a Conn per namespace keeps 4 kB.
	return &Conn{conn: c, req: make([]byte, 0, maxRequest), buf: make([]byte, 4<<10)}
}

// Close closes the socket.
func (c *Conn) Close() error { return c.conn.Close() }

// maxStale bounds the datagrams read past that answer earlier, timed-out
// requests before giving up on one.
const maxStale = 16

// Get returns the entry one of whose directions is t (the kernel finds an
// entry by either tuple), in conntrack zone 0. A packet's own tuple finds
// its entry where the packet met conntrack untranslated or fully
// translated: an inbound packet on an uplink before DNAT (Orig), an
// outbound one after SNAT (Reply reversed: ask with t.Reverse()). It
// returns ErrNotFound when there is no such entry, a KernelError when the
// kernel refused.
func (c *Conn) Get(t Tuple) (Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	seq := c.seq
	req, ok := appendGetRequest(c.req[:0], seq, t)
	if !ok {
		return Entry{}, fmt.Errorf("conntrack: cannot ask for %v %v -> %v: want TCP or UDP between two addresses of one family", t.Proto, t.Src, t.Dst)
	}
	if err := c.conn.Send(req); err != nil {
		return Entry{}, fmt.Errorf("conntrack: sending a request: %w", err)
	}
	for range maxStale {
		n, err := c.conn.Receive(c.buf)
		if err != nil {
			return Entry{}, fmt.Errorf("conntrack: reading the answer: %w", err)
		}
		e, err, done := answer(c.buf[:n], seq)
		if done {
			return e, err
		}
	}
	return Entry{}, errors.New("conntrack: no answer to a request among the datagrams read")
}

// answer reads one datagram for the answer to request seq: done is false
// when the datagram holds none (a late answer to an earlier request).
func answer(b []byte, seq uint32) (e Entry, err error, done bool) {
	for typ, s, p, rest, ok := nextMessage(b); ok; typ, s, p, rest, ok = nextMessage(rest) {
		if s != seq {
			continue
		}
		switch typ {
		case nlmsgError:
			if len(p) < 4 {
				return Entry{}, errors.New("conntrack: truncated error message"), true
			}
			switch code := -int32(binary.NativeEndian.Uint32(p)); code {
			case 0:
				return Entry{}, errors.New("conntrack: acknowledged without an entry"), true
			case errnoENOENT:
				return Entry{}, ErrNotFound, true
			default:
				return Entry{}, fmt.Errorf("conntrack: %w", KernelError(code)), true
			}
		case nlmsgDone:
			return Entry{}, ErrNotFound, true
		case msgTypeGet, msgTypeNew:
			e, ok := ParseEntry(p)
			if !ok {
				return Entry{}, errors.New("conntrack: malformed entry in the answer"), true
			}
			return e, nil, true
		}
	}
	return Entry{}, nil, false
}

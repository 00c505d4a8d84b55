package conntrack

import (
	"errors"
	"net/netip"

	"hogs/internal/flow"
)

// Class is what a flow seen in a namespace with no socket of its own there
// is, for counting each byte once.
type Class uint8

const (
	// Local: an end of the flow is an address of the namespace it was
	// seen in; normal attribution applies.
	Local Class = iota
	// CountedElsewhere: the flow's real end is another namespace's (a
	// container's) on this machine, and the bytes are counted where that
	// end's socket lives; this copy (NATed or routed) must not count.
	CountedElsewhere
	// Forwarded: no end is an address of any namespace on this machine;
	// the namespace only routes the flow (NATed or not).
	Forwarded
)

func (c Class) String() string {
	switch c {
	case Local:
		return "local"
	case CountedElsewhere:
		return "counted elsewhere"
	case Forwarded:
		return "forwarded"
	}
	return "class?"
}

// Getter is a conntrack table: *Conn, or a fake in tests.
type Getter interface {
	Get(Tuple) (Entry, error)
}

// Config is what a Classifier is given; all three are required and called
// from Classify's goroutine.
type Config struct {
	// Table is the conntrack table of namespace netns (a flow.Key's
	// NetNS), nil when it has none that can be read.
	Table func(netns uint32) Getter
	// IsLocal reports whether addr is an address of namespace netns
	// itself (loopback included).
	IsLocal func(netns uint32, addr netip.Addr) bool
	// IsContainer reports whether addr is an address of another namespace
	// on this machine than netns (a container's) that netns reaches.
	IsContainer func(netns uint32, addr netip.Addr) bool
}

// Classifier tells apart the copies of flows counted elsewhere, the
// flows only routed, and local flows (see the package comment for the
// rule).
type Classifier struct{ cfg Config }

// NewClassifier returns a Classifier asking cfg's tables and predicates.
func NewClassifier(cfg Config) *Classifier { return &Classifier{cfg: cfg} }

// Classify classifies flow k, seen in namespace k.NetNS. The class comes
// from the conntrack entry's real ends when the table has one, else from
// k's own addresses; err is non-nil when the table could not be asked (the
// class then comes from k's addresses and a NATed copy is not
// recognised). An entry that is not there is not an error.
func (c *Classifier) Classify(k flow.Key) (Class, error) {
	a, b := k.Local.Addr().Unmap(), k.Remote.Addr().Unmap()
	e, found, err := c.Lookup(k)
	if found {
		i, r := e.Ends()
		a, b = i.Addr().Unmap(), r.Addr().Unmap()
	}
	switch {
	case c.cfg.IsLocal(k.NetNS, a) || c.cfg.IsLocal(k.NetNS, b):
		return Local, err
	case c.cfg.IsContainer(k.NetNS, a) || c.cfg.IsContainer(k.NetNS, b):
		return CountedElsewhere, err
	}
	return Forwarded, err
}

// Lookup returns the conntrack entry of flow k in namespace k.NetNS. It
// asks first with Remote→Local (the wire tuple of an inbound packet: the
// Orig of a port forward, the Reply of a masqueraded flow), then
// Local→Remote. found is false when there is no entry or no table; err
// says why the table could not be asked.
func (c *Classifier) Lookup(k flow.Key) (e Entry, found bool, err error) {
	if k.Proto != flow.TCP && k.Proto != flow.UDP {
		return Entry{}, false, nil
	}
	t := c.cfg.Table(k.NetNS)
	if t == nil {
		return Entry{}, false, nil
	}
	in := Tuple{Proto: k.Proto, Src: unmap(k.Remote), Dst: unmap(k.Local)}
	for _, q := range [2]Tuple{in, in.Reverse()} {
		e, err := t.Get(q)
		switch {
		case err == nil:
			return e, true, nil
		case !errors.Is(err, ErrNotFound):
			return Entry{}, false, err
		}
	}
	return Entry{}, false, nil
}

// unmap gives an IPv4 address mapped into IPv6 as the IPv4 address
// conntrack tracks.
func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

package monitor

import (
	"errors"
	"io"
	"net"
	"time"

	"hogs/decode"
	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/rawcap"
)

// frameClock times packets on the monitor's monotonic clock without
// reading it for every packet (a clock read costs about as much as
// decoding): it anchors the kernel's timestamps to the monotonic clock
// every anchorEvery packets, and again whenever a packet's timestamp is
// more than anchorGap before or after the previous one's (a step of the
// wall clock, or a quiet spell); the packets in between are placed by
// their kernel timestamp's distance from the anchor. A step of the wall
// clock by less than anchorGap can thus misplace packets by that much
// until the next anchor, and time never moves backwards.
type frameClock struct {
	mono              func() int64
	packets           uint32
	anchor, anchorRaw int64
	lastRaw, last     int64
	// replay, if set, times the packets instead (a capture file's clock).
	replay *replayClock
}

const (
	anchorEvery = 1024
	anchorGap   = int64(250 * time.Millisecond)
)

func (c *frameClock) at(f *rawcap.Frame) int64 {
	if c.replay != nil {
		return c.replay.at(f)
	}
	raw := f.Timestamp.UnixNano()
	c.packets++
	// A timestamp more than anchorGap before or after the last is one
	// unsigned comparison (packets of both directions interleave with
	// timestamps a little out of order: that is no step of the clock); a
	// frame without a timestamp (the zero Time) gives a negative raw.
	if c.packets%anchorEvery == 1 || uint64(raw-c.lastRaw+anchorGap) > uint64(2*anchorGap) || raw <= 0 {
		c.anchor, c.anchorRaw = c.mono(), raw
	}
	c.lastRaw = raw
	t := c.anchor + (raw - c.anchorRaw)
	if t < c.last {
		t = c.last
	}
	c.last = t
	return t
}

// capture reads frames from src until it ends, accounting each in the
// table. It returns nil at the end of a file or once the source is closed.
func (m *Monitor) capture(src Source, clock *frameClock) error {
	var (
		f     rawcap.Frame
		pkt   decode.Packet
		key   flow.Key
		adder = m.adder
		// The flow signature of the current run's packets in each
		// direction (decode.IPv4FlowSignature), and the run it is of.
		runSig [decode.DirOut + 1]decode.FlowSignature
		runOf  [decode.DirOut + 1]uint64
		// runNS is the namespace of the run's packets: the same
		// signature in another namespace is another flow.
		runNS [decode.DirOut + 1]uint32
	)
	// The Adder holds runs of one flow's packets: hand them on whenever the
	// source waits, and at the end.
	if s, ok := m.src.(IdleNotifier); ok {
		s.OnIdle(adder.Flush)
	}
	defer adder.Flush()
	for {
		if err := src.Next(&f); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		// The one shortcut: a packet of the flow the Adder is on, as its
		// raw IPv4 header shows, needs no decoding. (Only live capture
		// records directions.) The clock is read only for packets that are
		// counted: a replay's refreshes follow them.
		var sig decode.FlowSignature
		sigOK := f.LinkType == decode.LinkRaw && (f.Direction == decode.DirIn || f.Direction == decode.DirOut)
		if sigOK {
			sig, sigOK = decode.IPv4FlowSignature(f.Data)
		}
		if sigOK && sig == runSig[f.Direction] && runOf[f.Direction] == adder.RunID() && runNS[f.Direction] == f.NetNS &&
			adder.AddToRun(f.Direction == decode.DirOut, f.WireLen, clock.at(&f)) {
			continue
		}
		decode.Decode(f.LinkType, f.Data, &pkt)
		if pkt.Proto == decode.ProtoUDP && !m.cfg.UDP {
			continue
		}
		if m.cfg.Filter != nil && (pkt.Family == decode.NotIP || !m.cfg.Filter.Match(f.Data[pkt.NetOffset:])) {
			continue
		}
		out, ok := conntable.KeyOf(&pkt, f.Direction, &key)
		if !ok {
			continue
		}
		key.NetNS = f.NetNS
		isNew := adder.Add(&key, out, f.WireLen, clock.at(&f), f.InterfaceName)
		if sigOK {
			runSig[f.Direction], runOf[f.Direction], runNS[f.Direction] = sig, adder.RunID(), f.NetNS
		}
		if isNew {
			m.queueResolve(key)
		}
	}
}

// queueResolve hands a new flow to the resolver goroutine.
func (m *Monitor) queueResolve(k flow.Key) {
	if m.attr == nil {
		return
	}
	select {
	case m.newFlows <- k:
	default: // the resolver is behind; the refresh loop's retry picks it up
	}
}

// watchHandshakes opens the flow of each TCP handshake packet the source's
// fast path delivers, as soon as it arrives, and hands new flows to the
// resolver: a connection that lasts a few milliseconds still has its
// socket then, while the counted path may hold its packets for a while.
func (m *Monitor) watchHandshakes(src HandshakeSource) error {
	var (
		f   rawcap.Frame
		pkt decode.Packet
		k   flow.Key
	)
	for {
		if err := src.NextHandshake(&f); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		decode.Decode(f.LinkType, f.Data, &pkt)
		if pkt.Proto != decode.ProtoTCP {
			continue
		}
		if _, ok := conntable.KeyOf(&pkt, f.Direction, &k); !ok {
			continue
		}
		k.NetNS = f.NetNS
		if m.table.Open(k, m.cfg.Now(), f.InterfaceName) {
			m.queueResolve(k)
		}
	}
}

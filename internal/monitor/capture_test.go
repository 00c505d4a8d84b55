package monitor

import (
	"encoding/binary"
	"hogs/internal/flow"
	"io"
	"testing"
	"time"

	"hogs/decode"
	"hogs/internal/conntable"
	"hogs/rawcap"
	"hogs/ui"
)

// frameList is a frame source that hands out a fixed list of frames.
type frameList struct {
	frames []rawcap.Frame
	next   int
}

func (l *frameList) Next(f *rawcap.Frame) error {
	if l.next == len(l.frames) {
		return io.EOF
	}
	*f = l.frames[l.next]
	l.next++
	return nil
}

func (l *frameList) Close() error { return nil }

func (l *frameList) Capture() ui.CaptureStats {
	return ui.CaptureStats{Source: "list", Received: uint64(l.next)}
}

// ipv4Frame builds a raw IPv4 packet: header (ihl words, with zero options
// past 5), then the ports and 16 more bytes; total is the IP total length
// field, frag the flags-and-offset field.
func ipv4Frame(ihl int, frag, total uint16, proto byte, src, dst [4]byte, sport, dport uint16) []byte {
	b := make([]byte, ihl*4+20)
	b[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(b[2:4], total)
	binary.BigEndian.PutUint16(b[6:8], frag)
	b[8], b[9] = 64, proto
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[ihl*4:], sport)
	binary.BigEndian.PutUint16(b[ihl*4+2:], dport)
	return b
}

// TestCaptureCountsAsDecoded: the capture loop, which recognises the
// packets of the flow it is on by their flow signature without decoding
// them, accounts every packet as decoding each one and adding it by its
// key would. The frames mix flows that differ in one field, both
// directions, the same bytes in both directions (loopback), fragments,
// IPv4 options, an IP length too short for the ports, runs of one flow,
// and the same packets in another network namespace (Frame.NetNS), which
// are another flow.
func TestCaptureCountsAsDecoded(t *testing.T) {
	local, peer, other := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, [4]byte{10, 0, 0, 3}
	type shape struct {
		b     []byte
		dir   decode.Direction
		netns uint32
	}
	var shapes []shape
	for _, dir := range []decode.Direction{decode.DirIn, decode.DirOut} {
		src, dst, sp, dp := peer, local, uint16(443), uint16(40000)
		if dir == decode.DirOut {
			src, dst, sp, dp = local, peer, 40000, 443
		}
		shapes = append(shapes,
			shape{ipv4Frame(5, 0x4000, 100, decode.ProtoTCP, src, dst, sp, dp), dir, 0},
			shape{ipv4Frame(5, 0x4000, 100, decode.ProtoUDP, src, dst, sp, dp), dir, 0},
			shape{ipv4Frame(5, 0x4000, 100, decode.ProtoTCP, src, dst, sp+1, dp), dir, 0},
			shape{ipv4Frame(5, 0x4000, 100, decode.ProtoTCP, other, dst, sp, dp), dir, 0},
			shape{ipv4Frame(5, 0x4000, 100, decode.ProtoTCP, src, other, sp, dp), dir, 0},
			shape{ipv4Frame(5, 0x2000, 100, decode.ProtoTCP, src, dst, sp, dp), dir, 0}, // first fragment
			shape{ipv4Frame(5, 0x0010, 100, decode.ProtoTCP, src, dst, sp, dp), dir, 0}, // later fragment
			shape{ipv4Frame(6, 0x4000, 100, decode.ProtoTCP, src, dst, sp, dp), dir, 0}, // options
			shape{ipv4Frame(5, 0x4000, 22, decode.ProtoTCP, src, dst, sp, dp), dir, 0},  // ports past the IP length
			shape{ipv4Frame(5, 0x4000, 100, decode.ProtoICMP, src, dst, sp, dp), dir, 0},
			// The other direction's bytes, as loopback shows each packet
			// twice, outgoing and incoming: another flow key.
			shape{ipv4Frame(5, 0x4000, 100, decode.ProtoTCP, dst, src, dp, sp), dir, 0},
		)
	}
	for _, sh := range shapes[:len(shapes):len(shapes)] {
		shapes = append(shapes, shape{sh.b, sh.dir, 4026532001})
	}
	src := &frameList{}
	base := time.Unix(1_700_000_000, 0)
	state := uint32(7)
	rnd := func(n int) int {
		state ^= state << 13
		state ^= state >> 17
		state ^= state << 5
		return int(state % uint32(n))
	}
	for range 5000 {
		s := shapes[rnd(len(shapes))]
		for range 1 + rnd(5) {
			ts := base.Add(time.Duration(len(src.frames)+1) * time.Millisecond)
			src.frames = append(src.frames, rawcap.Frame{Data: s.b, WireLen: 60 + rnd(1400), LinkType: decode.LinkRaw, Direction: s.dir, InterfaceName: "eth0", Timestamp: ts, NetNS: s.netns})
		}
	}

	m := New(Config{UDP: true}, src, nil, nil)
	// The monotonic clock reads as the frame's timestamp since base, so
	// that each packet's time is known wherever the clock anchors.
	mono := func() int64 { return int64(src.frames[src.next-1].Timestamp.Sub(base)) }
	if err := m.capture(src, &frameClock{mono: mono}); err != nil {
		t.Fatal(err)
	}

	want := conntable.New(conntable.Config{})
	var pkt decode.Packet
	var k flow.Key
	var counted int
	at := int64(0)
	for _, f := range src.frames {
		at += 1e6
		decode.Decode(f.LinkType, f.Data, &pkt)
		if out, ok := conntable.KeyOf(&pkt, f.Direction, &k); ok {
			k.NetNS = f.NetNS
			want.Add(k, out, f.WireLen, at, f.InterfaceName)
			counted++
		}
	}
	now := at
	got, exp := m.table.Snapshot(now), want.Snapshot(now)
	if len(got.Flows) != len(exp.Flows) || counted == 0 || counted == len(src.frames) {
		t.Fatalf("%d flows, want %d (%d of %d frames counted)", len(got.Flows), len(exp.Flows), counted, len(src.frames))
	}
	byKey := map[flow.Key]conntable.FlowStat{}
	for _, f := range got.Flows {
		byKey[f.Key] = f
	}
	for _, w := range exp.Flows {
		g := byKey[w.Key]
		if g.Sent != w.Sent || g.Recv != w.Recv || g.First != w.First || g.Last != w.Last {
			t.Errorf("flow %v: capture loop %+v, decoding each packet %+v", w.Key, g, w)
		}
	}
}

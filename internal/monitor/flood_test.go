package monitor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"hogs/decode"
	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/rawcap"
	"hogs/ui"
)

// The TCP flags the flood tests send.
const (
	synFlag = 0x02
	rstFlag = 0x04
	ackFlag = 0x10
)

// floodGen makes the frames of issue 14's scenario: a random-tuple flood
// (every packet a new flow to 10.0.0.1) with this host's answers, and a
// real download that this host opened, interleaved.
type floodGen struct {
	state uint64
	ts    time.Time
	// answer is what this host sends back to a flood packet: 0 nothing,
	// else a TCP segment with these flags (a reset from a closed port, a
	// SYN-ACK from a listening one).
	answer byte
	udp    bool
	// handshake: the flood's peer answers the SYN-ACK (a connect flood).
	handshake bool
	// The download's totals so far, and the flood's bytes received.
	dlSent, dlRecv, floodRecv uint64
}

var (
	floodLocal = [4]byte{10, 0, 0, 1}
	dlServer   = [4]byte{10, 0, 0, 2}
)

const dlPort = 45000 // the download's local port: the fake attributor's PID

// frame is a raw IPv4 TCP or UDP packet between local and remote, sent
// (out) or received, with TCP flags.
func frame(proto uint8, local, remote [4]byte, lport, rport uint16, out bool, flags byte, wire int, ts time.Time) rawcap.Frame {
	src, dst, sp, dp, dir := remote, local, rport, lport, decode.DirIn
	if out {
		src, dst, sp, dp, dir = local, remote, lport, rport, decode.DirOut
	}
	b := make([]byte, 40)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:4], 40)
	b[8], b[9] = 64, proto
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[20:], sp)
	binary.BigEndian.PutUint16(b[22:], dp)
	if proto == decode.ProtoTCP {
		b[33] = flags
	}
	return rawcap.Frame{Data: b, WireLen: wire, LinkType: decode.LinkRaw, Direction: dir, Timestamp: ts, InterfaceName: "vA"}
}

func (g *floodGen) next() uint64 {
	x := g.state
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	g.state = x
	return x
}

// flood appends n flood packets, each with this host's answer, and every
// tenth a download packet, spread over d.
func (g *floodGen) flood(dst []rawcap.Frame, n int, d time.Duration) []rawcap.Frame {
	step := d / time.Duration(n)
	for i := range n {
		g.ts = g.ts.Add(step)
		x := g.next()
		remote := [4]byte{byte(x), byte(x >> 8), byte(x >> 16), byte(x>>24) | 1}
		lport, rport := uint16(x>>32), uint16(x>>48)
		proto := decode.ProtoTCP
		if g.udp {
			proto = decode.ProtoUDP
		}
		dst = append(dst, frame(proto, floodLocal, remote, lport, rport, false, synFlag, 60, g.ts))
		g.floodRecv += 60
		if g.answer != 0 {
			dst = append(dst, frame(decode.ProtoTCP, floodLocal, remote, lport, rport, true, g.answer, 54, g.ts))
		}
		if g.handshake {
			dst = append(dst, frame(decode.ProtoTCP, floodLocal, remote, lport, rport, false, ackFlag, 54, g.ts))
			g.floodRecv += 54
		}
		if i%10 == 0 {
			dst = append(dst, g.download(1514, false), g.download(66, true))
		}
	}
	return dst
}

// download is one packet of the download.
func (g *floodGen) download(wire int, out bool) rawcap.Frame {
	if out {
		g.dlSent += uint64(wire)
	} else {
		g.dlRecv += uint64(wire)
	}
	return frame(decode.ProtoTCP, floodLocal, dlServer, dlPort, 80, out, ackFlag, wire, g.ts)
}

// TestFloodResolution runs issue 14's floods through a live monitor with
// a fake attributor that would own every flow: a SYN flood answered by
// resets, one on a listening port answered by SYN-ACKs, and a UDP storm
// (answered by ICMP, which is not counted), each while a download runs.
// No flood flow is ever looked up, unless its peers complete the handshake
// (a connect flood): then the lookups keep to the budget and the backlog
// shows in the view. The download, opened by this host, is
// attributed exactly; the unknown rows count every flood packet, list at
// most conntable.UnknownDetail flows, and the trace and JSON lines stay
// bounded; -x says how many flows were not worth a lookup.
func TestFloodResolution(t *testing.T) {
	const rate = 100 // lookups a second
	for _, tc := range []struct {
		name      string
		answer    byte
		udp       bool
		handshake bool // a connect flood: every flow worth a lookup
	}{
		{"syn-rst", rstFlag, false, false},
		{"syn-synack", synFlag | ackFlag, false, false},
		{"udp", 0, true, false},
		{"connect", synFlag | ackFlag, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log lockedBuffer
			r := startLive(t, Config{UDP: true, MaxFlows: 4096, Log: &log, LookupRate: rate})
			g := &floodGen{state: 88172645463325252, ts: time.Unix(1_700_000_000, 0), answer: tc.answer, udp: tc.udp, handshake: tc.handshake}
			// This host opens the download: its SYN, then the SYN-ACK.
			r.src.send(frame(decode.ProtoTCP, floodLocal, dlServer, dlPort, 80, true, synFlag, 74, g.ts),
				frame(decode.ProtoTCP, floodLocal, dlServer, dlPort, 80, false, synFlag|ackFlag, 74, g.ts))
			g.dlSent, g.dlRecv = 74, 74
			r.waitLookups(t, 1)
			const perSecond, seconds = 5000, 4
			var v *ui.View
			for range seconds {
				r.src.send(g.flood(nil, perSecond, time.Second)...)
				v = r.refresh(t, time.Second)
			}
			switch n := r.attr.lookups.Load(); {
			case !tc.handshake && n > 1:
				t.Errorf("%d lookups; want the download's only", n)
			case tc.handshake && (n > rate*(seconds+1) || v.Pipeline.LookupBacklog == 0):
				t.Errorf("%d lookups in %d s at %d/s, backlog %d", n, seconds, rate, v.Pipeline.LookupBacklog)
			}
			dl := rowNamed(v, progName(dlPort))
			if dl == nil || dl.PID != dlPort || dl.Sent.Bytes != g.dlSent || dl.Recv.Bytes != g.dlRecv {
				t.Fatalf("download row %+v; want %d bytes sent, %d received", dl, g.dlSent, g.dlRecv)
			}
			name := "unknown TCP"
			if tc.udp {
				name = "unknown UDP"
			}
			u := rowNamed(v, name)
			if u == nil || !tc.handshake && u.Recv.Packets != perSecond*seconds || len(u.Flows) > conntable.UnknownDetail || u.FlowCount > 2*(4096+64) { // the cap's entries, as many on probation
				t.Fatalf("%s row: %+v received, %d flows listed of %d", name, u.Recv, len(u.Flows), u.FlowCount)
			}
			if _, recv := rowTotals(v); recv != g.floodRecv+g.dlRecv {
				t.Errorf("rows received %d bytes, want %d", recv, g.floodRecv+g.dlRecv)
			}
			var trace, js bytes.Buffer
			if err := ui.WriteTrace(&trace, v, ui.TraceOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := ui.WriteJSON(&js, v, ui.JSONOptions{Connections: true}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(trace.String(), "\n")
			if lines > 2+len(v.Rows)+ui.MaxUnknownLines+1 || js.Len() > 64<<10+len(v.Rows)*1024 {
				t.Errorf("a refresh is %d trace lines, %d bytes of JSON", lines, js.Len())
			}
			// Too many to visit all: the ones listed are the notable, here
			// none, and the summary says how many more there are.
			if !tc.udp && !strings.Contains(trace.String(), fmt.Sprintf("Unknown connections: %d more\n", u.FlowCount-len(u.Flows))) {
				t.Errorf("no summary line for %d unknown flows:\n%s", u.FlowCount, lastLines(trace.String(), 3))
			}
			if !strings.Contains(log.String(), "not worth one") || !strings.Contains(log.String(), "waiting for a lookup") {
				t.Errorf("-x lines:\n%s", lastLines(log.String(), 2))
			}
			t.Logf("%s; -x: %s", name, lastLines(log.String(), 1))
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

var _ io.Writer = (*lockedBuffer)(nil)

// cyclingSource hands out frames round and round, and has the monitor
// refresh every refreshEvery frames, on the capture goroutine: a benchmark
// then counts the refreshes' CPU with the packets'.
type cyclingSource struct {
	frames       []rawcap.Frame
	next, served int
	refreshEvery int
	m            *Monitor
	limit        int
}

func (s *cyclingSource) Next(f *rawcap.Frame) error {
	if s.served == s.limit {
		return io.EOF
	}
	*f = s.frames[s.next]
	s.next = (s.next + 1) % len(s.frames)
	s.served++
	if s.served%s.refreshEvery == 0 {
		s.m.adder.Flush()
		if err := s.m.refresh(s.m.cfg.Now()); err != nil {
			return err
		}
	}
	return nil
}

func (s *cyclingSource) Capture() ui.CaptureStats { return ui.CaptureStats{Source: "cycling"} }
func (s *cyclingSource) Close() error             { return nil }

// BenchmarkFloodCapture is the CPU per packet of issue 14's SYN flood
// (every packet a new flow, answered by a reset) through the capture loop,
// the table at its default cap, and a refresh with a trace every 50,000
// packets (a second at 50,000 packets/s). ns/op is per packet.
func BenchmarkFloodCapture(b *testing.B) {
	g := &floodGen{state: 88172645463325252, ts: time.Unix(1_700_000_000, 0), answer: rstFlag}
	frames := g.flood(nil, 200_000, 4*time.Second) // 4 times the cap: flows never repeat in the table
	src := &cyclingSource{frames: frames, refreshEvery: 50_000, limit: b.N}
	owners := flow.NewOwners()
	sink := SinkFunc(func(v *ui.View) error { return ui.WriteTrace(io.Discard, v, ui.TraceOptions{}) })
	m := New(Config{UDP: true}, src, newFakeAttributor(owners), owners, sink)
	src.m = m
	m.start = time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	if err := m.capture(src, &frameClock{mono: m.cfg.Now}); err != nil {
		b.Fatal(err)
	}
}

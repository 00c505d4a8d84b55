package rawcap

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hogs/decode"
	"hogs/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// recordedCapture is one capture the project records itself
// (testdata/captures): where tcpdump listens and the traffic it sees.
type recordedCapture struct {
	file     string   // under testdata/captures
	ns       string   // "a" or "b": the namespace tcpdump runs in (and for "b", loopback, the client too)
	device   string   // the device whose counters the recording keeps (FILE.counters)
	tcpdump  []string // interface and format options
	exchange []exchange
}

// deviceCounters is what a device's kernel counters (ip -s link) moved by
// while a capture was recorded, with the device's own addresses: the
// traffic a replay of the capture must count.
type deviceCounters struct {
	Device    string   `json:"device"`
	Local     []string `json:"local"` // packets from these addresses were sent
	TxPackets uint64   `json:"tx_packets"`
	TxBytes   uint64   `json:"tx_bytes"`
	RxPackets uint64   `json:"rx_packets"`
	RxBytes   uint64   `json:"rx_bytes"`
}

// exchange is one conversation of the recorded traffic: TCP sends up bytes
// from client to server, then down bytes back, then both close; UDP sends
// rounds datagrams of up bytes, each answered by one of down bytes.
type exchange struct {
	proto          string // "tcp" or "udp"
	client, server string // address:port; the client runs in namespace a, or b for loopback
	up, down       int
	rounds         int // UDP only
}

// recordedCaptures lists the fixtures. Namespace a (10.77.0.1, fd77::1) and
// b (10.77.0.2, fd77::2) share a veth pair vA-vB with fixed MAC addresses
// and static neighbours; every client port is fixed.
func recordedCaptures() []recordedCapture {
	return []recordedCapture{{
		file:    "veth-ipv4.pcap",
		ns:      "a",
		device:  "vA",
		tcpdump: []string{"-i", "vA", "-s", "128"},
		exchange: []exchange{
			{proto: "tcp", client: "10.77.0.1:40001", server: "10.77.0.2:5001", up: 20000, down: 3000},
			{proto: "udp", client: "10.77.0.1:40002", server: "10.77.0.2:5002", up: 100, down: 300, rounds: 5},
		},
	}, {
		file:    "veth-ipv6-any.pcap",
		ns:      "a",
		device:  "vA",
		tcpdump: []string{"-i", "any", "-y", "LINUX_SLL2", "--time-stamp-precision=nano", "-s", "128"},
		exchange: []exchange{
			{proto: "tcp", client: "[fd77::1]:40003", server: "[fd77::2]:5003", up: 12000, down: 5000},
			{proto: "udp", client: "[fd77::1]:40004", server: "[fd77::2]:5004", up: 200, down: 50, rounds: 4},
		},
	}, {
		file:    "loopback.pcap",
		ns:      "b",
		device:  "lo",
		tcpdump: []string{"-i", "lo", "-s", "0"},
		exchange: []exchange{
			{proto: "tcp", client: "127.0.0.1:40005", server: "127.0.0.1:5005", up: 2000, down: 500},
			{proto: "udp", client: "[::1]:40006", server: "[::1]:5006", up: 50, down: 80, rounds: 3},
		},
	}}
}

// flowDir is one direction of a conversation in a capture.
type flowDir struct {
	proto    string
	src, dst netip.AddrPort
}

func (d flowDir) String() string { return d.proto + " " + d.src.String() + " > " + d.dst.String() }

// flowCount is what a capture holds for one flowDir.
type flowCount struct {
	packets, wire, payload int
}

// payloadLen returns the TCP or UDP payload length of a decoded frame: the
// IP length less the IP and transport headers.
func payloadLen(t *testing.T, p *decode.Packet, data []byte) int {
	ipHeaders := int(p.TransportOffset - p.NetOffset)
	switch {
	case p.IsUDP():
		return int(p.IPLen) - ipHeaders - 8
	case p.IsTCP() && int(p.TransportOffset)+13 <= len(data):
		return int(p.IPLen) - ipHeaders - int(data[p.TransportOffset+12]>>4)*4
	}
	t.Fatalf("frame without a TCP or UDP header: %+v", p)
	return 0
}

// TestRecordedCaptures replays the captures the project records itself
// (testdata/captures, see TestRecordCaptures) and checks them three ways:
// the payload each way is what the recording sent; the wire bytes each way,
// by the rule of InterfaceLen, are what the capturing device's kernel
// counters moved by during the recording (FILE.counters); and frames,
// timestamps and per-flow totals match the golden FILE.summary.
func TestRecordedCaptures(t *testing.T) {
	for _, rc := range recordedCaptures() {
		t.Run(rc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "captures", rc.file)
			r, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var counters deviceCounters
			b, err := os.ReadFile(path + ".counters")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &counters); err != nil {
				t.Fatalf("%s.counters: %v", path, err)
			}
			local := map[netip.Addr]bool{}
			for _, a := range counters.Local {
				local[netip.MustParseAddr(a)] = true
			}

			var (
				summary        strings.Builder
				f              Frame
				p              decode.Packet
				flows          = map[flowDir]*flowCount{}
				order          []flowDir
				first, last    time.Time
				frames         int
				captured, wire int
				tx, rx         deviceCounters
			)
			for {
				err := r.Next(&f)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d frames: %v", frames, err)
				}
				decode.Decode(f.LinkType, f.Data, &p)
				if !p.Has(decode.FlagPorts) {
					t.Fatalf("frame %d: no ports: %+v", frames, p)
				}
				proto := map[bool]string{true: "tcp", false: "udp"}[p.IsTCP()]
				dir := flowDir{proto, netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort)}
				c := flows[dir]
				if c == nil {
					c = &flowCount{}
					flows[dir] = c
					order = append(order, dir)
				}
				c.packets++
				c.wire += f.WireLen
				c.payload += payloadLen(t, &p, f.Data)
				if frames == 0 {
					first = f.Timestamp
				}
				last = f.Timestamp
				frames++
				captured += len(f.Data)
				wire += f.WireLen
				// Sent when it comes from the device's own address; on lo
				// every packet is sent and received.
				if local[p.Src] {
					tx.TxPackets++
					tx.TxBytes += uint64(f.WireLen)
				}
				if local[p.Dst] {
					rx.RxPackets++
					rx.RxBytes += uint64(f.WireLen)
				}
				// A cooked capture records the direction; the reader must
				// report it, as the decoder reads it.
				if cooked := f.LinkType == decode.LinkLinuxSLL2; cooked && (f.Direction != p.Direction || (f.Direction == decode.DirOut) != local[p.Src] || f.Direction == decode.DirUnknown) ||
					!cooked && f.Direction != decode.DirUnknown {
					t.Errorf("frame %d from %v: direction %v, decoded %v", frames, p.Src, f.Direction, p.Direction)
				}
				fmt.Fprintf(&summary, "%4d %s %-4s %4d captured %5d wire %s\n", frames, f.Timestamp.Format(time.RFC3339Nano),
					proto, len(f.Data), f.WireLen, dir)
			}

			if tx.TxPackets != counters.TxPackets || tx.TxBytes != counters.TxBytes ||
				rx.RxPackets != counters.RxPackets || rx.RxBytes != counters.RxBytes {
				t.Errorf("replay counts sent %d packets %d bytes, received %d packets %d bytes;\n%s counted sent %d packets %d bytes, received %d packets %d bytes",
					tx.TxPackets, tx.TxBytes, rx.RxPackets, rx.RxBytes, counters.Device,
					counters.TxPackets, counters.TxBytes, counters.RxPackets, counters.RxBytes)
			}

			for _, ex := range rc.exchange {
				client, server := netip.MustParseAddrPort(ex.client), netip.MustParseAddrPort(ex.server)
				rounds := max(ex.rounds, 1)
				for _, want := range []struct {
					dir     flowDir
					payload int
				}{
					{flowDir{ex.proto, client, server}, ex.up * rounds},
					{flowDir{ex.proto, server, client}, ex.down * rounds},
				} {
					c := flows[want.dir]
					if c == nil || c.payload != want.payload {
						t.Errorf("%v: %+v, want %d payload bytes", want.dir, c, want.payload)
					}
				}
			}
			if len(flows) != 2*len(rc.exchange) {
				t.Errorf("%d flow directions, want %d: %v", len(flows), 2*len(rc.exchange), order)
			}

			head := fmt.Sprintf("%s: %v, %d frames, %s to %s, %d bytes captured, %d wire\n",
				rc.file, f.LinkType, frames, first.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano), captured, wire)
			for _, d := range order {
				c := flows[d]
				head += fmt.Sprintf("%v: %d packets, %d wire bytes, %d payload\n", d, c.packets, c.wire, c.payload)
			}
			golden.Check(t, path+".summary", []byte(head+summary.String()), *update)
		})
	}
}

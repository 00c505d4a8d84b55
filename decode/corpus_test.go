package decode_test

import (
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"

	"hogs/decode"
	"hogs/internal/sharedpcaps"
	"hogs/rawcap"
)

// captured is one frame of a shared capture.
type captured struct {
	name string // file:frame
	link decode.LinkType
	data []byte
}

// readCaptures returns every frame of the captures at paths.
func readCaptures(tb testing.TB, paths []string) []captured {
	tb.Helper()
	var frames []captured
	for _, path := range paths {
		r, err := rawcap.OpenFile(path)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		var f rawcap.Frame
		for n := 1; ; n++ {
			err := r.Next(&f)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("%s: %v", path, err)
			}
			frames = append(frames, captured{filepath.Base(path) + ":" + strconv.Itoa(n), f.LinkType, append([]byte(nil), f.Data...)})
		}
		r.Close()
	}
	return frames
}

// links are the link types every frame is also decoded under.
var links = []decode.LinkType{decode.LinkNull, decode.LinkEthernet, decode.LinkRawAlt, decode.LinkRaw, decode.LinkLinuxSLL,
	decode.LinkIPv4, decode.LinkIPv6, decode.LinkLinuxSLL2, 147}

// TestDecodeCorpus decodes every frame of the shared captures and every
// prefix of each (a capture may end anywhere) under its own link type, and
// the first 128 bytes' prefixes under every other link type. It checks,
// field by field:
//   - the fast path agrees with the general IPv4 decoder on every prefix of
//     every IPv4 packet in the corpus, whatever link it came on, and on the
//     frames' first bytes taken as IPv4 (checkFastPath);
//   - a frame that holds IP decodes as its IP packet alone does, but for
//     the link layer's fields (checkIPInside);
//   - a prefix of a frame decodes as the whole frame, or is marked truncated
//     and agrees with the whole frame on what it reports (checkPrefix).
func TestDecodeCorpus(t *testing.T) {
	frames := readCaptures(t, sharedpcaps.Captures(t))
	fast, checked := 0, 0
	for _, f := range frames {
		var whole decode.Packet
		decode.Decode(f.link, f.data, &whole)
		for _, link := range links {
			n := min(len(f.data), 128)
			if link == f.link {
				n = len(f.data)
			}
			for i := 0; i <= n; i++ {
				checked++
				b := f.data[:i]
				var p decode.Packet
				decode.Decode(link, b, &p)
				ok := checkIPInside(t, link, b, &p)
				if link == f.link && i < len(f.data) {
					ok = checkPrefix(t, &p, &whole) && ok
				}
				if !ok {
					t.Fatalf("%s, decoded as %v, first %d of %d bytes", f.name, link, i, len(f.data))
				}
			}
		}
		for i := 0; i <= len(f.data); i++ {
			b := f.data[:i]
			for _, off := range []int{0, int(whole.NetOffset)} {
				if off > 0 && whole.Family != decode.IPv4 || i > 128 && off == 0 {
					continue
				}
				checked++
				taken, ok := checkFastPath(t, b, off)
				if !ok {
					t.Fatalf("%s: IPv4 at %d, first %d of %d bytes", f.name, off, i, len(f.data))
				}
				if taken {
					fast++
				}
			}
		}
	}
	// Without many IPv4 TCP and UDP packets the fast path would not have
	// been compared on much.
	if fast < 10000 {
		t.Errorf("the fast path took only %d of the decodes", fast)
	}
	t.Logf("%d frames, %d decodes checked, %d by the fast path", len(frames), checked, fast)
}

var (
	dirty4 = netip.MustParseAddr("192.0.2.1")
	dirty6 = netip.MustParseAddr("fe80::1%eth0")
)

// dirtyPackets are two Packets with every field set, differently: a decoder
// must overwrite them all.
func dirtyPackets() (a, b decode.Packet) {
	a = decode.Packet{Family: decode.IPv6, Proto: 99, SrcPort: 1, DstPort: 2, Flags: 0xffff, VLAN: 7, Src: dirty6, Dst: dirty6,
		IPLen: 9, Direction: decode.DirOut, EtherType: 1, NetOffset: 3, TransportOffset: 4, TCPFlags: 5}
	b = decode.Packet{Family: decode.IPv4, Proto: 1, SrcPort: 3, DstPort: 4, Flags: decode.FlagPorts, VLAN: 1, Src: dirty4, Dst: dirty4,
		IPLen: 1, Direction: decode.DirIn, EtherType: 2, NetOffset: 5, TransportOffset: 6, TCPFlags: 7}
	return a, b
}

// checkFastPath decodes the IPv4 header at off in b with the fast path and
// with the general decoder, each into a different dirty Packet, and reports
// whether the fast path took it and whether the two agree (logging a
// difference).
func checkFastPath(t testing.TB, b []byte, off int) (taken, ok bool) {
	t.Helper()
	if off > len(b) {
		return false, true
	}
	fast, general := dirtyPackets()
	if !decode.DecodeIPv4Paths(b, off, &fast, &general) {
		return false, true
	}
	if fast != general {
		t.Errorf("IPv4 at %d in %x\n fast path %+v\n   general %+v", off, b, fast, general)
		return true, false
	}
	return true, true
}

// checkIPInside checks that the IP packet inside frame b, decoded as p on
// link, decodes as raw IP to p without the link layer's fields.
func checkIPInside(t testing.TB, link decode.LinkType, b []byte, p *decode.Packet) bool {
	t.Helper()
	if p.Family == decode.NotIP || p.NetOffset == 0 {
		return true // nothing to compare: no IP, or no link header before it
	}
	if int(p.NetOffset) > len(b) {
		t.Errorf("Decode(%v, %x): NetOffset %d beyond the frame", link, b, p.NetOffset)
		return false
	}
	want := *p
	want.EtherType, want.VLAN, want.Direction, want.Flags = 0, 0, decode.DirUnknown, p.Flags&^decode.FlagVLAN
	want.NetOffset = 0
	if p.TransportOffset != 0 {
		want.TransportOffset -= p.NetOffset
	}
	var got decode.Packet
	decode.Decode(decode.LinkRaw, b[p.NetOffset:], &got)
	if got != want {
		t.Errorf("the IP packet of Decode(%v, %x) alone\n got %+v\nwant %+v", link, b, got, want)
		return false
	}
	return true
}

// checkPrefix checks a prefix's decode p against the whole frame's: the
// same (but for IPLen under FlagZeroLength, the captured length), or marked
// truncated and agreeing on the addresses, ports and TCP flags it reports.
func checkPrefix(t testing.TB, p, whole *decode.Packet) bool {
	t.Helper()
	same := *p
	if p.Has(decode.FlagZeroLength) && p.Family == decode.IPv4 {
		same.IPLen = whole.IPLen
	}
	if same == *whole {
		return true
	}
	switch {
	case !p.Has(decode.FlagTruncated):
		t.Errorf("a prefix decodes to %+v, not truncated, the whole frame to %+v", p, whole)
	case p.Family != decode.NotIP && (p.Family != whole.Family || p.Src != whole.Src || p.Dst != whole.Dst || p.NetOffset != whole.NetOffset):
		t.Errorf("a prefix decodes to %+v, the whole frame to a different IP header %+v", p, whole)
	case p.Has(decode.FlagPorts) && (p.SrcPort != whole.SrcPort || p.DstPort != whole.DstPort),
		p.Has(decode.FlagTCPFlags) && p.TCPFlags != whole.TCPFlags:
		t.Errorf("a prefix decodes to %+v, the whole frame to other ports or flags %+v", p, whole)
	default:
		return true
	}
	return false
}

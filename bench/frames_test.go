package bench

import (
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"hogs/decode"
	"hogs/internal/sharedpcaps"
	"hogs/rawcap"
)

// frame is one captured frame held in memory.
type frame struct {
	link decode.LinkType
	data []byte
}

// Hot-path frames, annotated field by field.
const (
	// Ethernet, IPv4 (IHL 5, total length 52, TCP), TCP ACK with timestamps.
	ethIPv4TCP = "020000000002 020000000001 0800" +
		"45000034 1c464000 4006 0000 c0a80001 c0a800c7" +
		"a02801bb 00000001 00000002 8010ffff 00000000 0101080a0000000000000000"
	// Ethernet, 802.1Q VLAN 100, IPv6 (payload 12, UDP), UDP 54321 -> 53.
	ethVLANIPv6UDP = "020000000002 020000000001 8100 0064 86dd" +
		"60000000 000c 1140 20010db8000000000000000000000001 20010db8000000000000000000000002" +
		"d4310035 000c0000 abcd"
	// Raw IPv4 (as live capture delivers packets: SOCK_DGRAM), UDP
	// 40000 -> 9000 with 64 bytes of payload, captured in full.
	rawIPv4UDP = "4500005c 00004000 4011 0000 0a580002 0a580001" +
		"9c402328 00480000" + "00000000000000000000000000000000" + "00000000000000000000000000000000" +
		"00000000000000000000000000000000" + "00000000000000000000000000000000"
	// Raw IPv6 with hop-by-hop (8), routing (24) and destination-options (8)
	// headers before a TCP header.
	rawIPv6ExtTCP = "60000000 003c 0040 20010db8000000000000000000000001 20010db8000000000000000000000002" +
		"2b000000 00000000" +
		"3c020400 00000000 20010db8000000000000000000000001" +
		"06000104 00000000" +
		"a02801bb 00000001 00000002 5010ffff 00000000"
)

// singleFrame returns hexText as one frame: raw IP when it starts with an
// IP version nibble, else Ethernet.
func singleFrame(hexText string) func(testing.TB) []frame {
	return func(tb testing.TB) []frame {
		b, err := hex.DecodeString(strings.ReplaceAll(hexText, " ", ""))
		if err != nil {
			tb.Fatal(err)
		}
		link := decode.LinkEthernet
		if v := b[0] >> 4; v == 4 || v == 6 {
			link = decode.LinkRaw
		}
		return []frame{{link: link, data: b}}
	}
}

// corpusFrames loads every frame of every shared capture into memory, laid
// out back to back on 16-byte boundaries in one buffer, the way a TPACKET_V3
// ring block holds them for the live decoder.
func corpusFrames(tb testing.TB) []frame {
	var frames []frame
	for _, path := range sharedpcaps.Captures(tb) {
		frames = append(frames, readFrames(tb, path)...)
	}
	total := 0
	for _, f := range frames {
		total += (len(f.data) + 15) &^ 15
	}
	ring := make([]byte, total)
	off := 0
	for i, f := range frames {
		n := copy(ring[off:], f.data)
		frames[i].data = ring[off : off+n : off+n]
		off += (n + 15) &^ 15
	}
	if len(frames) == 0 {
		tb.Fatal("no frames in the shared captures")
	}
	return frames
}

// TestDecodersAgree checks that the two decoders in the benchmark are asked
// for, and deliver, the same fields: on every frame of the corpus where
// gopacket reaches an IP header, both report the same family, addresses and
// protocol, and the same ports wherever both found ports. Otherwise the
// benchmark would compare different work.
func TestDecodersAgree(t *testing.T) {
	frames := corpusFrames(t)
	h, g := &hogsDecoder{}, newGopacketDecoder()
	compared, disagree := 0, 0
	for i, f := range frames {
		hs, gs := h.decode(f.link, f.data), g.decode(f.link, f.data)
		if gs.family == 0 {
			continue
		}
		compared++
		same := hs.family == gs.family && hs.src == gs.src && hs.dst == gs.dst
		if hs.ports && gs.ports {
			same = same && hs.sport == gs.sport && hs.dport == gs.dport
		}
		if !same {
			disagree++
			if disagree <= 10 {
				t.Logf("frame %d (%v, %d bytes): hogs %+v, gopacket %+v", i, f.link, len(f.data), hs, gs)
			}
		}
	}
	t.Logf("%d frames, %d with IP per gopacket, %d disagreements", len(frames), compared, disagree)
	if compared < len(frames)/2 || disagree*100 > compared {
		t.Errorf("decoders disagree on %d of %d IP frames (over 1%%): the benchmark would not compare like with like", disagree, compared)
	}
}

func TestSingleFramesDecode(t *testing.T) {
	for name, hexText := range map[string]string{"eth-ipv4-tcp": ethIPv4TCP, "eth-vlan-ipv6-udp": ethVLANIPv6UDP, "raw-ipv6-ext-tcp": rawIPv6ExtTCP, "raw-ipv4-udp": rawIPv4UDP} {
		f := singleFrame(hexText)(t)[0]
		h, g := (&hogsDecoder{}).decode(f.link, f.data), newGopacketDecoder().decode(f.link, f.data)
		if !h.ports || h.family == 0 {
			t.Errorf("%s: hogs decoded %+v, want an IP frame with ports", name, h)
		}
		if h != g {
			t.Errorf("%s: hogs %+v, gopacket %+v", name, h, g)
		}
	}
}

// readFrames returns a copy of every frame of the capture at path.
func readFrames(tb testing.TB, path string) []frame {
	r, err := rawcap.OpenFile(path)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	var (
		frames []frame
		f      rawcap.Frame
	)
	for {
		err := r.Next(&f)
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		frames = append(frames, frame{link: f.LinkType, data: append([]byte(nil), f.Data...)})
	}
}

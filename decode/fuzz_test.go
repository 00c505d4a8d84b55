package decode_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"hogs/decode"
	"hogs/internal/sharedpcaps"
)

func hexFrame(t testing.TB, chunks ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(chunks, ""), " ", ""))
	if err != nil {
		t.Fatalf("bad hex in seed: %v", err)
	}
	return b
}

// addCaptureSeeds adds every frame of the shared captures as a seed, with
// its link type. Without the captures the hand-written seeds remain.
func addCaptureSeeds(f *testing.F) {
	paths, err := sharedpcaps.Find()
	if err != nil {
		f.Logf("%v: fuzzing from the hand-written seeds only", err)
		return
	}
	for _, fr := range readCaptures(f, paths) {
		f.Add(uint16(fr.link), fr.data)
	}
}

func FuzzDecode(f *testing.F) {
	const (
		eth    = "020000000002 020000000001"
		v4     = "c0a80001 c0a800c7"
		v6     = "20010db8000000000000000000000001 20010db8000000000000000000000002"
		tcpHdr = "a028 01bb 00000001 00000002 50 12 ffff 0000 0000"
		udpHdr = "d431 0035 000c 0000"
	)
	// Seeds by intent: a clean frame of each link type, then the shapes that
	// break naive decoders.
	f.Add(uint16(decode.LinkEthernet), hexFrame(f, eth, "0800", "45 00 0028 0001 4000 40 06 0000", v4, tcpHdr))
	f.Add(uint16(decode.LinkEthernet), hexFrame(f, eth, "8100 0064 86dd", "60000000 0008 11 40", v6, udpHdr))
	f.Add(uint16(decode.LinkEthernet), hexFrame(f, eth, "88a8 a12c 8100 000a 0800", "45 00 0028 0001 4000 40 06 0000", v4, tcpHdr))
	f.Add(uint16(decode.LinkLinuxSLL), hexFrame(f, "0004 0001 0006 020000000001 0000 0800", "45 00 0028 0001 4000 40 06 0000", v4, tcpHdr))
	f.Add(uint16(decode.LinkLinuxSLL2), hexFrame(f, "86dd 0000 00000002 0001 00 06 020000000001 0000", "60000000 0008 11 40", v6, udpHdr))
	f.Add(uint16(decode.LinkNull), hexFrame(f, "0000001e", "60000000 0008 11 40", v6, udpHdr))
	// IHL larger than the capture, IHL below 5, total length below IHL.
	f.Add(uint16(decode.LinkRaw), hexFrame(f, "4f 00 0028 0001 0000 40 06 0000", v4))
	f.Add(uint16(decode.LinkRaw), hexFrame(f, "41 00 0028 0001 0000 40 06 0000", v4, tcpHdr))
	f.Add(uint16(decode.LinkRaw), hexFrame(f, "46 00 0010 0001 0000 40 11 0000", v4, "94040000", "d431 0035"))
	// IPv6: extension header claiming past the end, an over-long chain, a later fragment.
	f.Add(uint16(decode.LinkIPv6), hexFrame(f, "60000000 0008 00 40", v6, "06 ff 0000 00000000"))
	f.Add(uint16(decode.LinkRaw), hexFrame(f, "60000000 0050 3c 40", v6, strings.Repeat("3c 00 0000 00000000", 9), udpHdr))
	f.Add(uint16(decode.LinkIPv6), hexFrame(f, "60000000 0010 2c 40", v6, "11 00 05a8 12345678", "d431 0035"))
	// Empty and one-tag frames.
	f.Add(uint16(decode.LinkRaw), []byte{})
	f.Add(uint16(decode.LinkEthernet), []byte{0x81, 0x00})
	addCaptureSeeds(f)
	f.Fuzz(func(t *testing.T, link uint16, b []byte) {
		var p decode.Packet
		decode.Decode(decode.LinkType(link), b, &p)
		if !checkIPInside(t, decode.LinkType(link), b, &p) {
			t.FailNow()
		}
		// The fast path agrees with the general decoder on the frame as
		// IPv4 and on the IP packet inside it.
		for _, off := range []int{0, int(p.NetOffset)} {
			if _, ok := checkFastPath(t, b, off); !ok {
				t.FailNow()
			}
		}
		// A frame with a flow signature decodes, as raw IP, to the flow
		// the signature names; so does the IP packet inside any frame.
		for _, ip := range [][]byte{b, b[min(int(p.NetOffset), len(b)):]} {
			if sig, ok := decode.IPv4FlowSignature(ip); ok {
				var raw decode.Packet
				decode.Decode(decode.LinkRaw, ip, &raw)
				if raw.Family != decode.IPv4 || !raw.Has(decode.FlagPorts) || raw.Proto != ip[9] || decode.SignatureOf(&raw) != sig {
					t.Fatalf("flow signature %+v of an IP packet that decodes as %+v", sig, raw)
				}
			}
		}
		if int(p.NetOffset) > len(b) || int(p.TransportOffset) > len(b) {
			t.Fatalf("offsets %d/%d beyond a %d-byte frame", p.NetOffset, p.TransportOffset, len(b))
		}
		switch p.Family {
		case decode.NotIP:
			if p.Src.IsValid() || p.Dst.IsValid() || p.Flags&(decode.FlagPorts|decode.FlagTCPFlags) != 0 {
				t.Fatalf("not-IP frame with IP fields: %+v", p)
			}
		case decode.IPv4:
			if !p.Src.Is4() || !p.Dst.Is4() || int(p.NetOffset)+20 > len(b) {
				t.Fatalf("bad IPv4 summary: %+v", p)
			}
		case decode.IPv6:
			if !p.Src.Is6() || !p.Dst.Is6() || int(p.NetOffset)+40 > len(b) || p.IPLen < 40 {
				t.Fatalf("bad IPv6 summary: %+v", p)
			}
		default:
			t.Fatalf("family %d", p.Family)
		}
		if p.Has(decode.FlagPorts) {
			if p.Proto != decode.ProtoTCP && p.Proto != decode.ProtoUDP || p.Has(decode.FlagLaterFragment) ||
				p.TransportOffset == 0 || int(p.TransportOffset)+4 > len(b) {
				t.Fatalf("ports where there can be none: %+v", p)
			}
		}
		if p.Has(decode.FlagTCPFlags) && (p.Proto != decode.ProtoTCP || !p.Has(decode.FlagPorts)) {
			t.Fatalf("TCP flags without a TCP header: %+v", p)
		}
		_ = p.AppendDump(nil, 1)
	})
}

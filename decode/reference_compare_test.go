package decode_test

import (
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"hogs/decode"
	"hogs/rawcap"
)

// TestDecodeMatchesReference decodes every frame of the shared captures, and
// every prefix of each (a capture may end anywhere), under its own link type
// and under every other one the decoder knows, and checks that Decode agrees
// with the straightforward reference decoder field for field. The fast paths
// must change nothing but the speed.
func TestDecodeMatchesReference(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(sharedPcaps, "*.pcap*"))
	links := []decode.LinkType{decode.LinkNull, decode.LinkEthernet, decode.LinkRawAlt, decode.LinkRaw, decode.LinkLinuxSLL,
		decode.LinkIPv4, decode.LinkIPv6, decode.LinkLinuxSLL2, 147}
	frames, checked := 0, 0
	for _, path := range paths {
		if strings.HasSuffix(path, ".expect") {
			continue
		}
		r, err := rawcap.OpenFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var f rawcap.Frame
		for {
			err := r.Next(&f)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			frames++
			// Every prefix under the frame's own link type; the first 128
			// bytes' prefixes under the others.
			for _, link := range links {
				n := min(len(f.Data), 128)
				if link == f.LinkType {
					n = len(f.Data)
				}
				for i := 0; i <= n; i++ {
					checked++
					if !sameAsReference(t, link, f.Data[:i]) {
						t.Fatalf("%s frame %d, link %v, first %d of %d bytes", path, frames, link, i, len(f.Data))
					}
				}
			}
		}
		r.Close()
	}
	if frames == 0 {
		t.Skip("no reference captures in ../../shared/pcaps")
	}
	t.Logf("%d frames, %d decodes compared", frames, checked)
}

var (
	dirty4 = netip.MustParseAddr("192.0.2.1")
	dirty6 = netip.MustParseAddr("fe80::1%eth0")
)

// sameAsReference decodes b with Decode and with the reference decoder,
// starting from different dirty Packets, and reports (and logs) a difference.
func sameAsReference(t *testing.T, link decode.LinkType, b []byte) bool {
	t.Helper()
	got := decode.Packet{Family: decode.IPv6, Proto: 99, SrcPort: 1, DstPort: 2, Flags: 0xffff, VLAN: 7,
		Src: dirty6, Dst: dirty6, IPLen: 9, Direction: decode.DirOut, EtherType: 1, NetOffset: 3, TransportOffset: 4, TCPFlags: 5}
	want := decode.Packet{Src: dirty4, Dst: dirty4, Flags: decode.FlagPorts, Family: decode.IPv4}
	decode.Decode(link, b, &got)
	decode.ReferenceDecode(link, b, &want)
	if got != want {
		t.Errorf("Decode(%v, %x)\n got %+v\nwant %+v", link, b, got, want)
		return false
	}
	if link == decode.LinkRaw {
		var viaIP decode.Packet
		decode.DecodeIP(b, &viaIP)
		if viaIP != want {
			t.Errorf("DecodeIP(%x)\n got %+v\nwant %+v", b, viaIP, want)
			return false
		}
	}
	return true
}

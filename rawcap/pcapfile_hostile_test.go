package rawcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hogs/decode"
)

// sllHeader returns a Linux cooked v1 pseudo-header for a packet of type
// pktType received on a device of hardware type hwType, carrying IPv4.
func sllHeader(pktType, hwType uint16) []byte {
	b := make([]byte, sllHeaderLen)
	binary.BigEndian.PutUint16(b[0:], pktType)
	binary.BigEndian.PutUint16(b[2:], hwType)
	binary.BigEndian.PutUint16(b[4:], 6) // address length
	binary.BigEndian.PutUint16(b[14:], 0x0800)
	return b
}

// sll2Header returns a Linux cooked v2 pseudo-header, as sllHeader.
func sll2Header(pktType uint8, hwType uint16) []byte {
	b := make([]byte, sll2HeaderLen)
	binary.BigEndian.PutUint16(b[0:], 0x0800)
	binary.BigEndian.PutUint32(b[4:], 2) // ifindex
	binary.BigEndian.PutUint16(b[8:], hwType)
	b[10], b[11] = pktType, 6
	return b
}

// TestInterfaceLen checks the rule per link type: what the capturing
// interface counted for a frame whose sane original length is fileLen.
func TestInterfaceLen(t *testing.T) {
	ip := seq(0x45, 40) // a 40-byte IPv4 packet's bytes, as far as length goes
	cat := func(a, b []byte) []byte { return append(bytes.Clone(a), b...) }
	tests := []struct {
		name    string
		link    decode.LinkType
		data    []byte
		fileLen int
		want    int
	}{
		{"Ethernet: the frame with its header", decode.LinkEthernet, seq(0, 54), 54, 54},
		{"Ethernet cut by the snap length", decode.LinkEthernet, seq(0, 54), 1514, 1514},
		{"Ethernet from lo (zero MACs): the IP packet", decode.LinkEthernet, cat(make([]byte, 12), []byte{8, 0}), 54, 40},
		{"Ethernet, only the destination zero", decode.LinkEthernet, cat(make([]byte, 6), seq(1, 8)), 54, 54},
		{"Ethernet, only the source zero", decode.LinkEthernet, cat(seq(1, 6), make([]byte, 8)), 54, 54},
		{"Ethernet cut inside the zero MACs", decode.LinkEthernet, make([]byte, 11), 54, 54},
		{"raw IP: the IP packet", decode.LinkRaw, ip, 40, 40},
		{"raw IP, other DLT_RAW number", decode.LinkRawAlt, ip, 40, 40},
		{"raw IPv4", decode.LinkIPv4, ip, 40, 40},
		{"raw IPv6", decode.LinkIPv6, seq(0x60, 60), 60, 60},
		{"SLL on Ethernet: -16 +14", decode.LinkLinuxSLL, cat(sllHeader(0, arphrdEther), ip), 56, 54},
		{"SLL on Ethernet, cut", decode.LinkLinuxSLL, cat(sllHeader(4, arphrdEther), ip[:20]), 1516, 1514},
		{"SLL on loopback: lo counts the IP packet", decode.LinkLinuxSLL, cat(sllHeader(0, arphrdLoopback), ip), 56, 40},
		{"SLL on tun (ARPHRD_NONE)", decode.LinkLinuxSLL, cat(sllHeader(0, arphrdNone), ip), 56, 40},
		{"SLL on PPP", decode.LinkLinuxSLL, cat(sllHeader(0, arphrdPPP), ip), 56, 40},
		{"SLL cut before its hardware type", decode.LinkLinuxSLL, []byte{0, 0, 0}, 56, 40},
		{"SLL shorter than its pseudo-header", decode.LinkLinuxSLL, []byte{0, 0, 0, 1}, 4, 14},
		{"SLL empty", decode.LinkLinuxSLL, nil, 0, 0},
		{"SLL2 on Ethernet: -20 +14", decode.LinkLinuxSLL2, cat(sll2Header(0, arphrdEther), ip), 60, 54},
		{"SLL2 on loopback", decode.LinkLinuxSLL2, cat(sll2Header(0, arphrdLoopback), ip), 60, 40},
		{"SLL2 cut before its hardware type", decode.LinkLinuxSLL2, seq(0, 9), 60, 40},
		{"BSD loopback: -4", decode.LinkNull, cat([]byte{2, 0, 0, 0}, ip), 44, 40},
		{"BSD loopback shorter than its header", decode.LinkNull, []byte{2, 0}, 2, 0},
		{"Ethernet, the longest believed", decode.LinkEthernet, seq(0, 54), MaxWireLen, MaxWireLen},
	}
	for _, tc := range tests {
		if got := InterfaceLen(tc.link, tc.data, tc.fileLen); got != tc.want {
			t.Errorf("%s: InterfaceLen(%v, %d bytes, %d) = %d, want %d", tc.name, tc.link, len(tc.data), tc.fileLen, got, tc.want)
		}
	}
}

// TestWireLenLimits checks that a record's original length is believed
// only between its captured length and MaxWireLen, in both formats.
func TestWireLenLimits(t *testing.T) {
	big := seq(0, MaxWireLen+100) // more captured than MaxWireLen
	tests := []struct {
		name string
		orig uint32
		data []byte
		want int
	}{
		{"as recorded", 1514, seq(0, 59), 1514},
		{"a 59-byte frame claiming 4 GiB", math.MaxUint32, seq(0, 59), MaxWireLen},
		{"the limit itself", MaxWireLen, seq(0, 59), MaxWireLen},
		{"one over the limit", MaxWireLen + 1, seq(0, 59), MaxWireLen},
		{"a GSO super-packet under the limit", 400000, seq(0, 66), 400000},
		{"original below captured", 10, seq(0, 59), 59},
		{"original 0", 0, seq(0, 59), 59},
		{"more captured than the limit, claiming less", 60, big, len(big)},
		{"more captured than the limit, claiming more", math.MaxUint32, big, len(big)},
	}
	for _, tc := range tests {
		pcap := (&capWriter{}).pcapHeader(pcapMagicMicro, 0, 1).pcapRecord(1, 0, tc.orig, tc.data).buf
		w := &capWriter{}
		pcapng := w.shb().idb(1, 0).epb(0, 1, tc.orig, tc.data).buf
		for format, file := range map[string][]byte{"pcap": pcap, "pcapng": pcapng} {
			r, err := NewFileReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			var f Frame
			if err := r.Next(&f); err != nil {
				t.Fatalf("%s, %s: %v", tc.name, format, err)
			}
			if f.WireLen != tc.want || len(f.Data) != len(tc.data) {
				t.Errorf("%s, %s: %d bytes captured, wire length %d; want %d and %d", tc.name, format, len(f.Data), f.WireLen, len(tc.data), tc.want)
			}
		}
	}
}

// TestCookedWireLen reads Linux cooked and BSD loopback captures through
// the reader: the wire length is what the interface counted, the direction
// what the cooked pseudo-header's packet type says.
func TestCookedWireLen(t *testing.T) {
	ip := seq(0x45, 40)
	w := (&capWriter{}).pcapHeader(pcapMagicNano, 0, uint32(decode.LinkLinuxSLL)).
		pcapRecord(1, 0, 56, append(sllHeader(4, arphrdEther), ip...)).
		pcapRecord(1, 1, 56, append(sllHeader(0, arphrdLoopback), ip...)).
		pcapRecord(1, 2, 56, append(sllHeader(7, arphrdEther), ip...)).
		pcapRecord(1, 3, 1, []byte{0})
	readAllOK(t, w.buf, []Frame{
		{Data: append(sllHeader(4, arphrdEther), ip...), WireLen: 54, LinkType: decode.LinkLinuxSLL, Timestamp: utc(1, 0), Direction: decode.DirOut},
		{Data: append(sllHeader(0, arphrdLoopback), ip...), WireLen: 40, LinkType: decode.LinkLinuxSLL, Timestamp: utc(1, 1), Direction: decode.DirIn},
		{Data: append(sllHeader(7, arphrdEther), ip...), WireLen: 54, LinkType: decode.LinkLinuxSLL, Timestamp: utc(1, 2)}, // no such packet type
		{Data: []byte{0}, WireLen: 0, LinkType: decode.LinkLinuxSLL, Timestamp: utc(1, 3)},                                 // cut before the packet type
	})
	g := &capWriter{big: true}
	g.shb().idb(uint16(decode.LinkLinuxSLL2), 0).idb(uint16(decode.LinkNull), 0).
		epb(0, 5, 60, append(sll2Header(0, arphrdEther), ip...)).
		epb(0, 6, 60, append(sll2Header(4, arphrdEther), ip...), g.flags(1)). // epb_flags win
		epb(1, 7, 44, append([]byte{0, 0, 0, 2}, ip...))
	readAllOK(t, g.buf, []Frame{
		{Data: append(sll2Header(0, arphrdEther), ip...), WireLen: 54, LinkType: decode.LinkLinuxSLL2, Timestamp: utc(0, 5000), Direction: decode.DirIn},
		{Data: append(sll2Header(4, arphrdEther), ip...), WireLen: 54, LinkType: decode.LinkLinuxSLL2, Timestamp: utc(0, 6000), Direction: decode.DirIn},
		{Data: append([]byte{0, 0, 0, 2}, ip...), WireLen: 40, LinkType: decode.LinkNull, Timestamp: utc(0, 7000), Interface: 1},
	})
}

// hostileFile is a capture file built to hurt a replay, and what reading
// it gives.
type hostileFile struct {
	name   string
	file   []byte
	frames []Frame // every frame, in order
	err    string  // the error after them ("" for io.EOF)
}

// hostileFiles returns the shapes the replay must survive (issue 14):
// time gaps, timestamp 0, lying lengths, damage mid-way, foreign links.
func hostileFiles() []hostileFile {
	const year = 365 * 24 * 3600
	zeros := 16 << 10
	// A pcap header followed by zeros: every 16 bytes a record at time 0
	// with nothing captured.
	zeroFrames := make([]Frame, zeros/pcapRecordHeaderLen)
	for i := range zeroFrames {
		zeroFrames[i] = Frame{WireLen: 0, LinkType: decode.LinkEthernet, Timestamp: utc(0, 0)}
	}
	return []hostileFile{{
		name: "two frames a year apart",
		file: (&capWriter{}).pcapHeader(pcapMagicMicro, 0, 1).
			pcapRecord(1700000000, 0, 60, seq(0, 60)).pcapRecord(1700000000+year, 1, 60, seq(1, 60)).buf,
		frames: []Frame{
			{Data: seq(0, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 0)},
			{Data: seq(1, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000+year, 1000)},
		},
	}, {
		// The fraction carries into the seconds: 4294.967295 s later.
		name: "bad microseconds field",
		file: (&capWriter{}).pcapHeader(pcapMagicMicro, 0, 1).
			pcapRecord(1700000000, 0, 60, seq(0, 60)).pcapRecord(1700000000, math.MaxUint32, 60, seq(1, 60)).buf,
		frames: []Frame{
			{Data: seq(0, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 0)},
			{Data: seq(1, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(1700004294, 967295000)},
		},
	}, {
		name:   "header and zeros",
		file:   append((&capWriter{}).pcapHeader(pcapMagicMicro, 0, 1).buf, make([]byte, zeros)...),
		frames: zeroFrames,
	}, {
		name: "header and zeros, cut mid-record",
		file: append((&capWriter{}).pcapHeader(pcapMagicMicro, 0, 1).buf, make([]byte, 40)...),
		frames: []Frame{
			{LinkType: decode.LinkEthernet, Timestamp: utc(0, 0)},
			{LinkType: decode.LinkEthernet, Timestamp: utc(0, 0)},
		},
		err: "truncated capture file at byte offset 56: file ends inside a record header",
	}, {
		name: "truncated mid-record",
		file: (&capWriter{}).pcapHeader(pcapMagicMicro, 0, 1).
			pcapRecord(1, 0, 60, seq(0, 60)).pcapRecord(2, 0, 60, seq(1, 60)).buf[:24+76+50],
		frames: []Frame{{Data: seq(0, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(1, 0)}},
		err:    "truncated capture file at byte offset 100: file ends inside a record (captured length 60)",
	}, {
		name: "huge claimed lengths",
		file: (&capWriter{}).pcapHeader(pcapMagicMicro, 0, 1).
			pcapRecord(1, 0, math.MaxUint32, seq(0, 59)).
			u32(2).u32(0).u32(math.MaxUint32).u32(math.MaxUint32).bytes(seq(1, 59)).buf,
		frames: []Frame{{Data: seq(0, 59), WireLen: MaxWireLen, LinkType: decode.LinkEthernet, Timestamp: utc(1, 0)}},
		err:    "corrupt capture file at byte offset 99: captured length 4294967295 exceeds limit 67108864",
	}, {
		name: "pcapng block length beyond the file",
		file: (&capWriter{}).shb().idb(1, 0).epb(0, 1, 60, seq(0, 60)).
			u32(blockEnhancedPacket).u32(1 << 20).bytes(make([]byte, 100)).buf,
		frames: []Frame{{Data: seq(0, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(0, 1000)}},
		err:    "truncated capture file at byte offset 140: file ends inside a block (length 1048576)",
	}, {
		name: "unsupported link type, pcap",
		file: (&capWriter{}).pcapHeader(pcapMagicMicro, 0, 105).pcapRecord(1, 0, 60, seq(0, 60)).buf,
		err:  "link type 105 (IEEE802_11, Wi-Fi) is not supported: hogs reads Ethernet, Linux cooked (v1, v2), raw IP and BSD loopback captures",
	}, {
		name: "unsupported link type, pcapng, before the first packet",
		file: (&capWriter{}).shb().idb(1, 0).idb(150, 0).epb(0, 1, 60, seq(0, 60)).buf,
		err:  "link type 150 (USER3) of interface 1 (byte offset 48) is not supported: hogs reads Ethernet, Linux cooked (v1, v2), raw IP and BSD loopback captures",
	}, {
		name: "unsupported link type, pcapng, after a packet",
		file: (&capWriter{}).shb().idb(1, 0).epb(0, 1, 60, seq(0, 60)).idb(4242, 0).epb(1, 1, 60, seq(0, 60)).buf,
		frames: []Frame{
			{Data: seq(0, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(0, 1000)},
		},
		err: "link type 4242 of interface 1 (byte offset 140) is not supported: hogs reads Ethernet, Linux cooked (v1, v2), raw IP and BSD loopback captures",
	}}
}

// TestHostileFiles reads each hostile shape: every good frame, as the
// file says, then the one-line error (or io.EOF).
func TestHostileFiles(t *testing.T) {
	for _, tc := range hostileFiles() {
		t.Run(tc.name, func(t *testing.T) {
			var got []Frame
			r, err := NewFileReader(bytes.NewReader(tc.file))
			if err == nil {
				got, err = readFrames(r)
			}
			checkFrames(t, got, tc.frames)
			switch {
			case tc.err == "" && err != io.EOF:
				t.Errorf("after %d frames: %v, want io.EOF", len(got), err)
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Errorf("after %d frames: %v\nwant %s", len(got), err, tc.err)
			}
		})
	}
}

// TestLinkTypeErrorOnOpen checks that OpenFile refuses a link type it
// cannot decode, naming the file, and leaves nothing open.
func TestLinkTypeErrorOnOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"wifi.pcap", (&capWriter{}).pcapHeader(pcapMagicNano, 0, 127).buf, "link type 127 (IEEE802_11_RADIOTAP) is not supported"},
		{"usb.pcapng", (&capWriter{big: true}).shb().block(0xbad, seq(0, 8)).idb(220, 0).buf, "link type 220 (USB_LINUX_MMAPPED) of interface 0 (byte offset 48) is not supported"}, // after the 28-byte section header and a 20-byte unknown block
	} {
		path := filepath.Join(t.TempDir(), tc.name)
		if err := os.WriteFile(path, tc.file, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenFile(path)
		var le *LinkTypeError
		if !errors.As(err, &le) || !strings.HasPrefix(err.Error(), path+": "+tc.want+": hogs reads") || strings.Contains(err.Error(), "\n") {
			t.Errorf("OpenFile(%s) = %v, %v; want one line starting %q", tc.name, r, err, path+": "+tc.want)
		}
	}
}

// TestReadsPipe reads a capture from a pipe, which cannot seek: a pcapng
// file with a skipped block, and standard input through OpenFile("-").
func TestReadsPipe(t *testing.T) {
	w := &capWriter{}
	w.shb().idb(1, 0).block(0xbad, seq(0, 200))
	packetAt := len(w.buf)
	w.epb(0, 1, 60, seq(0, 60))
	want := []Frame{{Data: seq(0, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(0, 1000)}}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	go func() {
		pw.Write(w.buf)
		pw.Close()
	}()
	stdin := os.Stdin
	os.Stdin = pr
	t.Cleanup(func() { os.Stdin = stdin })
	r, err := OpenFile(StandardInput)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readFrames(r)
	if err != io.EOF {
		t.Errorf("standard input: %v after %d frames, want io.EOF", err, len(got))
	}
	checkFrames(t, got, want)
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := pr.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}

	// Damage in standard input is named as such.
	pr2, pw2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr2.Close() })
	go func() {
		pw2.Write(w.buf[:len(w.buf)-8])
		pw2.Close()
	}()
	os.Stdin = pr2
	r, err = OpenFile(StandardInput)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err = readFrames(r)
	wantErr := fmt.Sprintf("standard input: truncated capture file at byte offset %d: file ends inside a block (length 92)", packetAt)
	if err == nil || err.Error() != wantErr || len(got) != 0 {
		t.Errorf("cut standard input: %d frames, %v; want none and %q", len(got), err, wantErr)
	}
}

// TestTimestampNeverZero checks that no frame from a file carries the zero
// Time: a simple packet block takes the time before it, the epoch at first.
func TestTimestampNeverZero(t *testing.T) {
	w := &capWriter{}
	w.shb().idb(1, 0).spb(10, seq(0, 10)).epb(0, 1700000000_000001, 10, seq(1, 10)).spb(10, seq(2, 10)).
		shb().idb(1, 0).spb(10, seq(3, 10)) // a new section keeps the file's clock
	readAllOK(t, w.buf, []Frame{
		{Data: seq(0, 10), WireLen: 10, LinkType: decode.LinkEthernet, Timestamp: utc(0, 0)},
		{Data: seq(1, 10), WireLen: 10, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 1000)},
		{Data: seq(2, 10), WireLen: 10, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 1000)},
		{Data: seq(3, 10), WireLen: 10, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 1000)},
	})
}

package rawcap

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hogs/decode"
	"hogs/internal/sharedpcaps"
)

// seq returns n bytes counting up from first, so frames differ by content.
func seq(first byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

// utc is the time sec.ns after the epoch, as the reader reports it.
func utc(sec, ns int64) time.Time { return time.Unix(sec, ns).UTC() }

// readFrames reads r to the first error, copying each frame's data.
func readFrames(r *FileReader) ([]Frame, error) {
	var frames []Frame
	for {
		var f Frame
		if err := r.Next(&f); err != nil {
			return frames, err
		}
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
	}
}

// checkFrames compares every field of got and want.
func checkFrames(t *testing.T, got, want []Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("read %d frames, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if !bytes.Equal(g.Data, w.Data) {
			t.Errorf("frame %d: data % x, want % x", i, g.Data, w.Data)
		}
		if g.WireLen != w.WireLen {
			t.Errorf("frame %d: wire length %d, want %d", i, g.WireLen, w.WireLen)
		}
		if g.LinkType != w.LinkType {
			t.Errorf("frame %d: link type %v, want %v", i, g.LinkType, w.LinkType)
		}
		if !g.Timestamp.Equal(w.Timestamp) || g.Timestamp.Location() != time.UTC {
			t.Errorf("frame %d: timestamp %v, want %v", i, g.Timestamp, w.Timestamp)
		}
		if g.Interface != w.Interface {
			t.Errorf("frame %d: interface %d, want %d", i, g.Interface, w.Interface)
		}
		if g.Direction != w.Direction {
			t.Errorf("frame %d: direction %v, want %v", i, g.Direction, w.Direction)
		}
	}
}

// readAllOK reads file and checks that it holds exactly want, then io.EOF.
func readAllOK(t *testing.T, file []byte, want []Frame) {
	t.Helper()
	r, err := NewFileReader(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("NewFileReader: %v", err)
	}
	got, err := readFrames(r)
	if err != io.EOF {
		t.Errorf("Next after %d frames: %v, want io.EOF", len(got), err)
	}
	checkFrames(t, got, want)
	if r.Offset() != int64(len(file)) {
		t.Errorf("Offset at the end = %d, want the file size %d", r.Offset(), len(file))
	}
}

func TestPcapVariants(t *testing.T) {
	tests := []struct {
		name      string
		big       bool
		magic     uint32
		linkField uint32 // as written in the header
		link      decode.LinkType
		nsPerFrac int64
		notOnWire int              // pseudo-header bytes the interface did not count
		firstDir  decode.Direction // what the first frame's bytes say
	}{
		{"microseconds little-endian", false, pcapMagicMicro, 1, decode.LinkEthernet, 1000, 0, decode.DirUnknown},
		{"microseconds big-endian, FCS bits", true, pcapMagicMicro, 0x30000001, decode.LinkEthernet, 1000, 0, decode.DirUnknown},
		{"nanoseconds little-endian", false, pcapMagicNano, 101, decode.LinkRaw, 1, 0, decode.DirUnknown},
		// seq's bytes 2-3 are no ARPHRD_ETHER: no link header counted;
		// bytes 0-1 of the first frame are packet type 1, broadcast: in
		{"nanoseconds big-endian, FCS bits", true, pcapMagicNano, 0x04000071, decode.LinkLinuxSLL, 1, sllHeaderLen, decode.DirIn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &capWriter{big: tc.big}
			w.pcapHeader(tc.magic, 128, tc.linkField).
				pcapRecord(1700000000, 123456, 60, seq(0, 60)).
				pcapRecord(1700000001, 999, 1514, seq(7, 128)). // cut by the snap length
				pcapRecord(4000000000, 0, 0, nil)               // after 2038, empty
			readAllOK(t, w.buf, []Frame{
				{Data: seq(0, 60), WireLen: 60 - tc.notOnWire, LinkType: tc.link, Timestamp: utc(1700000000, 123456*tc.nsPerFrac), Direction: tc.firstDir},
				{Data: seq(7, 128), WireLen: 1514 - tc.notOnWire, LinkType: tc.link, Timestamp: utc(1700000001, 999*tc.nsPerFrac)},
				{Data: nil, WireLen: 0, LinkType: tc.link, Timestamp: utc(4000000000, 0)},
			})
		})
	}
}

func TestPcapKuznetzov(t *testing.T) {
	for _, big := range []bool{false, true} {
		w := &capWriter{big: big}
		w.pcapHeader(pcapMagicKuznetzov, 65535, 1).
			kuznetzovRecord(1700000000, 5, 60, 2, 0x0800, 0, seq(1, 60)). // PACKET_HOST
			kuznetzovRecord(1700000000, 6, 42, 2, 0x0806, 4, seq(2, 42)). // PACKET_OUTGOING
			kuznetzovRecord(1700000000, 7, 42, 2, 0x0806, 9, seq(3, 41))  // no such type
		t.Run(map[bool]string{false: "little-endian", true: "big-endian"}[big], func(t *testing.T) {
			readAllOK(t, w.buf, []Frame{
				{Data: seq(1, 60), WireLen: 60, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 5000), Direction: decode.DirIn},
				{Data: seq(2, 42), WireLen: 42, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 6000), Direction: decode.DirOut},
				{Data: seq(3, 41), WireLen: 42, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 7000)},
			})
		})
	}
}

func TestPcapng(t *testing.T) {
	for _, big := range []bool{false, true} {
		t.Run(map[bool]string{false: "little-endian", true: "big-endian"}[big], func(t *testing.T) {
			w := &capWriter{big: big}
			w.shb().
				idb(uint16(decode.LinkEthernet), 0, w.tsresol(9)).                             // 0: ns
				block(0x00000bad, []byte("custom block, skipped")).                            // unknown
				idb(uint16(decode.LinkRaw), 65535, w.tsresol(6), w.option(2, []byte("eth0"))). // 1: µs (explicit), if_name
				idb(uint16(decode.LinkLinuxSLL), 0, w.tsresol(0x80|10), w.tsoffset(-100)).     // 2: 1/1024 s, offset
				idb(uint16(decode.LinkIPv6), 0).                                               // 3: default µs
				block(5, make([]byte, 20)).                                                    // statistics, skipped
				epb(0, 1700000000_123456789, 1514, seq(1, 60), w.flags(1)).
				epb(1, 1700000000_654321, 40, seq(2, 40), w.option(1, []byte("comment")), w.flags(2)).
				epb(2, 1700000000<<10|512, 33, seq(3, 33)).
				epb(3, 1700000000_000001, 41, seq(4, 41), w.flags(3)).
				epb(0, 5, 20, seq(5, 20), w.flags(0x00010001)). // reception bits beside the direction
				pb(2, 1700000000<<10|1, 70, seq(6, 7), w.flags(2)).
				spb(6, seq(7, 6))
			readAllOK(t, w.buf, []Frame{
				{Data: seq(1, 60), WireLen: 1514, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000, 123456789), Interface: 0, Direction: decode.DirIn},
				{Data: seq(2, 40), WireLen: 40, LinkType: decode.LinkRaw, Timestamp: utc(1700000000, 654321000), Interface: 1, Direction: decode.DirOut},
				// seq's bytes 2-3 are no ARPHRD_ETHER: the pseudo-header is not counted, nor a link header
				{Data: seq(3, 33), WireLen: 33 - sllHeaderLen, LinkType: decode.LinkLinuxSLL, Timestamp: utc(1700000000-100, 500000000), Interface: 2},
				{Data: seq(4, 41), WireLen: 41, LinkType: decode.LinkIPv6, Timestamp: utc(1700000000, 1000), Interface: 3},
				{Data: seq(5, 20), WireLen: 20, LinkType: decode.LinkEthernet, Timestamp: utc(0, 5), Interface: 0, Direction: decode.DirIn},
				{Data: seq(6, 7), WireLen: 70 - sllHeaderLen, LinkType: decode.LinkLinuxSLL, Timestamp: utc(1700000000-100, 976562), Interface: 2, Direction: decode.DirOut},
				// no timestamp in a simple packet block: the previous frame's
				{Data: seq(7, 6), WireLen: 6, LinkType: decode.LinkEthernet, Timestamp: utc(1700000000-100, 976562), Interface: 0},
			})
		})
	}
}

// TestPcapngSimplePacketLength checks the captured length of simple packet
// blocks: the least of the original length, the snap length and the room.
func TestPcapngSimplePacketLength(t *testing.T) {
	w := &capWriter{}
	w.shb().idb(uint16(decode.LinkEthernet), 64).
		spb(100, seq(1, 64)). // cut by the snap length
		spb(10, seq(2, 10)).  // whole, padding not counted
		spb(1000, seq(3, 30)) // the block ends first: 30 bytes and 2 of padding
	readAllOK(t, w.buf, []Frame{
		// no packet before them to take a time from: the Unix epoch
		{Data: seq(1, 64), WireLen: 100, LinkType: decode.LinkEthernet, Timestamp: utc(0, 0)},
		{Data: seq(2, 10), WireLen: 10, LinkType: decode.LinkEthernet, Timestamp: utc(0, 0)},
		{Data: append(seq(3, 30), 0, 0), WireLen: 1000, LinkType: decode.LinkEthernet, Timestamp: utc(0, 0)},
	})
}

// TestPcapngSections checks that a new section may switch the byte order and
// starts a new interface list.
func TestPcapngSections(t *testing.T) {
	w := &capWriter{}
	w.shb().idb(uint16(decode.LinkEthernet), 0).idb(uint16(decode.LinkIPv4), 0).
		epb(1, 1, 20, seq(1, 20))
	w.big = true
	w.shb().idb(uint16(decode.LinkRaw), 0, w.tsresol(3)).
		epb(0, 1700000000_123, 20, seq(2, 20))
	damage := int64(len(w.buf))
	w.epb(1, 1, 20, seq(3, 20)) // interface 1 belonged to the first section
	r, err := NewFileReader(bytes.NewReader(w.buf))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readFrames(r)
	checkFrames(t, got, []Frame{
		{Data: seq(1, 20), WireLen: 20, LinkType: decode.LinkIPv4, Timestamp: utc(0, 1000), Interface: 1},
		{Data: seq(2, 20), WireLen: 20, LinkType: decode.LinkRaw, Timestamp: utc(1700000000, 123000000), Interface: 0},
	})
	checkFormatError(t, err, damage, "refers to interface 1, but the section describes 1")
}

func TestTimestampResolution(t *testing.T) {
	tests := []struct {
		tsresol uint8
		ticks   uint64
		want    time.Time
	}{
		{0, 1700000000, utc(1700000000, 0)},                 // seconds
		{3, 1700000000_999, utc(1700000000, 999000000)},     // ms
		{6, 1700000000_000001, utc(1700000000, 1000)},       // µs
		{9, 1700000000_000000001, utc(1700000000, 1)},       // ns
		{12, 1700000_000000000_999, utc(1700000, 0)},        // ps: below a ns is dropped
		{19, math.MaxUint64, utc(1, 844674407)},             // the finest decimal resolution
		{0x80, 42, utc(42, 0)},                              // 2^0
		{0x80 | 1, 3, utc(1, 500000000)},                    // 2^-1
		{0x80 | 20, 1<<20 | 1<<19 | 1, utc(1, 500000953)},   // 2^-20: a tick is 953.67 ns
		{0x80 | 30, 1 << 29, utc(0, 500000000)},             // 2^-30
		{0x80 | 63, 1<<63 | 1<<62, utc(1, 500000000)},       // the finest binary resolution
		{0x80 | 63, math.MaxUint64, utc(1, 999999999)},      // no overflow
		{6, math.MaxUint64, utc(18446744073709, 551615000)}, // no overflow
	}
	for _, tc := range tests {
		w := &capWriter{}
		w.shb().idb(1, 0, w.tsresol(tc.tsresol)).epb(0, tc.ticks, 1, []byte{1})
		r, err := NewFileReader(bytes.NewReader(w.buf))
		if err != nil {
			t.Fatal(err)
		}
		var f Frame
		if err := r.Next(&f); err != nil {
			t.Fatalf("if_tsresol 0x%02x: %v", tc.tsresol, err)
		}
		if !f.Timestamp.Equal(tc.want) {
			t.Errorf("if_tsresol 0x%02x, %d ticks: %v, want %v", tc.tsresol, tc.ticks, f.Timestamp, tc.want)
		}
	}
}

// checkFormatError checks that err is a *FormatError at offset whose reason
// contains reason.
func checkFormatError(t *testing.T, err error, offset int64, reason string) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want *FormatError", err, err)
	}
	if fe.Offset != offset || !strings.Contains(fe.Reason, reason) {
		t.Errorf("error %q, want offset %d and a reason containing %q", err, offset, reason)
	}
	// Only a file that ends too soon is truncated; every other defect is
	// corruption.
	endsEarly := strings.Contains(reason, "ends inside") || strings.Contains(reason, "too short")
	if fe.Truncated != endsEarly {
		t.Errorf("error %q: Truncated = %v, want %v", err, fe.Truncated, endsEarly)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is more than one line", err)
	}
}

// damaged is a capture file with one defect, and what reading it must give.
type damaged struct {
	name   string
	file   []byte
	frames int    // frames delivered before the error
	offset int64  // where the error says the damaged piece starts
	reason string // part of FormatError.Reason
}

func damagedPcaps() []damaged {
	good := func() *capWriter { // header at 0, records at 24 and 100; the next at 176
		w := &capWriter{}
		return w.pcapHeader(pcapMagicMicro, 65535, 1).
			pcapRecord(1, 0, 60, seq(0, 60)).
			pcapRecord(2, 0, 60, seq(1, 60))
	}
	cut := func(w *capWriter, n int) []byte { return w.buf[:len(w.buf)-n] }
	return []damaged{
		{"pcap record header truncated", cut(good().pcapRecord(3, 0, 60, seq(2, 60)), 70), 2, 176, "file ends inside a record header"},
		{"pcap record data truncated", cut(good().pcapRecord(3, 0, 60, seq(2, 60)), 1), 2, 176, "file ends inside a record (captured length 60)"},
		{"pcap record of limit length, file short", good().u32(3).u32(0).u32(MaxPcapCaptureLen).u32(60).bytes(seq(2, 100)).buf, 2, 176, "file ends inside a record"},
		{"pcap huge captured length", good().u32(3).u32(0).u32(math.MaxUint32).u32(60).bytes(seq(2, 100)).buf, 2, 176, "captured length 4294967295 exceeds limit 67108864"},
		{"pcap captured length one over the limit", good().u32(3).u32(0).u32(MaxPcapCaptureLen + 1).u32(60).buf, 2, 176, "exceeds limit"},
		{"pcap Kuznetzov record header truncated", cut((&capWriter{}).pcapHeader(pcapMagicKuznetzov, 0, 1).kuznetzovRecord(1, 0, 8, 1, 0, 0, seq(0, 8)).kuznetzovRecord(1, 0, 8, 1, 0, 0, seq(0, 8)), 10), 1, 56, "file ends inside a record header"},
		{"pcap header truncated", good().buf[:23], 0, 0, "file too short for a capture header"},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, 0, 0, "file too short for a capture header"},
		{"empty file", nil, 0, 0, "file too short for a capture header"},
		{"unknown magic", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 0, 0, "not a pcap or pcapng file (magic 0x7f454c46)"},
		{"pcap magic with swapped halves", []byte{0xc3, 0xd4, 0xa1, 0xb2, 0, 0, 0, 0}, 0, 0, "not a pcap or pcapng file (magic 0xc3d4a1b2)"},
	}
}

func damagedPcapngs() []damaged {
	var cases []damaged
	for _, big := range []bool{false, true} {
		order := map[bool]string{false: " (little-endian)", true: " (big-endian)"}[big]
		// good writes a section with one Ethernet interface and one frame;
		// the damaged block goes at *at.
		good := func(at *int64) *capWriter {
			w := &capWriter{big: big}
			w.shb().idb(1, 0).epb(0, 1, 60, seq(0, 60))
			*at = int64(len(w.buf))
			return w
		}
		var at int64
		add := func(name string, file []byte, frames int, reason string) {
			cases = append(cases, damaged{name + order, file, frames, at, reason})
		}
		w := good(&at).epb(0, 2, 60, seq(1, 60))
		w.buf[len(w.buf)-1] ^= 4
		w.buf[len(w.buf)-4] ^= 4
		add("block trailer differs", w.buf, 1, "differs from leading length 92")

		w = good(&at).block(0x00000bad, seq(0, 8))
		w.buf[len(w.buf)-1] ^= 1
		w.buf[len(w.buf)-4] ^= 1
		add("skipped block trailer differs", w.buf, 1, "trailing length")

		w = good(&at).u32(blockEnhancedPacket).u32(34).bytes(make([]byte, 30))
		add("block length not a multiple of 4", w.buf, 1, "block length 34 is not a multiple of 4")

		w = good(&at).u32(0x00000bad).u32(8).u32(8)
		add("block length below 12", w.buf, 1, "block length 8 is less than 12")

		w = good(&at).u32(blockEnhancedPacket).u32(math.MaxUint32 - 3).bytes(make([]byte, 64))
		add("huge block length", w.buf, 1, "block length 4294967292 exceeds limit 268435456")

		w = good(&at).u32(blockEnhancedPacket).u32(28).bytes(make([]byte, 16)).u32(28)
		add("block shorter than its type's fixed part", w.buf, 1, "less than its minimum 32")

		w = good(&at).epb(3, 2, 60, seq(1, 60))
		add("interface id out of range", w.buf, 1, "refers to interface 3, but the section describes 1")

		w = good(&at).pb(1, 2, 60, seq(1, 60))
		add("obsolete packet block interface id out of range", w.buf, 1, "refers to interface 1")

		w = good(&at).epb(0, 2, 60, seq(1, 60))
		capLenAt := at + 8 + 12
		if big { // captured length 61, room 60
			w.buf[capLenAt+3] = 61
		} else {
			w.buf[capLenAt] = 61
		}
		add("captured length beyond the block", w.buf, 1, "captured length 61 exceeds the 60 bytes of room in its block")

		w = good(&at).u32(blockEnhancedPacket).u8(1)
		add("block header truncated", w.buf, 1, "file ends inside a block header")

		w = good(&at).epb(0, 2, 60, seq(1, 60))
		add("block truncated", w.buf[:len(w.buf)-1], 1, "file ends inside a block (length 92)")

		w = good(&at).block(0x00000bad, seq(0, 100))
		add("skipped block truncated", w.buf[:len(w.buf)-50], 1, "file ends inside a block (length 112)")

		w = good(&at).block(blockSectionHeader, []byte{1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
		add("second section with a bad byte-order magic", w.buf, 1, "bad byte-order magic 0x01020304")

		w = good(&at).u32(blockSectionHeader).u32(12).u32(pcapngByteOrderMagic).u32(12)
		add("section header block too short", w.buf, 1, "section header block length 12 is less than 28")

		w = good(&at).shb().spb(60, seq(0, 60))
		at += 28 // the section header block is fine, the simple packet block is not
		add("simple packet block with no interface", w.buf, 1, "simple packet block before any interface description")

		w = good(&at).idb(1, 0, w.tsresol(20))
		add("if_tsresol out of range", w.buf, 1, "(if_tsresol) 0x14 is out of range")

		w = good(&at).idb(1, 0, w.tsresol(0x80|64))
		add("binary if_tsresol out of range", w.buf, 1, "(if_tsresol) 0xc0 is out of range")

		at = 0
		w = &capWriter{big: big}
		w.block(blockSectionHeader, w.sub().u32(pcapngByteOrderMagic).u16(2).u16(0).u64(0).buf)
		add("unsupported version", w.buf, 0, "unsupported pcapng version 2.0")

		w = &capWriter{big: big}
		add("first section header truncated", w.shb().buf[:20], 0, "file ends inside a section header block")
		add("first section header cut in its length", w.shb().buf[:6], 0, "file too short for a capture header")
	}
	return cases
}

func TestDamagedFiles(t *testing.T) {
	for _, tc := range append(damagedPcaps(), damagedPcapngs()...) {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewFileReader(bytes.NewReader(tc.file))
			if err != nil {
				if tc.frames != 0 {
					t.Fatalf("NewFileReader: %v, want %d frames first", err, tc.frames)
				}
				checkFormatError(t, err, tc.offset, tc.reason)
				return
			}
			frames, err := readFrames(r)
			if len(frames) != tc.frames {
				t.Errorf("%d frames before the error, want %d", len(frames), tc.frames)
			}
			checkFormatError(t, err, tc.offset, tc.reason)
			if r.Offset() != tc.offset {
				t.Errorf("Offset after the error = %d, want %d", r.Offset(), tc.offset)
			}
			var f Frame
			if again := r.Next(&f); again != err {
				t.Errorf("Next after the error = %v, want the same error again", again)
			}
		})
	}
}

// TestCleanEnd checks that a file with a valid header and nothing after it,
// or only non-packet blocks, ends in io.EOF.
func TestCleanEnd(t *testing.T) {
	files := map[string][]byte{
		"pcap header only":     (&capWriter{}).pcapHeader(pcapMagicNano, 0, 1).buf,
		"pcapng section only":  (&capWriter{big: true}).shb().buf,
		"pcapng no packets":    (&capWriter{}).shb().idb(1, 0).block(5, make([]byte, 20)).buf,
		"pcapng empty section": (&capWriter{}).shb().idb(1, 0).shb().buf,
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) { readAllOK(t, file, nil) })
	}
}

func TestOffset(t *testing.T) {
	w := &capWriter{}
	w.shb()
	offsets := []int64{int64(len(w.buf))} // before the first Next: the interface description
	w.idb(1, 0)
	w.epb(0, 1, 60, seq(0, 60))
	offsets = append(offsets, int64(len(w.buf))) // after the first frame
	w.block(5, make([]byte, 20)).spb(10, seq(0, 10))
	offsets = append(offsets, int64(len(w.buf))) // after the second, past the skipped block
	r, err := NewFileReader(bytes.NewReader(w.buf))
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	for i, want := range offsets {
		if got := r.Offset(); got != want {
			t.Errorf("Offset after %d frames = %d, want %d", i, got, want)
		}
		if err := r.Next(&f); (err != nil) != (i == len(offsets)-1) {
			t.Fatalf("Next %d: %v", i, err)
		}
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pcap")
	w := (&capWriter{}).pcapHeader(pcapMagicMicro, 0, 101).pcapRecord(1, 2, 20, seq(0, 20))
	if err := os.WriteFile(good, w.buf, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenFile(good)
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := r.Next(&f); err != nil || !bytes.Equal(f.Data, seq(0, 20)) || f.LinkType != decode.LinkRaw {
		t.Errorf("Next = %v, frame %+v", err, f)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := r.Next(&f); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Next after Close = %v, want os.ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	bad := filepath.Join(dir, "bad.pcap")
	if err := os.WriteFile(bad, append(w.buf, 1, 2, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = OpenFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Next(&f)
	err = r.Next(&f)
	want := bad + ": truncated capture file at byte offset 60: file ends inside a record header"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}

	notCapture := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notCapture, []byte("hello, world\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = OpenFile(notCapture)
	want = notCapture + ": corrupt capture file at byte offset 0: not a pcap or pcapng file (magic 0x68656c6c)"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}

	missing := filepath.Join(dir, "missing.pcap")
	if _, err := OpenFile(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("OpenFile of a missing file: %v, want an error naming it", err)
	}
}

// failingReader delivers its bytes, then fails with err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	w := (&capWriter{}).pcapHeader(pcapMagicMicro, 0, 1).pcapRecord(1, 2, 20, seq(0, 20))
	ioErr := errors.New("disk on fire")
	r, err := NewFileReader(&failingReader{data: w.buf, err: ioErr})
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := r.Next(&f); err != nil {
		t.Fatal(err)
	}
	err = r.Next(&f)
	var fe *FormatError
	if !errors.Is(err, ioErr) || errors.As(err, &fe) || !strings.Contains(err.Error(), "byte offset 60") {
		t.Errorf("Next = %v, want the read error with the offset, not a FormatError", err)
	}
}

// exampleCapture is testdata/example.pcap, read by ExampleOpenFile: two
// Ethernet frames, then a record cut short.
func exampleCapture() []byte {
	w := &capWriter{}
	return w.pcapHeader(pcapMagicMicro, 262144, 1).
		pcapRecord(1700000000, 250000, 60, seq(0, 60)).
		pcapRecord(1700000000, 500000, 1514, seq(0, 96)).
		u32(1700000001).u32(0).u32(60).u32(60).bytes(seq(0, 20)).buf
}

func TestExampleCaptureUpToDate(t *testing.T) {
	got, err := os.ReadFile("testdata/example.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, exampleCapture()) {
		t.Error("testdata/example.pcap differs from exampleCapture(); rewrite it from there")
	}
}

// manyFrames returns a pcap and a pcapng file of n frames of varying size,
// the largest first.
func manyFrames(n int) (pcap, pcapng []byte) {
	p := (&capWriter{}).pcapHeader(pcapMagicNano, 65535, 1)
	g := (&capWriter{}).shb().idb(1, 0, (&capWriter{}).tsresol(9))
	for i := range n {
		size := 60 + (i*37)%1400
		if i == 0 {
			size = 1514
		}
		data := seq(byte(i), size)
		p.pcapRecord(uint32(1700000000+i), uint32(i), uint32(size), data)
		g.epb(0, uint64(1700000000+i)*1e9, uint32(size), data, g.flags(uint32(1+i%2)))
	}
	return p.buf, g.buf
}

// TestNextAllocs gates the hot path: after warm-up, Next allocates nothing.
func TestNextAllocs(t *testing.T) {
	pcap, pcapng := manyFrames(8000)
	for name, file := range map[string][]byte{"pcap": pcap, "pcapng": pcapng} {
		t.Run(name, func(t *testing.T) {
			r, err := NewFileReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			var f Frame
			for range 100 {
				if err := r.Next(&f); err != nil {
					t.Fatal(err)
				}
			}
			fewest := math.Inf(1)
			for range 5 { // another goroutine's allocation can land in one run
				allocs := testing.AllocsPerRun(1000, func() {
					if err := r.Next(&f); err != nil {
						t.Fatal(err)
					}
				})
				fewest = min(fewest, allocs)
			}
			if fewest != 0 {
				t.Errorf("Next allocates %v times per frame, want 0", fewest)
			}
		})
	}
}

func BenchmarkNext(b *testing.B) {
	pcap, pcapng := manyFrames(4000)
	for _, bc := range []struct {
		name string
		file []byte
	}{{"pcap", pcap}, {"pcapng", pcapng}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.file) / 4000))
			rd := bytes.NewReader(bc.file)
			r, _ := NewFileReader(rd)
			var f Frame
			for b.Loop() {
				if err := r.Next(&f); err != nil {
					rd.Reset(bc.file)
					r, _ = NewFileReader(rd)
				}
			}
		})
	}
}

// countLines counts the lines of the file at path.
func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		n++
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSharedCaptures reads every reference capture to its end and checks
// that it holds as many frames as its reference decode has lines.
func TestSharedCaptures(t *testing.T) {
	for _, path := range sharedpcaps.Captures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := countLines(t, path+".expect")
			r, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var f Frame
			n := 0
			for {
				err = r.Next(&f)
				if err != nil {
					break
				}
				n++
			}
			if err != io.EOF {
				t.Errorf("after %d frames: %v", n, err)
			}
			if n != want {
				t.Errorf("read %d frames, the reference decode has %d", n, want)
			}
		})
	}
}

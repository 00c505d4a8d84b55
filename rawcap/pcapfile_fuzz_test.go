package rawcap

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hogs/decode"
	"hogs/internal/sharedpcaps"
)

// syntheticFiles returns small well-formed and damaged capture files of
// every kind the reader handles, as fuzz seeds.
func syntheticFiles() [][]byte {
	var files [][]byte
	for _, big := range []bool{false, true} {
		for _, magic := range []uint32{pcapMagicMicro, pcapMagicNano} {
			files = append(files, (&capWriter{big: big}).pcapHeader(magic, 96, 0x04000001).
				pcapRecord(1, 2, 60, seq(0, 60)).pcapRecord(3, 4, 200, seq(1, 96)).buf)
		}
		files = append(files, (&capWriter{big: big}).pcapHeader(pcapMagicKuznetzov, 0, 113).
			kuznetzovRecord(1, 2, 20, 3, 0x0800, 4, seq(0, 20)).buf)
		w := &capWriter{big: big}
		files = append(files, w.shb().
			idb(1, 0, w.tsresol(9), w.tsoffset(7)).idb(101, 64, w.tsresol(0x80|10)).
			block(0x00000bad, seq(0, 9)).
			epb(0, 1, 60, seq(0, 60), w.flags(1)).epb(1, 2, 20, seq(1, 20), w.flags(2)).
			pb(1, 3, 20, seq(2, 20)).spb(100, seq(3, 64)).buf)
	}
	for _, d := range append(damagedPcaps(), damagedPcapngs()...) {
		files = append(files, d.file)
	}
	// The shapes of issue 14: a year's gap, a bad microseconds field,
	// header and zeros, truncation mid-record, huge claimed lengths,
	// unsupported link types.
	for _, h := range hostileFiles() {
		files = append(files, h.file)
	}
	// Pseudo-headers that were not on the wire: cooked v1 and v2, BSD loopback.
	ip := seq(0x45, 40)
	files = append(files,
		(&capWriter{}).pcapHeader(pcapMagicMicro, 0, uint32(decode.LinkLinuxSLL)).
			pcapRecord(1, 0, 56, append(sllHeader(4, arphrdEther), ip...)).
			pcapRecord(1, 0, 3, []byte{0, 4, 0}).buf,
		(&capWriter{}).shb().idb(uint16(decode.LinkLinuxSLL2), 0).idb(uint16(decode.LinkNull), 0).
			epb(0, 5, 60, append(sll2Header(0, arphrdEther), ip...)).
			epb(1, 6, math.MaxUint32, append([]byte{2, 0, 0, 0}, ip...)).buf)
	return files
}

// FuzzFileReader reads arbitrary bytes as a capture file to the first error
// and checks the reader's contract: no panic, no endless loop; at most
// n/minRecordLen frames from n bytes; every frame's data is exactly the
// bytes its record or block declares, within the input; every wire length
// between the captured length less its pseudo-header and
// max(captured, MaxWireLen), so all of them add up to at most
// n + (n/minRecordLen)·MaxWireLen; no zero timestamp; every error io.EOF,
// a *FormatError or a *LinkTypeError at the reader's offset within the
// input.
func FuzzFileReader(f *testing.F) {
	for _, file := range syntheticFiles() {
		f.Add(file)
	}
	recorded, err := filepath.Glob("testdata/captures/*.pcap*")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range recorded {
		if filepath.Ext(path) == ".pcap" || filepath.Ext(path) == ".pcapng" {
			b, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	// The shared captures too, where they are.
	shared, err := sharedpcaps.Find()
	if err != nil {
		f.Logf("%v: fuzzing from the synthetic and recorded files only", err)
	}
	for _, path := range shared {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewFileReader(bytes.NewReader(in))
		if err != nil {
			// A header is damaged at 0; an unsupported link type is
			// declared at 0 (pcap) or in the interface block read ahead.
			var le *LinkTypeError
			if errors.As(err, &le) {
				checkFuzzError(t, err, le.Offset, in)
			} else {
				checkFuzzError(t, err, 0, in)
			}
			return
		}
		var fr Frame
		maxFrames := len(in) / minRecordLen
		maxWire := int64(len(in)) + int64(maxFrames)*MaxWireLen
		var wire int64
		prev := r.Offset()
		for frames := 0; ; frames++ {
			err := r.Next(&fr)
			if err != nil {
				checkFuzzError(t, err, r.Offset(), in)
				if err2 := r.Next(&fr); err2 != err {
					t.Fatalf("Next after %v returned %v", err, err2)
				}
				return
			}
			if frames+1 > maxFrames {
				t.Fatalf("more than %d frames from %d bytes", maxFrames, len(in))
			}
			if wire += int64(fr.WireLen); wire > maxWire {
				t.Fatalf("%d wire bytes from %d input bytes, more than %d", wire, len(in), maxWire)
			}
			if fr.Timestamp.IsZero() {
				t.Fatalf("frame %d has the zero Time", frames)
			}
			off := r.Offset()
			if off <= prev || off > int64(len(in)) {
				t.Fatalf("offset went from %d to %d in a %d-byte input", prev, off, len(in))
			}
			if len(fr.Data) > cap(r.buf) {
				t.Fatalf("frame of %d bytes, buffer of %d", len(fr.Data), cap(r.buf))
			}
			checkDeclared(t, r, in, prev, off, &fr)
			prev = off
		}
	})
}

// checkFuzzError checks that err is io.EOF, or a *FormatError or
// *LinkTypeError at offset, within the input.
func checkFuzzError(t *testing.T, err error, offset int64, in []byte) {
	if err == io.EOF {
		return
	}
	var (
		fe  *FormatError
		le  *LinkTypeError
		off int64
	)
	switch {
	case errors.As(err, &fe):
		off = fe.Offset
	case errors.As(err, &le):
		off = le.Offset
	default:
		t.Fatalf("error %v (%T), want io.EOF, *FormatError or *LinkTypeError", err, err)
	}
	if off != offset || off < 0 || off > int64(len(in)) {
		t.Fatalf("error %v: offset outside the %d-byte input or not the reader's offset %d", err, len(in), offset)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q is more than one line", err)
	}
}

// checkWireLen checks a frame's wire length against the length its record
// or block declares: within the bounds the reader promises, and the
// declared one where that is sane and the link header was on the wire.
func checkWireLen(t *testing.T, fr *Frame, declared uint32) {
	pseudo := 0
	switch fr.LinkType {
	case decode.LinkLinuxSLL:
		pseudo = sllHeaderLen
	case decode.LinkLinuxSLL2:
		pseudo = sll2HeaderLen
	case decode.LinkNull:
		pseudo = nullHeaderLen
	case decode.LinkEthernet:
		if len(fr.Data) >= 12 && bytes.Count(fr.Data[:12], []byte{0}) == 12 {
			pseudo = ethernetHeaderLen // lo's all-zero addresses: counted without the header
		}
	}
	if limit := max(len(fr.Data), MaxWireLen); fr.WireLen > limit || fr.WireLen < 0 || fr.WireLen < len(fr.Data)-pseudo {
		t.Fatalf("wire length %d of a %d-byte %v frame (declared %d): outside [captured-%d, %d]", fr.WireLen, len(fr.Data), fr.LinkType, declared, pseudo, limit)
	}
	if sane := uint64(declared) >= uint64(len(fr.Data)) && declared <= MaxWireLen; sane && pseudo == 0 && fr.WireLen != int(declared) {
		t.Fatalf("wire length %d, declared %d", fr.WireLen, declared)
	}
}

// checkDeclared checks fr against the record or block that ends at end,
// read straight from the input: the data is the declared bytes at the
// declared place.
func checkDeclared(t *testing.T, r *FileReader, in []byte, start, end int64, fr *Frame) {
	var want []byte
	switch r.format {
	case formatPcap:
		hl := int64(r.pcapRecordLen)
		capLen := int64(r.u32(in[start+8 : start+12]))
		if end != start+hl+capLen {
			t.Fatalf("record at %d: declared %d bytes of data, reader moved to %d", start, capLen, end)
		}
		want = in[start+hl : end]
		checkWireLen(t, fr, r.u32(in[start+12:start+16]))
		if fr.LinkType != decode.LinkType(r.u32(in[20:24])) {
			t.Fatalf("link type %v, header says %#x", fr.LinkType, r.u32(in[20:24]))
		}
	case formatPcapng:
		// The packet block ends at end; its trailer gives its start.
		length := int64(r.u32(in[end-4 : end]))
		blockStart := end - length
		if blockStart < start {
			t.Fatalf("block ending at %d has length %d, before the offset %d the read began at", end, length, start)
		}
		switch blockType := r.u32(in[blockStart : blockStart+4]); blockType {
		case blockEnhancedPacket, blockPacket:
			capLen := int64(r.u32(in[blockStart+20 : blockStart+24]))
			want = in[blockStart+28 : blockStart+28+capLen]
			checkWireLen(t, fr, r.u32(in[blockStart+24:blockStart+28]))
		case blockSimplePacket:
			room := int64(length - minSimplePacketLen)
			if n := int64(len(fr.Data)); n > room || n > int64(r.u32(in[blockStart+8:blockStart+12])) {
				t.Fatalf("simple packet block at %d: %d bytes, room for %d", blockStart, n, room)
			}
			want = in[blockStart+12 : blockStart+12+int64(len(fr.Data))]
			checkWireLen(t, fr, r.u32(in[blockStart+8:blockStart+12]))
		default:
			t.Fatalf("frame from a block of type %#x at %d", blockType, blockStart)
		}
	}
	if !bytes.Equal(fr.Data, want) {
		t.Fatalf("frame data % x, declared % x", fr.Data, want)
	}
}

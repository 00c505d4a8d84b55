package rawcap

import (
	"bytes"
	"errors"
	"io"
	"os"
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
	return files
}

// FuzzFileReader reads arbitrary bytes as a capture file to the first error
// and checks the reader's contract: no panic, no endless loop, every frame's
// data is exactly the bytes its record or block declares, and every error is
// io.EOF or a *FormatError at the reader's offset within the input.
func FuzzFileReader(f *testing.F) {
	for _, file := range syntheticFiles() {
		f.Add(file)
	}
	// The shared captures too, where they are; the synthetic files
	// otherwise.
	paths, err := sharedpcaps.Find()
	if err != nil {
		f.Logf("%v: fuzzing from the synthetic files only", err)
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewFileReader(bytes.NewReader(in))
		if err != nil {
			checkFuzzError(t, err, 0, in)
			return
		}
		var fr Frame
		// Every record or block takes at least 12 bytes.
		maxFrames := len(in)/minBlockLen + 1
		prev := r.Offset()
		for frames := 0; ; frames++ {
			if frames > maxFrames {
				t.Fatalf("more than %d frames from %d bytes", maxFrames, len(in))
			}
			err := r.Next(&fr)
			if err != nil {
				checkFuzzError(t, err, r.Offset(), in)
				if err2 := r.Next(&fr); err2 != err {
					t.Fatalf("Next after %v returned %v", err, err2)
				}
				return
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

// checkFuzzError checks that err is io.EOF or a *FormatError at offset,
// within the input.
func checkFuzzError(t *testing.T, err error, offset int64, in []byte) {
	if err == io.EOF {
		return
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want io.EOF or *FormatError", err, err)
	}
	if fe.Offset != offset || fe.Offset < 0 || fe.Offset > int64(len(in)) {
		t.Fatalf("error %v: offset outside the %d-byte input or not the reader's offset %d", err, len(in), offset)
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
		if fr.WireLen != int(r.u32(in[start+12:start+16])) {
			t.Fatalf("record at %d: wire length %d, declared %d", start, fr.WireLen, r.u32(in[start+12:start+16]))
		}
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
		case blockSimplePacket:
			room := int64(length - minSimplePacketLen)
			if n := int64(len(fr.Data)); n > room || n > int64(r.u32(in[blockStart+8:blockStart+12])) {
				t.Fatalf("simple packet block at %d: %d bytes, room for %d", blockStart, n, room)
			}
			want = in[blockStart+12 : blockStart+12+int64(len(fr.Data))]
		default:
			t.Fatalf("frame from a block of type %#x at %d", blockType, blockStart)
		}
	}
	if !bytes.Equal(fr.Data, want) {
		t.Fatalf("frame data % x, declared % x", fr.Data, want)
	}
}

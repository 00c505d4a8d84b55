package rawcap

import "encoding/binary"

// capWriter builds pcap and pcapng files in memory, in either byte order, so
// tests can state exactly which bytes the reader sees.
type capWriter struct {
	big bool   // write big-endian
	buf []byte // the file so far
}

func (w *capWriter) u8(v uint8) *capWriter {
	w.buf = append(w.buf, v)
	return w
}

func (w *capWriter) u16(v uint16) *capWriter {
	if w.big {
		w.buf = binary.BigEndian.AppendUint16(w.buf, v)
	} else {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, v)
	}
	return w
}

func (w *capWriter) u32(v uint32) *capWriter {
	if w.big {
		w.buf = binary.BigEndian.AppendUint32(w.buf, v)
	} else {
		w.buf = binary.LittleEndian.AppendUint32(w.buf, v)
	}
	return w
}

func (w *capWriter) u64(v uint64) *capWriter {
	if w.big {
		w.buf = binary.BigEndian.AppendUint64(w.buf, v)
	} else {
		w.buf = binary.LittleEndian.AppendUint64(w.buf, v)
	}
	return w
}

func (w *capWriter) bytes(p []byte) *capWriter {
	w.buf = append(w.buf, p...)
	return w
}

// pad appends zero bytes up to a multiple of 4.
func (w *capWriter) pad() *capWriter {
	for len(w.buf)%4 != 0 {
		w.buf = append(w.buf, 0)
	}
	return w
}

// sub returns an empty writer with the same byte order, for block bodies
// and option lists.
func (w *capWriter) sub() *capWriter { return &capWriter{big: w.big} }

// pcapHeader writes a pcap file header: version 2.4, zone 0, sigfigs 0.
func (w *capWriter) pcapHeader(magic, snapLen, linkType uint32) *capWriter {
	return w.u32(magic).u16(2).u16(4).u32(0).u32(0).u32(snapLen).u32(linkType)
}

// pcapRecord writes a pcap record whose captured length is len(data).
func (w *capWriter) pcapRecord(sec, frac, wireLen uint32, data []byte) *capWriter {
	return w.u32(sec).u32(frac).u32(uint32(len(data))).u32(wireLen).bytes(data)
}

// kuznetzovRecord writes a record of a 0xa1b2cd34 file: the standard header,
// then ifindex, protocol, pkttype and a pad byte.
func (w *capWriter) kuznetzovRecord(sec, frac, wireLen uint32, ifIndex uint32, proto uint16, pktType uint8, data []byte) *capWriter {
	return w.u32(sec).u32(frac).u32(uint32(len(data))).u32(wireLen).
		u32(ifIndex).u16(proto).u8(pktType).u8(0).bytes(data)
}

// block writes a pcapng block of the given type around body, which is
// padded to 4 bytes; the total length is written before and after it.
func (w *capWriter) block(blockType uint32, body []byte) *capWriter {
	padded := (len(body) + 3) &^ 3
	total := uint32(12 + padded)
	w.u32(blockType).u32(total).bytes(body)
	return w.pad().u32(total)
}

// option returns one pcapng option, padded.
func (w *capWriter) option(code uint16, value []byte) []byte {
	return w.sub().u16(code).u16(uint16(len(value))).bytes(value).pad().buf
}

// options joins options and appends opt_endofopt; no options, no list.
func (w *capWriter) options(opts ...[]byte) []byte {
	if len(opts) == 0 {
		return nil
	}
	o := w.sub()
	for _, opt := range opts {
		o.bytes(opt)
	}
	return o.u16(0).u16(0).buf
}

// shb writes a section header block, version 1.0, section length unknown.
func (w *capWriter) shb() *capWriter {
	return w.block(blockSectionHeader, w.sub().u32(pcapngByteOrderMagic).u16(1).u16(0).u64(^uint64(0)).buf)
}

// idb writes an interface description block.
func (w *capWriter) idb(linkType uint16, snapLen uint32, opts ...[]byte) *capWriter {
	return w.block(blockInterfaceDescription, w.sub().u16(linkType).u16(0).u32(snapLen).bytes(w.options(opts...)).buf)
}

// tsresol returns an if_tsresol option.
func (w *capWriter) tsresol(v uint8) []byte { return w.option(optIfTsresol, []byte{v}) }

// tsoffset returns an if_tsoffset option.
func (w *capWriter) tsoffset(sec int64) []byte {
	return w.option(optIfTsoffset, w.sub().u64(uint64(sec)).buf)
}

// flags returns an epb_flags option.
func (w *capWriter) flags(v uint32) []byte { return w.option(optEPBFlags, w.sub().u32(v).buf) }

// epb writes an enhanced packet block whose captured length is len(data).
func (w *capWriter) epb(ifIndex uint32, ticks uint64, wireLen uint32, data []byte, opts ...[]byte) *capWriter {
	body := w.sub().u32(ifIndex).u32(uint32(ticks >> 32)).u32(uint32(ticks)).
		u32(uint32(len(data))).u32(wireLen).bytes(data).pad().bytes(w.options(opts...))
	return w.block(blockEnhancedPacket, body.buf)
}

// pb writes an obsolete packet block whose captured length is len(data).
func (w *capWriter) pb(ifIndex uint16, ticks uint64, wireLen uint32, data []byte, opts ...[]byte) *capWriter {
	body := w.sub().u16(ifIndex).u16(0).u32(uint32(ticks >> 32)).u32(uint32(ticks)).
		u32(uint32(len(data))).u32(wireLen).bytes(data).pad().bytes(w.options(opts...))
	return w.block(blockPacket, body.buf)
}

// spb writes a simple packet block.
func (w *capWriter) spb(wireLen uint32, data []byte) *capWriter {
	return w.block(blockSimplePacket, w.sub().u32(wireLen).bytes(data).buf)
}

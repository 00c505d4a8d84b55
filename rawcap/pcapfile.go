package rawcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"strconv"
	"time"

	"hogs/decode"
)

// Frame is one captured packet.
type Frame struct {
	// Data holds the captured bytes; len(Data) is the captured length. It
	// aliases the reader's buffer and is valid until the next call to Next.
	Data []byte
	// WireLen is the number of bytes the interface the packet crossed
	// counted for it (what ip -s link adds up): for live captures the
	// packet's length plus the device's link header; for capture files the
	// file's original length, made sane and corrected for link headers that
	// were never on the wire (see WireLen). It is never below len(Data)
	// minus a pseudo-header the capture added.
	WireLen int
	// LinkType is the link type of the interface the frame was captured on.
	LinkType decode.LinkType
	// Timestamp is the capture time, in UTC. Capture files always give one:
	// a record's time as written, 0 (1970-01-01) being a time like any
	// other; a pcapng simple packet block, which carries none, takes the
	// time of the packet before it in the file (the Unix epoch when it is
	// the first).
	Timestamp time.Time
	// Interface is the interface index: the pcapng interface within its
	// section, 0 for pcap, the kernel's ifindex for live captures.
	Interface int
	// Direction is the direction the file records for the frame: the
	// epb_flags option of a pcapng packet block, else the packet type of a
	// Kuznetzov pcap record or of a Linux cooked pseudo-header.
	// decode.DirUnknown where it records none.
	Direction decode.Direction
	// InterfaceName is the name of the interface: live captures fill it in
	// from the device plan; capture files leave it empty.
	InterfaceName string
	// NetNS is the network namespace the frame's flow belongs to, as
	// flow.Key.NetNS names it (0: the monitor's own). A live capture sets
	// it for the frames of a namespace boundary (Live.SetPeers: a bridged
	// veth's peer namespace); capture files leave it 0, and a source that
	// knows better (nsattr.Source) may set it.
	NetNS uint32

	// vlanTagged: the live receive path saw an 802.1Q tag the kernel had
	// taken off (the packet is counted on the VLAN device instead).
	vlanTagged bool
}

// FormatError reports a corrupt or truncated capture file.
type FormatError struct {
	Path   string // file name; empty for readers made by NewFileReader
	Offset int64  // byte offset where the damaged header, record or block starts
	// Truncated is set where the file ends inside the header, record or
	// block at Offset (a capture cut short: copied while being written, a
	// full disk); otherwise the bytes there are wrong (corrupt).
	Truncated bool
	Reason    string // what is wrong, one line
}

// Error returns one line such as "FILE: corrupt capture file at byte offset
// 1234: captured length 4294967295 exceeds limit 67108864" or "FILE:
// truncated capture file at byte offset 60: file ends inside a record
// header".
func (e *FormatError) Error() string {
	kind := "corrupt"
	if e.Truncated {
		kind = "truncated"
	}
	msg := kind + " capture file at byte offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Reason
	if e.Path != "" {
		return e.Path + ": " + msg
	}
	return msg
}

// Limits that keep a corrupt length from turning into a huge allocation.
const (
	// MaxPcapCaptureLen is the largest captured length a pcap record may
	// declare; a larger one is corrupt. libpcap's own limit is 256 KiB.
	MaxPcapCaptureLen = 64 << 20
	// MaxPcapngBlockLen is the largest total length a pcapng block may
	// declare; a larger one is corrupt.
	MaxPcapngBlockLen = 256 << 20
)

// Magic numbers and block types of the two file formats.
const (
	pcapMagicMicro     = 0xa1b2c3d4 // pcap, microsecond timestamps
	pcapMagicNano      = 0xa1b23c4d // pcap, nanosecond timestamps
	pcapMagicKuznetzov = 0xa1b2cd34 // pcap with Alexey Kuznetzov's extended record header

	pcapngByteOrderMagic = 0x1a2b3c4d

	blockSectionHeader        = 0x0a0d0d0a // the same in both byte orders
	blockInterfaceDescription = 0x00000001
	blockPacket               = 0x00000002 // obsolete
	blockSimplePacket         = 0x00000003
	blockEnhancedPacket       = 0x00000006
)

// Sizes of the fixed parts of headers, records and blocks, in bytes.
const (
	pcapFileHeaderLen      = 24
	pcapRecordHeaderLen    = 16
	kuznetzovRecordHeadLen = 24 // the standard 16 + ifindex(4) protocol(2) pkttype(1) pad(1)

	blockHeaderLen  = 8  // block type, total length
	blockTrailerLen = 4  // total length again
	minBlockLen     = 12 // header and trailer, empty body

	// Minimum total lengths per block type: header, fixed body, trailer.
	minSectionHeaderLen  = 28 // + byte-order magic, version, section length
	minInterfaceDescLen  = 20 // + link type, reserved, snaplen
	minEnhancedPacketLen = 32 // + interface, timestamp, captured and original length
	minPacketBlockLen    = 32 // + interface, drops, timestamp, captured and original length
	minSimplePacketLen   = 16 // + original length

	packetFixedLen = 20 // fixed body of enhanced and obsolete packet blocks
)

// pcapng option codes this reader honours.
const (
	optEndOfOpt   = 0
	optEPBFlags   = 2  // epb_flags (and pack_flags of the obsolete packet block)
	optIfTsresol  = 9  // if_tsresol
	optIfTsoffset = 14 // if_tsoffset
)

// Linux packet types (sll_pkttype) in Kuznetzov records.
const (
	linuxPacketOutgoing = 4
)

// readBufferSize is the size of the buffered reader in front of the file.
const readBufferSize = 64 << 10

// growStep is the most the frame buffer grows ahead of the bytes actually
// read, so a corrupt length in a short file costs at most this much memory.
const growStep = 256 << 10

type fileFormat uint8

const (
	formatPcap fileFormat = iota + 1
	formatPcapng
)

// pcapngInterface is what a pcapng interface description block says about
// the frames captured on it.
type pcapngInterface struct {
	linkType decode.LinkType
	snapLen  uint32
	// unitsPerSec is the timestamp resolution: 10^n or 2^n ticks a second.
	unitsPerSec uint64
	// nsPerTick converts a tick to nanoseconds where a tick is a whole
	// number of them (resolutions of 1 ns to 1 s in powers of ten), else 0.
	nsPerTick uint64
	// offsetSec is if_tsoffset, added to every timestamp.
	offsetSec int64
}

// timestamp converts a pcapng timestamp in ticks of this interface to a time.
func (ifc *pcapngInterface) timestamp(ticks uint64) time.Time {
	sec := ticks / ifc.unitsPerSec
	frac := ticks % ifc.unitsPerSec
	var ns uint64
	if ifc.nsPerTick != 0 {
		ns = frac * ifc.nsPerTick
	} else {
		// frac < unitsPerSec, so hi < unitsPerSec and Div64 cannot panic.
		hi, lo := bits.Mul64(frac, 1e9)
		ns, _ = bits.Div64(hi, lo, ifc.unitsPerSec)
	}
	return time.Unix(int64(sec)+ifc.offsetSec, int64(ns)).UTC()
}

// FileReader reads frames from a pcap or pcapng capture file, one at a time,
// as a stream: it never seeks, so a pipe will do. Make one with OpenFile or
// NewFileReader. It is not safe for concurrent use.
//
// What it trusts of the file: a record's captured length only as far as the
// file's bytes go (at most MaxPcapCaptureLen, or its pcapng block), its
// original length only between the captured length and MaxWireLen (see
// Frame.WireLen and InterfaceLen), its timestamp as written. An n-byte file
// yields at most n/16 frames, counting at most n + (n/16)·MaxWireLen wire
// bytes.
type FileReader struct {
	rd   *bufio.Reader
	file *os.File // owned by the reader when opened with OpenFile
	path string   // as errors name the file

	format    fileFormat
	bigEndian bool  // byte order of the file (pcap) or current section (pcapng)
	off       int64 // byte offset of the next unread record or block
	err       error // sticky: once set, every Next returns it

	hdr [kuznetzovRecordHeadLen]byte // fixed-size headers are parsed from here
	buf []byte                       // record data or block body; Frame.Data aliases it

	// pcap
	pcapLinkType  decode.LinkType
	pcapNsPerFrac int64 // 1000 for microsecond files, 1 for nanosecond files
	pcapRecordLen int   // record header length: 16, or 24 for Kuznetzov files

	// pcapng: the interfaces described so far in the current section
	interfaces []pcapngInterface

	// lastTime is the timestamp of the last frame read: a simple packet
	// block, which has none, takes it.
	lastTime time.Time

	// Opening a pcapng file reads ahead to its first packet block, so that
	// the link types of the interfaces described before it are checked
	// then. primed holds that frame (or r.err the error reading it) for the
	// first Next; primedFrom is the offset where reading it began.
	primed     bool
	first      Frame
	primedFrom int64
}

// StandardInput is the path OpenFile reads standard input for, as -r - does.
const StandardInput = "-"

// OpenFile opens the capture file at path and reads its header; the path
// "-" (StandardInput) reads standard input instead, which may be a pipe.
// Errors name the file ("standard input" for "-"). A file that is not pcap
// or pcapng, or is shorter than its header, gives a *FormatError at offset
// 0; a link type hogs cannot decode, a *LinkTypeError (for pcapng: of an
// interface described before the first packet). The caller must Close the
// reader.
func OpenFile(path string) (*FileReader, error) {
	if path == StandardInput {
		return newFileReader(os.Stdin, nil, "standard input")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := newFileReader(f, f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// NewFileReader reads a capture file header from rd and returns a reader for
// the frames after it, with the errors of OpenFile, naming no file.
func NewFileReader(rd io.Reader) (*FileReader, error) {
	return newFileReader(rd, nil, "")
}

// newFileReader reads the file header from rd; file, if not nil, is closed
// by Close; path names the file in errors.
func newFileReader(rd io.Reader, file *os.File, path string) (*FileReader, error) {
	r := &FileReader{rd: bufio.NewReaderSize(rd, readBufferSize), file: file, path: path,
		lastTime: time.Unix(0, 0).UTC()}
	if err := r.readFileHeader(); err != nil {
		return nil, err
	}
	if r.format == formatPcapng {
		r.primedFrom = r.off
		if err := r.nextPcapng(&r.first); err != nil {
			var le *LinkTypeError
			if errors.As(err, &le) {
				return nil, err
			}
		}
		r.primed = true
	}
	return r, nil
}

// Next fills f with the next frame of the file. It returns io.EOF at a clean
// end of the file; a *FormatError where the file is corrupt or ends inside
// a record or block (Truncated tells which), after every frame before the
// damage; a *LinkTypeError at a pcapng interface description, after the
// first packet, of a link type hogs cannot decode. An error reading the
// underlying file is returned wrapped, with the offset. Once Next has
// returned an error it returns the same error on every later call.
func (r *FileReader) Next(f *Frame) error {
	if r.primed {
		r.primed = false
		if r.err == nil {
			*f = r.first
			return nil
		}
	}
	if r.err != nil {
		return r.err
	}
	if r.format == formatPcap {
		return r.nextPcap(f)
	}
	return r.nextPcapng(f)
}

// Close releases the reader. For a reader made by OpenFile it closes the
// file; a reader made by NewFileReader leaves its io.Reader open. After
// Close, Next returns an error wrapping os.ErrClosed.
func (r *FileReader) Close() error {
	r.err = fmt.Errorf("rawcap: Next after Close: %w", os.ErrClosed)
	r.buf = nil
	r.primed = false
	r.first = Frame{}
	if r.file == nil {
		return nil
	}
	f := r.file
	r.file = nil
	return f.Close()
}

// Offset returns the byte offset of the next unread record or block. After
// Next has reported damage, it is the offset where the damaged record starts.
func (r *FileReader) Offset() int64 {
	if r.primed {
		return r.primedFrom
	}
	return r.off
}

func (r *FileReader) u16(b []byte) uint16 {
	if r.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *FileReader) u32(b []byte) uint32 {
	if r.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *FileReader) u64(b []byte) uint64 {
	if r.bigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// corrupt records and returns a *FormatError at byte offset off.
func (r *FileReader) corrupt(off int64, format string, args ...any) error {
	r.err = &FormatError{Path: r.path, Offset: off, Reason: fmt.Sprintf(format, args...)}
	return r.err
}

// truncated records and returns a *FormatError for a file that ends inside
// what starts at byte offset off.
func (r *FileReader) truncated(off int64, format string, args ...any) error {
	r.err = &FormatError{Path: r.path, Offset: off, Truncated: true, Reason: fmt.Sprintf(format, args...)}
	return r.err
}

// readFailed turns an error from reading the piece of a record or block
// starting at off into the error Next reports: the end of the file inside
// it is truncation, anything else an I/O error.
func (r *FileReader) readFailed(off int64, err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.truncated(off, "file ends inside %s", what)
	}
	name := "capture file"
	if r.path != "" {
		name = r.path
	}
	r.err = fmt.Errorf("%s: read error at byte offset %d: %w", name, off, err)
	return r.err
}

// readFileHeader reads the pcap file header or the first pcapng section
// header block and sets up the reader for the format found.
func (r *FileReader) readFileHeader() error {
	if _, err := io.ReadFull(r.rd, r.hdr[:4]); err != nil {
		return r.headerFailed(err)
	}
	le := binary.LittleEndian.Uint32(r.hdr[:4])
	be := binary.BigEndian.Uint32(r.hdr[:4])
	switch {
	case le == blockSectionHeader:
		r.format = formatPcapng
		if _, err := io.ReadFull(r.rd, r.hdr[4:blockHeaderLen]); err != nil {
			return r.headerFailed(err)
		}
		return r.readSectionHeader(0)
	case isPcapMagic(le):
		r.bigEndian = false
	case isPcapMagic(be):
		r.bigEndian = true
	default:
		return r.corrupt(0, "not a pcap or pcapng file (magic 0x%08x)", be)
	}
	r.format = formatPcap
	magic := r.u32(r.hdr[:4])
	if _, err := io.ReadFull(r.rd, r.hdr[4:pcapFileHeaderLen]); err != nil {
		return r.headerFailed(err)
	}
	// Version, time zone, sigfigs and snaplen are not needed to read frames.
	// The upper bits of the link type field carry FCS information.
	r.pcapLinkType = decode.LinkType(r.u32(r.hdr[20:24]) & 0xffff)
	if !supportedLink(r.pcapLinkType) {
		r.err = &LinkTypeError{Path: r.path, LinkType: r.pcapLinkType}
		return r.err
	}
	r.pcapNsPerFrac = 1000
	if magic == pcapMagicNano {
		r.pcapNsPerFrac = 1
	}
	r.pcapRecordLen = pcapRecordHeaderLen
	if magic == pcapMagicKuznetzov {
		r.pcapRecordLen = kuznetzovRecordHeadLen
	}
	r.off = pcapFileHeaderLen
	return nil
}

// headerFailed reports an error reading the first bytes of the file.
func (r *FileReader) headerFailed(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.truncated(0, "file too short for a capture header")
	}
	return r.readFailed(0, err, "the file header")
}

func isPcapMagic(m uint32) bool {
	return m == pcapMagicMicro || m == pcapMagicNano || m == pcapMagicKuznetzov
}

// nextPcap reads one pcap record.
func (r *FileReader) nextPcap(f *Frame) error {
	start := r.off
	hdr := r.hdr[:r.pcapRecordLen]
	if n, err := io.ReadFull(r.rd, hdr); err != nil {
		if n == 0 && err == io.EOF {
			r.err = io.EOF
			return io.EOF
		}
		return r.readFailed(start, err, "a record header")
	}
	sec := r.u32(hdr[0:4])
	frac := r.u32(hdr[4:8])
	capLen := r.u32(hdr[8:12])
	wireLen := r.u32(hdr[12:16])
	if capLen > MaxPcapCaptureLen {
		return r.corrupt(start, "captured length %d exceeds limit %d", capLen, MaxPcapCaptureLen)
	}
	data, err := r.readData(int(capLen))
	if err != nil {
		return r.readFailed(start, err, fmt.Sprintf("a record (captured length %d)", capLen))
	}
	f.Data = data
	f.WireLen = InterfaceLen(r.pcapLinkType, data, fileWireLen(wireLen, len(data)))
	f.LinkType = r.pcapLinkType
	// A fraction of a second or more (a corrupt field) carries into the
	// seconds, as sec + frac/10^6 does: at most 4,295 s later.
	f.Timestamp = time.Unix(int64(sec), int64(frac)*r.pcapNsPerFrac).UTC()
	r.lastTime = f.Timestamp
	f.Interface = 0
	f.Direction = cookedDirection(r.pcapLinkType, data)
	f.InterfaceName = ""
	if r.pcapRecordLen == kuznetzovRecordHeadLen {
		// ifindex(4) protocol(2) pkttype(1) pad(1); pkttype is sll_pkttype.
		f.Direction = directionOfPacketType(uint16(hdr[22]))
	}
	r.off = start + int64(len(hdr)) + int64(capLen)
	return nil
}

// readData reads exactly n bytes into the reader's buffer and returns them,
// capacity-limited. The buffer grows only as bytes arrive, by at most
// growStep ahead of them, so a corrupt length in a short file cannot force a
// huge allocation. On error the returned slice is nil.
func (r *FileReader) readData(n int) ([]byte, error) {
	if n <= cap(r.buf) {
		b := r.buf[:n:n]
		if _, err := io.ReadFull(r.rd, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	have := 0
	for have < n {
		want := min(n, cap(r.buf)+max(cap(r.buf), growStep))
		if want > cap(r.buf) {
			grown := make([]byte, want)
			copy(grown, r.buf[:have])
			r.buf = grown
		}
		m, err := io.ReadFull(r.rd, r.buf[have:want])
		have += m
		if err != nil {
			return nil, err
		}
	}
	return r.buf[:n:n], nil
}

// nextPcapng reads blocks until one holds a packet.
func (r *FileReader) nextPcapng(f *Frame) error {
	for {
		start := r.off
		if n, err := io.ReadFull(r.rd, r.hdr[:blockHeaderLen]); err != nil {
			if n == 0 && err == io.EOF {
				r.err = io.EOF
				return io.EOF
			}
			return r.readFailed(start, err, "a block header")
		}
		blockType := r.u32(r.hdr[0:4])
		if blockType == blockSectionHeader {
			if err := r.readSectionHeader(start); err != nil {
				return err
			}
			continue
		}
		length := r.u32(r.hdr[4:8])
		if err := r.checkBlockLength(start, length); err != nil {
			return err
		}
		var minLen uint32
		switch blockType {
		case blockInterfaceDescription:
			minLen = minInterfaceDescLen
		case blockEnhancedPacket:
			minLen = minEnhancedPacketLen
		case blockPacket:
			minLen = minPacketBlockLen
		case blockSimplePacket:
			minLen = minSimplePacketLen
		default:
			if err := r.skipBlock(start, length); err != nil {
				return err
			}
			continue
		}
		if length < minLen {
			return r.corrupt(start, "block of type %#x has length %d, less than its minimum %d", blockType, length, minLen)
		}
		body, err := r.readBlockBody(start, length)
		if err != nil {
			return err
		}
		switch blockType {
		case blockInterfaceDescription:
			if err := r.addInterface(start, body); err != nil {
				return err
			}
			r.off = start + int64(length)
			continue
		case blockEnhancedPacket:
			err = r.packetBlock(start, body, r.u32(body[0:4]), f)
		case blockPacket:
			err = r.packetBlock(start, body, uint32(r.u16(body[0:2])), f)
		case blockSimplePacket:
			err = r.simplePacket(start, body, f)
		}
		if err != nil {
			return err
		}
		r.off = start + int64(length)
		return nil
	}
}

// checkBlockLength validates the total length of the block starting at start.
func (r *FileReader) checkBlockLength(start int64, length uint32) error {
	switch {
	case length < minBlockLen:
		return r.corrupt(start, "block length %d is less than %d", length, minBlockLen)
	case length%4 != 0:
		return r.corrupt(start, "block length %d is not a multiple of 4", length)
	case length > MaxPcapngBlockLen:
		return r.corrupt(start, "block length %d exceeds limit %d", length, MaxPcapngBlockLen)
	}
	return nil
}

// readBlockBody reads the rest of a block whose 8-byte header has been read,
// checks its trailing length and returns its body (without the trailer).
func (r *FileReader) readBlockBody(start int64, length uint32) ([]byte, error) {
	rest, err := r.readData(int(length) - blockHeaderLen)
	if err != nil {
		return nil, r.readFailed(start, err, fmt.Sprintf("a block (length %d)", length))
	}
	body := rest[:len(rest)-blockTrailerLen]
	if trailer := r.u32(rest[len(body):]); trailer != length {
		return nil, r.corrupt(start, "block trailing length %d differs from leading length %d", trailer, length)
	}
	return body, nil
}

// skipBlock skips the body of a block this reader does not interpret and
// checks its trailing length.
func (r *FileReader) skipBlock(start int64, length uint32) error {
	bodyLen := int(length) - minBlockLen
	if _, err := r.rd.Discard(bodyLen); err != nil {
		return r.readFailed(start, err, fmt.Sprintf("a block (length %d)", length))
	}
	trailer := r.hdr[blockHeaderLen : blockHeaderLen+blockTrailerLen]
	if _, err := io.ReadFull(r.rd, trailer); err != nil {
		return r.readFailed(start, err, fmt.Sprintf("a block (length %d)", length))
	}
	if t := r.u32(trailer); t != length {
		return r.corrupt(start, "block trailing length %d differs from leading length %d", t, length)
	}
	r.off = start + int64(length)
	return nil
}

// readSectionHeader reads a section header block whose 8-byte header is in
// r.hdr. It sets the byte order of the new section and forgets the
// interfaces of the previous one.
func (r *FileReader) readSectionHeader(start int64) error {
	bom := r.hdr[blockHeaderLen : blockHeaderLen+4]
	if _, err := io.ReadFull(r.rd, bom); err != nil {
		return r.readFailed(start, err, "a section header block")
	}
	switch {
	case binary.LittleEndian.Uint32(bom) == pcapngByteOrderMagic:
		r.bigEndian = false
	case binary.BigEndian.Uint32(bom) == pcapngByteOrderMagic:
		r.bigEndian = true
	default:
		return r.corrupt(start, "section header block has bad byte-order magic 0x%08x", binary.BigEndian.Uint32(bom))
	}
	length := r.u32(r.hdr[4:8])
	if err := r.checkBlockLength(start, length); err != nil {
		return err
	}
	if length < minSectionHeaderLen {
		return r.corrupt(start, "section header block length %d is less than %d", length, minSectionHeaderLen)
	}
	// The byte-order magic is read already: the rest is length-12 bytes.
	rest, err := r.readData(int(length) - 12)
	if err != nil {
		return r.readFailed(start, err, fmt.Sprintf("a section header block (length %d)", length))
	}
	if trailer := r.u32(rest[len(rest)-blockTrailerLen:]); trailer != length {
		return r.corrupt(start, "block trailing length %d differs from leading length %d", trailer, length)
	}
	if major, minor := r.u16(rest[0:2]), r.u16(rest[2:4]); major != 1 {
		return r.corrupt(start, "unsupported pcapng version %d.%d", major, minor)
	}
	r.interfaces = r.interfaces[:0]
	r.off = start + int64(length)
	return nil
}

// nextOption splits the first option off opts. ok is false at
// opt_endofopt, at the end of opts, and where an option overruns opts:
// options are advisory, so a damaged one ends the list rather than the file.
func (r *FileReader) nextOption(opts []byte) (code uint16, value, rest []byte, ok bool) {
	if len(opts) < 4 {
		return 0, nil, nil, false
	}
	code, n := r.u16(opts[0:2]), int(r.u16(opts[2:4]))
	padded := (n + 3) &^ 3
	if code == optEndOfOpt || 4+padded > len(opts) {
		return 0, nil, nil, false
	}
	return code, opts[4 : 4+n], opts[4+padded:], true
}

// addInterface records the interface an interface description block
// describes; body is the block without header and trailer.
func (r *FileReader) addInterface(start int64, body []byte) error {
	ifc := pcapngInterface{
		linkType:    decode.LinkType(r.u16(body[0:2])),
		snapLen:     r.u32(body[4:8]),
		unitsPerSec: 1e6,
		nsPerTick:   1e3,
	}
	for code, value, opts, ok := r.nextOption(body[8:]); ok; code, value, opts, ok = r.nextOption(opts) {
		switch {
		case code == optIfTsresol && len(value) >= 1:
			ups, valid := ticksPerSecond(value[0])
			if !valid {
				return r.corrupt(start, "interface timestamp resolution (if_tsresol) 0x%02x is out of range", value[0])
			}
			ifc.unitsPerSec = ups
			ifc.nsPerTick = 0
			if ups <= 1e9 && 1e9%ups == 0 {
				ifc.nsPerTick = 1e9 / ups
			}
		case code == optIfTsoffset && len(value) >= 8:
			ifc.offsetSec = int64(r.u64(value[0:8]))
		}
	}
	if !supportedLink(ifc.linkType) {
		r.err = &LinkTypeError{Path: r.path, Offset: start, Interface: len(r.interfaces), LinkType: ifc.linkType}
		return r.err
	}
	r.interfaces = append(r.interfaces, ifc)
	return nil
}

// ticksPerSecond decodes an if_tsresol value: the high bit clear means a
// tick of 10^-v seconds, set means 2^-(v&0x7f). Resolutions whose ticks per
// second do not fit in 64 bits are out of range.
func ticksPerSecond(v byte) (uint64, bool) {
	if v&0x80 != 0 {
		exp := v & 0x7f
		if exp > 63 {
			return 0, false
		}
		return 1 << exp, true
	}
	if v > 19 {
		return 0, false
	}
	ups := uint64(1)
	for range v {
		ups *= 10
	}
	return ups, true
}

// packetBlock fills f from an enhanced or obsolete packet block; their
// bodies share a layout after the interface id: timestamp high and low,
// captured length, original length, data padded to 4 bytes, options.
func (r *FileReader) packetBlock(start int64, body []byte, ifIndex uint32, f *Frame) error {
	if uint64(ifIndex) >= uint64(len(r.interfaces)) {
		return r.corrupt(start, "packet block refers to interface %d, but the section describes %d", ifIndex, len(r.interfaces))
	}
	ifc := &r.interfaces[ifIndex]
	ticks := uint64(r.u32(body[4:8]))<<32 | uint64(r.u32(body[8:12]))
	capLen := r.u32(body[12:16])
	wireLen := r.u32(body[16:20])
	room := len(body) - packetFixedLen
	if uint64(capLen) > uint64(room) {
		return r.corrupt(start, "captured length %d exceeds the %d bytes of room in its block", capLen, room)
	}
	dataEnd := packetFixedLen + int(capLen)
	f.Data = body[packetFixedLen:dataEnd:dataEnd]
	f.WireLen = InterfaceLen(ifc.linkType, f.Data, fileWireLen(wireLen, len(f.Data)))
	f.LinkType = ifc.linkType
	f.Timestamp = ifc.timestamp(ticks)
	r.lastTime = f.Timestamp
	f.Interface = int(ifIndex)
	f.Direction = cookedDirection(ifc.linkType, f.Data)
	f.InterfaceName = ""
	optStart := packetFixedLen + (int(capLen)+3)&^3
	r.packetFlags(body[optStart:], f)
	return nil
}

// packetFlags sets f.Direction from an epb_flags option in opts, if it
// records one.
func (r *FileReader) packetFlags(options []byte, f *Frame) {
	for code, value, opts, ok := r.nextOption(options); ok; code, value, opts, ok = r.nextOption(opts) {
		if code == optEPBFlags && len(value) >= 4 {
			switch r.u32(value[0:4]) & 3 {
			case 1:
				f.Direction = decode.DirIn
			case 2:
				f.Direction = decode.DirOut
			}
			return
		}
	}
}

// simplePacket fills f from a simple packet block: interface 0, the
// previous frame's timestamp, captured length the least of the original length, the
// interface's snap length and the room in the block.
func (r *FileReader) simplePacket(start int64, body []byte, f *Frame) error {
	if len(r.interfaces) == 0 {
		return r.corrupt(start, "simple packet block before any interface description")
	}
	ifc := &r.interfaces[0]
	wireLen := r.u32(body[0:4])
	capLen := uint64(len(body) - 4)
	if uint64(wireLen) < capLen {
		capLen = uint64(wireLen)
	}
	if ifc.snapLen != 0 && uint64(ifc.snapLen) < capLen {
		capLen = uint64(ifc.snapLen)
	}
	dataEnd := 4 + int(capLen)
	f.Data = body[4:dataEnd:dataEnd]
	f.WireLen = InterfaceLen(ifc.linkType, f.Data, fileWireLen(wireLen, len(f.Data)))
	f.LinkType = ifc.linkType
	f.Timestamp = r.lastTime
	f.Interface = 0
	f.Direction = cookedDirection(ifc.linkType, f.Data)
	f.InterfaceName = ""
	return nil
}

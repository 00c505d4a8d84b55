package proc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
)

// IP protocol numbers, as in [Socket.Proto].
const (
	ProtoTCP uint8 = 6
	ProtoUDP uint8 = 17
)

// TCP states as the kernel numbers them (include/net/tcp_states.h), as in
// [Socket.State]. UDP sockets show TCPEstablished when connected and
// TCPClose when not.
const (
	TCPEstablished uint8 = 1
	TCPSynSent     uint8 = 2
	TCPSynRecv     uint8 = 3 // also not-yet-accepted request sockets (inode 0)
	TCPFinWait1    uint8 = 4
	TCPFinWait2    uint8 = 5
	TCPTimeWait    uint8 = 6 // inode 0: the owning socket is gone
	TCPClose       uint8 = 7
	TCPCloseWait   uint8 = 8
	TCPLastAck     uint8 = 9
	TCPListen      uint8 = 10
	TCPClosing     uint8 = 11
)

// Socket is one row of /proc/net/{tcp,tcp6,udp,udp6}.
type Socket struct {
	// Proto is ProtoTCP (6) or ProtoUDP (17).
	Proto uint8
	// Local is the bound address and port. Rows of tcp/udp hold 4-byte
	// addresses, rows of tcp6/udp6 16-byte ones (an IPv4-mapped
	// ::ffff:a.b.c.d, a dual-stack socket serving IPv4, is kept as is:
	// callers decide whether to Unmap).
	Local netip.AddrPort
	// Remote is the peer; the unspecified address and port 0 for listening
	// and unconnected sockets.
	Remote netip.AddrPort
	// State is the TCP state number (TCPEstablished, TCPListen, ...); for
	// UDP, TCPClose (7) when unconnected and TCPEstablished (1) when connected.
	State uint8
	// UID is the socket owner's uid, as seen from the reader's user namespace.
	UID uint32
	// Inode identifies the socket in /proc/PID/fd ("socket:[INODE]"); 0 for
	// rows that own no socket (TIME_WAIT, not yet accepted).
	Inode uint64
}

// socketTableProto maps the four table names to their protocol and family.
func socketTableProto(file string) (proto uint8, v6 bool, ok bool) {
	switch file {
	case "tcp":
		return ProtoTCP, false, true
	case "tcp6":
		return ProtoTCP, true, true
	case "udp":
		return ProtoUDP, false, true
	case "udp6":
		return ProtoUDP, true, true
	}
	return 0, false, false
}

// SocketTable reads one of the four socket tables and calls fn once per
// row (no slice is built). file is "tcp", "tcp6", "udp" or "udp6". With
// pid > 0 it reads ROOT/PID/net/FILE, the table of that process's network
// namespace, instead of ROOT/net/FILE. It returns the number of malformed
// lines skipped (the header and blank lines are not counted). Fields may
// be separated by any run of spaces or tabs; only the first ten are read.
//
// The kernel produces the table a read(2) at a time, walking its socket
// hash tables: a table that changes while it is read may show a socket
// twice or miss it, as for any reader of these files.
//
// A missing ROOT/PID/net/FILE wraps ErrNoProcess; a missing ROOT/net/tcp6
// (IPv6 disabled) wraps fs.ErrNotExist. fn may have been called for the
// rows read before an error.
//
// SocketTable allocates a fresh read buffer per call; a
// [SocketTableReader] keeps one.
func (fsys FS) SocketTable(file string, pid int, fn func(Socket)) (skipped int, err error) {
	r := SocketTableReader{FS: fsys}
	return r.SocketTable(file, pid, fn)
}

// DefaultSocketBufferSize is the read buffer of a [SocketTableReader]:
// room for about 400 rows per read.
const DefaultSocketBufferSize = 64 << 10

// SocketTableReader reads socket tables through a buffer it keeps between
// calls, so that a refresh loop allocates only to open the files. Memory
// stays bounded however many sockets there are. Not safe for concurrent use.
type SocketTableReader struct {
	// FS is the proc file system to read.
	FS FS
	// BufferSize is the size of the read buffer; 0 means
	// DefaultSocketBufferSize. A line longer than the buffer is counted as
	// malformed.
	BufferSize int

	buf []byte
}

// SocketTable is [FS.SocketTable] through the reader's buffer.
func (r *SocketTableReader) SocketTable(file string, pid int, fn func(Socket)) (skipped int, err error) {
	proto, v6, ok := socketTableProto(file)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownTable, file)
	}
	var path string
	if pid > 0 {
		path = r.FS.pidPath(pid, "net/"+file)
	} else {
		path = r.FS.Root + "/net/" + file
	}
	f, err := os.Open(path)
	if err != nil {
		if pid > 0 {
			return 0, processError(pid, err)
		}
		return 0, fmt.Errorf("proc: socket table: %w", err)
	}
	defer f.Close()
	size := r.BufferSize
	if size <= 0 {
		size = DefaultSocketBufferSize
	}
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	skipped, err = streamSocketTable(f, r.buf[:size], proto, v6, fn)
	if err != nil {
		if pid > 0 {
			return skipped, processError(pid, err)
		}
		return skipped, fmt.Errorf("proc: socket table: %s: %w", path, err)
	}
	return skipped, nil
}

// streamSocketTable parses the lines read from rd through buf (which must
// not be empty): complete lines are parsed in place, a partial last line is
// moved to the front of buf before the next read.
func streamSocketTable(rd io.Reader, buf []byte, proto uint8, v6 bool, fn func(Socket)) (skipped int, err error) {
	filled := 0         // buf[:filled] holds unparsed bytes
	discarding := false // inside a line longer than buf: drop up to its newline
	for {
		n, rerr := rd.Read(buf[filled:])
		filled += n
		// Parse every complete line in buf[:filled].
		start := 0
		for {
			i := bytes.IndexByte(buf[start:filled], '\n')
			if i < 0 {
				break
			}
			if discarding {
				discarding = false
			} else {
				skipped += parseSocketLine(buf[start:start+i], proto, v6, fn)
			}
			start += i + 1
		}
		filled = copy(buf, buf[start:filled])
		if filled == len(buf) { // no newline in a full buffer
			if !discarding {
				skipped++
			}
			discarding = true
			filled = 0
		}
		if rerr == io.EOF {
			if filled > 0 && !discarding { // an unterminated last line
				skipped += parseSocketLine(buf[:filled], proto, v6, fn)
			}
			return skipped, nil
		}
		if rerr != nil {
			return skipped, rerr
		}
	}
}

// parseSocketTable parses a whole socket table held in b (proto and family
// chosen by the caller: tcp/udp are v6 == false) and calls fn once per
// well-formed row. It returns the number of malformed lines skipped; the
// header line and blank lines are not counted. It allocates nothing.
func parseSocketTable(b []byte, proto uint8, v6 bool, fn func(Socket)) (skipped int) {
	for len(b) > 0 {
		line, next := b, len(b)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, next = b[:i], i+1
		}
		skipped += parseSocketLine(line, proto, v6, fn)
		b = b[next:]
	}
	return skipped
}

// Field positions in a socket table row, counted from 0 on runs of spaces:
//
//	sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ...
//	0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1234 ...
const (
	fieldSlot    = 0
	fieldLocal   = 1
	fieldRemote  = 2
	fieldState   = 3
	fieldUID     = 7
	fieldInode   = 9
	socketFields = 10 // fields needed; more follow and are ignored
)

// parseSocketLine parses one line (without its newline) and calls fn if it
// is a well-formed row. It returns 1 for a malformed line and 0 for a row,
// the header ("sl local_address ...") or a blank line.
func parseSocketLine(line []byte, proto uint8, v6 bool, fn func(Socket)) int {
	s := Socket{Proto: proto}
	pos := 0
	for field := 0; field < socketFields; field++ {
		var f []byte
		f, pos = nextField(line, pos)
		if len(f) == 0 {
			if field == 0 {
				return 0 // blank line
			}
			return 1 // truncated
		}
		ok := true
		switch field {
		case fieldSlot:
			if string(f) == "sl" {
				return 0 // header
			}
			ok = isSlot(f)
		case fieldLocal:
			s.Local, ok = parseAddrPort(f, v6)
		case fieldRemote:
			s.Remote, ok = parseAddrPort(f, v6)
		case fieldState:
			var st uint32
			st, ok = parseHex(f, 2)
			s.State = uint8(st)
		case fieldUID:
			var uid uint64
			uid, ok = parseDecimal(f, 1<<32-1)
			s.UID = uint32(uid)
		case fieldInode:
			s.Inode, ok = parseDecimal(f, 1<<64-1)
		}
		if !ok {
			return 1
		}
	}
	fn(s)
	return 0
}

// nextField returns the field of line starting at or after pos (fields are
// separated by runs of spaces, tabs or newlines) and the position after it;
// an empty field at the end of the line.
func nextField(line []byte, pos int) (field []byte, next int) {
	for pos < len(line) && isFieldSeparator(line[pos]) {
		pos++
	}
	start := pos
	for pos < len(line) && !isFieldSeparator(line[pos]) {
		pos++
	}
	return line[start:pos], pos
}

// isFieldSeparator tests the common case, a byte above ' ', first.
func isFieldSeparator(c byte) bool { return c <= ' ' && (c == ' ' || c == '\t' || c == '\n') }

// isSlot accepts the row number field, "%d:".
func isSlot(f []byte) bool {
	if len(f) < 2 || f[len(f)-1] != ':' {
		return false
	}
	for _, c := range f[:len(f)-1] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseAddrPort parses "AAAAAAAA:PPPP" (v4) or 32 hex digits ":PPPP" (v6).
// Each group of 8 address digits is one 32-bit word as the kernel holds it
// in memory, printed with %08X, so it is stored back in host byte order;
// the port is the port number in hex.
func parseAddrPort(f []byte, v6 bool) (netip.AddrPort, bool) {
	addrLen := 8
	if v6 {
		addrLen = 32
	}
	if len(f) != addrLen+1+4 || f[addrLen] != ':' {
		return netip.AddrPort{}, false
	}
	port, ok := parseHex(f[addrLen+1:], 4)
	if !ok {
		return netip.AddrPort{}, false
	}
	if !v6 {
		word, ok := parseHex(f[:8], 8)
		if !ok {
			return netip.AddrPort{}, false
		}
		var a [4]byte
		binary.NativeEndian.PutUint32(a[:], word)
		return netip.AddrPortFrom(netip.AddrFrom4(a), uint16(port)), true
	}
	var a [16]byte
	for i := 0; i < 4; i++ {
		word, ok := parseHex(f[8*i:8*i+8], 8)
		if !ok {
			return netip.AddrPort{}, false
		}
		binary.NativeEndian.PutUint32(a[4*i:], word)
	}
	return netip.AddrPortFrom(netip.AddrFrom16(a), uint16(port)), true
}

// parseHex parses exactly n (at most 8) hex digits, either case.
func parseHex(f []byte, n int) (uint32, bool) {
	if len(f) != n {
		return 0, false
	}
	var v uint32
	for _, c := range f {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

// parseDecimal parses an unsigned decimal number of at most max.
func parseDecimal[T string | []byte](f T, max uint64) (uint64, bool) {
	if len(f) == 0 || len(f) > 20 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// String renders the socket for logs and test failures:
// "6 127.0.0.1:22 10.0.0.2:50000 st=1 uid=0 inode=1234".
func (s Socket) String() string {
	return strconv.Itoa(int(s.Proto)) + " " + s.Local.String() + " " + s.Remote.String() +
		" st=" + strconv.Itoa(int(s.State)) + " uid=" + strconv.FormatUint(uint64(s.UID), 10) +
		" inode=" + strconv.FormatUint(s.Inode, 10)
}

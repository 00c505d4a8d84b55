package proc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// fixtureRoot is the hand-built proc tree the tests read.
const fixtureRoot = "testdata/proc"

// sock builds an expected row from addresses written the usual way.
func sock(proto uint8, local, remote string, state uint8, uid uint32, inode uint64) Socket {
	return Socket{
		Proto:  proto,
		Local:  netip.MustParseAddrPort(local),
		Remote: netip.MustParseAddrPort(remote),
		State:  state,
		UID:    uid,
		Inode:  inode,
	}
}

// socketTableGolden is what the fixture tables hold; rows in file order.
var socketTableGolden = []struct {
	root, file string
	pid        int
	want       []Socket
	skipped    int
}{
	{fixtureRoot, "tcp", 0, []Socket{
		sock(ProtoTCP, "0.0.0.0:22", "0.0.0.0:0", TCPListen, 0, 1001),
		sock(ProtoTCP, "127.0.0.1:631", "0.0.0.0:0", TCPListen, 0, 1002),
		sock(ProtoTCP, "10.0.0.5:22", "192.168.1.77:51234", TCPEstablished, 0, 1003),
		sock(ProtoTCP, "10.0.0.5:40000", "93.184.216.34:443", TCPTimeWait, 0, 0),
		sock(ProtoTCP, "10.0.0.5:22", "192.168.1.78:40001", TCPSynRecv, 0, 0),
		sock(ProtoTCP, "10.0.0.5:51000", "140.82.112.3:443", TCPEstablished, 1000, 2001), // doubled spaces
		sock(ProtoTCP, "10.0.0.5:51002", "140.82.112.4:443", TCPCloseWait, 1000, 2002),   // slot 12345:
		sock(ProtoTCP, "172.16.0.1:8080", "172.16.0.2:33000", TCPEstablished, 1<<32-2, 1<<64-1),
		sock(ProtoTCP, "127.0.0.1:25", "0.0.0.0:0", TCPListen, 0, 1019), // last line, no newline
	}, 11},
	{fixtureRoot, "tcp6", 0, []Socket{
		sock(ProtoTCP, "[::]:80", "[::]:0", TCPListen, 0, 3001),
		sock(ProtoTCP, "[2001:db8::10]:443", "[2001:db8:1::99]:50000", TCPEstablished, 33, 3002),
		sock(ProtoTCP, "[::ffff:127.0.0.1]:8080", "[::ffff:127.0.0.1]:45702", TCPEstablished, 0, 3003),
		sock(ProtoTCP, "[::1]:8080", "[::1]:43964", TCPEstablished, 0, 3004),
		sock(ProtoTCP, "[2001:db8::10]:443", "[2001:db8:2::7]:60000", TCPTimeWait, 0, 0),
		sock(ProtoTCP, "[fe80::1234:5678:9abc:def0]:8443", "[::]:0", TCPListen, 1000, 3005),
	}, 3},
	{fixtureRoot, "udp", 0, []Socket{
		sock(ProtoUDP, "127.0.0.1:46666", "127.0.0.1:53", TCPEstablished, 1000, 4001),
		sock(ProtoUDP, "0.0.0.0:51833", "0.0.0.0:0", TCPClose, 0, 4002),
		sock(ProtoUDP, "0.0.0.0:53", "0.0.0.0:0", TCPClose, 101, 4003),
	}, 1},
	{fixtureRoot, "udp6", 0, []Socket{
		sock(ProtoUDP, "[::]:35172", "[::]:0", TCPClose, 0, 5001),
		sock(ProtoUDP, "[::1]:35833", "[::1]:53", TCPEstablished, 1000, 5002),
		sock(ProtoUDP, "[::ffff:10.0.0.5]:5353", "[::ffff:224.0.0.251]:5353", TCPEstablished, 0, 5003),
	}, 1},
	// The tables of process 500's network namespace (a container).
	{fixtureRoot, "tcp", 500, []Socket{
		sock(ProtoTCP, "10.88.0.2:80", "10.88.0.1:41000", TCPEstablished, 0, 6001),
	}, 0},
	{fixtureRoot, "udp", 500, []Socket{
		sock(ProtoUDP, "10.88.0.2:53", "0.0.0.0:0", TCPClose, 0, 6002),
	}, 0},
	{fixtureRoot, "tcp6", 500, nil, 0},
	{fixtureRoot, "udp6", 500, nil, 0},
	// Empty file, header only, header without its newline.
	{"testdata/empty", "tcp", 0, nil, 0},
	{"testdata/empty", "tcp6", 0, nil, 0},
	{"testdata/empty", "udp", 0, nil, 0},
}

func TestSocketTableFixtures(t *testing.T) {
	for _, tc := range socketTableGolden {
		t.Run(fmt.Sprintf("%s/%d/%s", tc.root, tc.pid, tc.file), func(t *testing.T) {
			var got []Socket
			skipped, err := NewFS(tc.root).SocketTable(tc.file, tc.pid, func(s Socket) { got = append(got, s) })
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows:\n got %v\nwant %v", got, tc.want)
			}
			if skipped != tc.skipped {
				t.Errorf("skipped %d lines, want %d", skipped, tc.skipped)
			}
		})
	}
}

// The address families come out as documented: 4-byte addresses from tcp
// and udp, 16-byte ones (mapped ones kept) from tcp6 and udp6.
func TestSocketTableAddressFamilies(t *testing.T) {
	for _, tc := range socketTableGolden {
		v6 := strings.HasSuffix(tc.file, "6")
		for _, s := range tc.want {
			for _, a := range []netip.Addr{s.Local.Addr(), s.Remote.Addr()} {
				if a.Is6() != v6 || a.Is4() == v6 {
					t.Errorf("%s: %v: wrong family", tc.file, a)
				}
			}
		}
	}
}

func TestSocketTableErrors(t *testing.T) {
	tests := []struct {
		root, file string
		pid        int
		is         []error
		isNot      []error
	}{
		{fixtureRoot, "raw", 0, []error{ErrUnknownTable}, []error{ErrNoProcess}},
		{fixtureRoot, "../tcp", 0, []error{ErrUnknownTable}, nil},
		{fixtureRoot, "tcp", 400, []error{ErrNoProcess, fs.ErrNotExist}, nil}, // vanished
		{fixtureRoot, "tcp", 999, []error{ErrNoProcess, fs.ErrNotExist}, nil}, // never there
		// IPv6 disabled: no tcp6 table. Not a vanished process.
		{"testdata/empty", "udp6", 0, []error{fs.ErrNotExist}, []error{ErrNoProcess}},
		{"testdata/nonexistent", "tcp", 0, []error{fs.ErrNotExist}, []error{ErrNoProcess}},
	}
	for _, tc := range tests {
		called := false
		_, err := NewFS(tc.root).SocketTable(tc.file, tc.pid, func(Socket) { called = true })
		for _, target := range tc.is {
			if !errors.Is(err, target) {
				t.Errorf("%s %d %s: error %v is not %v", tc.root, tc.pid, tc.file, err, target)
			}
		}
		for _, target := range tc.isNot {
			if errors.Is(err, target) {
				t.Errorf("%s %d %s: error %v is %v", tc.root, tc.pid, tc.file, err, target)
			}
		}
		if called {
			t.Errorf("%s %d %s: fn called", tc.root, tc.pid, tc.file)
		}
	}
}

// parseLines checks single lines, fed alone, against what they must give.
func TestParseSocketLine(t *testing.T) {
	const v4row = "   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000013a54c14 100 0 0 10 0"
	const v6row = "   1: B80D0120000000000000000010000000:01BB B80D0120000001000000000099000000:C350 01 00000000:00000000 00:00000000 00000000    33        0 3002 2 0000000013a54c14 20 0 0 10 -1"
	listen := sock(ProtoTCP, "127.0.0.1:631", "0.0.0.0:0", TCPListen, 0, 1002)
	established6 := sock(ProtoTCP, "[2001:db8::10]:443", "[2001:db8:1::99]:50000", TCPEstablished, 33, 3002)
	tests := []struct {
		name    string
		line    string
		v6      bool
		want    []Socket
		skipped int
	}{
		{"v4 row", v4row, false, []Socket{listen}, 0},
		{"v6 row", v6row, true, []Socket{established6}, 0},
		{"v4 row with CRLF", v4row + "\r", false, []Socket{listen}, 0}, // \r sits in an ignored field
		{"tabs", strings.ReplaceAll(v4row, " ", "\t"), false, []Socket{listen}, 0},
		{"lowercase", strings.ToLower(v6row), true, []Socket{established6}, 0},
		{"only the needed fields", "0: 0100007F:0277 00000000:0000 0A x x x 0 x 1002", false, []Socket{listen}, 0},
		{"header", "  sl  local_address rem_address   st tx_queue", false, nil, 0},
		{"blank", "", false, nil, 0},
		{"spaces", "   \t  ", false, nil, 0},
		{"v4 row in v6 mode", v4row, true, nil, 1},
		{"v6 row in v4 mode", v6row, false, nil, 1},
		{"one field short", "0: 0100007F:0277 00000000:0000 0A x x x 0 x", false, nil, 1},
		{"slot only", "0:", false, nil, 1},
		{"slot not a number", "a: 0100007F:0277 00000000:0000 0A x x x 0 x 1002", false, nil, 1},
		{"slot sign", "-1: 0100007F:0277 00000000:0000 0A x x x 0 x 1002", false, nil, 1},
		{"no colon in address", "0: 0100007F0277 00000000:0000 0A x x x 0 x 1002", false, nil, 1},
		{"colon misplaced", "0: 0100007:F0277 00000000:0000 0A x x x 0 x 1002", false, nil, 1},
		{"port too long", "0: 0100007F:02770 00000000:0000 0A x x x 0 x 1002", false, nil, 1},
		{"state one digit", "0: 0100007F:0277 00000000:0000 A x x x 0 x 1002", false, nil, 1},
		{"uid too big", "0: 0100007F:0277 00000000:0000 0A x x x 4294967296 x 1002", false, nil, 1},
		{"uid max", "0: 0100007F:0277 00000000:0000 0A x x x 4294967295 x 1002", false,
			[]Socket{sock(ProtoTCP, "127.0.0.1:631", "0.0.0.0:0", TCPListen, 1<<32-1, 1002)}, 0},
		{"inode hex", "0: 0100007F:0277 00000000:0000 0A x x x 0 x 0x3EA", false, nil, 1},
		{"inode plus", "0: 0100007F:0277 00000000:0000 0A x x x 0 x +1002", false, nil, 1},
		{"inode 21 digits", "0: 0100007F:0277 00000000:0000 0A x x x 0 x 000000000000000001002", false, nil, 1},
		{"hex with 0x", "0: 0x00007F:0277 00000000:0000 0A x x x 0 x 1002", false, nil, 1},
		{"NUL", "0: 0100007F:0277 00000000:0000 0A x x x 0 x 10\x0002", false, nil, 1},
		{"invalid UTF-8", "0: 0100007F:0277 0000\xff000:0000 0A x x x 0 x 1002", false, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []Socket
			skipped := parseSocketTable([]byte(tc.line), ProtoTCP, tc.v6, func(s Socket) { got = append(got, s) })
			if !slices.Equal(got, tc.want) || skipped != tc.skipped {
				t.Errorf("got %v skipped %d, want %v skipped %d", got, skipped, tc.want, tc.skipped)
			}
		})
	}
}

// The address words are host-order: on this (little-endian) machine the
// kernel prints 127.0.0.1 as 0100007F. Check against the rule, not a
// transcription of it: encode with NativeEndian like the kernel does.
func TestParseAddrPortHostOrder(t *testing.T) {
	for _, s := range []string{"127.0.0.1:631", "10.1.2.3:65535", "[2001:db8::1]:1", "[::ffff:192.0.2.1]:0", "[fe80::1:2:3:4]:8080"} {
		want := netip.MustParseAddrPort(s)
		line := "0: " + kernelHex(want) + " " + kernelHex(want) + " 01 x x x 0 x 1"
		var got Socket
		n := 0
		skipped := parseSocketTable([]byte(line), ProtoTCP, want.Addr().Is6(), func(s Socket) { got = s; n++ })
		if n != 1 || skipped != 0 || got.Local != want || got.Remote != want {
			t.Errorf("%s: line %q gave %v (%d rows, %d skipped)", s, line, got, n, skipped)
		}
	}
}

// Reading through buffers of every size from one byte past the longest
// line up gives what parsing the whole file at once gives; so does a
// reader that returns one byte at a time or half the asked-for bytes.
func TestStreamSocketTableMatchesWholeParse(t *testing.T) {
	for _, file := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b, err := os.ReadFile(filepath.Join(fixtureRoot, "net", file))
		if err != nil {
			t.Fatal(err)
		}
		_, v6, _ := socketTableProto(file)
		var want []Socket
		wantSkipped := parseSocketTable(b, ProtoTCP, v6, func(s Socket) { want = append(want, s) })
		longest := 0
		for line := range bytes.Lines(b) {
			longest = max(longest, len(line))
		}
		check := func(name string, got []Socket, skipped int, err error) {
			t.Helper()
			if err != nil || !slices.Equal(got, want) || skipped != wantSkipped {
				t.Errorf("%s %s: %d rows, %d skipped, err %v; want %d rows, %d skipped", file, name, len(got), skipped, err, len(want), wantSkipped)
			}
		}
		for size := longest + 1; size <= len(b)+1; size += 7 {
			var got []Socket
			skipped, err := streamSocketTable(bytes.NewReader(b), make([]byte, size), ProtoTCP, v6, func(s Socket) { got = append(got, s) })
			check(fmt.Sprintf("buffer %d", size), got, skipped, err)
		}
		var got []Socket
		skipped, err := streamSocketTable(iotest.OneByteReader(bytes.NewReader(b)), make([]byte, longest+1), ProtoTCP, v6, func(s Socket) { got = append(got, s) })
		check("one byte reads", got, skipped, err)
		got = nil
		skipped, err = streamSocketTable(iotest.HalfReader(bytes.NewReader(b)), make([]byte, longest+1), ProtoTCP, v6, func(s Socket) { got = append(got, s) })
		check("half reads", got, skipped, err)
	}
}

// A line longer than the buffer is one malformed line; the lines after it
// are read normally.
func TestStreamSocketTableLongLine(t *testing.T) {
	const row = "0: 0100007F:0277 00000000:0000 0A x x x 0 x 1002\n" // 49 bytes
	want := sock(ProtoTCP, "127.0.0.1:631", "0.0.0.0:0", TCPListen, 0, 1002)
	tests := []struct {
		name    string
		input   string
		rows    int
		skipped int
	}{
		{"long line between rows", row + strings.Repeat("x", 1000) + "\n" + row, 2, 1},
		{"exactly buffer-sized line", row + strings.Repeat("y", 63) + "\n" + row, 2, 1},
		{"long last line without newline", row + strings.Repeat("z", 200), 1, 1},
		{"several long lines", strings.Repeat(strings.Repeat("w", 100)+"\n", 3) + row, 1, 3},
		{"line that fits", strings.Repeat("v", 62) + "\n" + row, 1, 1},
	}
	for _, tc := range tests {
		for _, reader := range []string{"whole", "one byte"} {
			r := bytes.NewReader([]byte(tc.input))
			var rd interface{ Read([]byte) (int, error) } = r
			if reader == "one byte" {
				rd = iotest.OneByteReader(r)
			}
			rows := 0
			skipped, err := streamSocketTable(rd, make([]byte, 64), ProtoTCP, false, func(s Socket) {
				if s != want {
					t.Errorf("%s: row %v", tc.name, s)
				}
				rows++
			})
			if err != nil || rows != tc.rows || skipped != tc.skipped {
				t.Errorf("%s (%s reads): %d rows, %d skipped, err %v; want %d, %d", tc.name, reader, rows, skipped, err, tc.rows, tc.skipped)
			}
		}
	}
}

func TestStreamSocketTableReadError(t *testing.T) {
	boom := errors.New("boom")
	const row = "0: 0100007F:0277 00000000:0000 0A x x x 0 x 1002\n"
	rows := 0
	_, err := streamSocketTable(iotest.TimeoutReader(bytes.NewReader([]byte(row+row))), make([]byte, 4096), ProtoTCP, false, func(Socket) { rows++ })
	if !errors.Is(err, iotest.ErrTimeout) || rows != 2 {
		t.Errorf("err %v, %d rows; want ErrTimeout after 2 rows", err, rows)
	}
	_, err = streamSocketTable(iotest.ErrReader(boom), make([]byte, 4096), ProtoTCP, false, func(Socket) {})
	if !errors.Is(err, boom) {
		t.Errorf("err %v, want %v", err, boom)
	}
}

// A SocketTableReader with a small buffer reads the fixtures as FS does,
// and reuses its buffer.
func TestSocketTableReaderReuse(t *testing.T) {
	r := SocketTableReader{FS: NewFS(fixtureRoot), BufferSize: 512}
	for round := 0; round < 2; round++ {
		for _, tc := range socketTableGolden[:4] {
			var got []Socket
			skipped, err := r.SocketTable(tc.file, tc.pid, func(s Socket) { got = append(got, s) })
			if err != nil || !slices.Equal(got, tc.want) || skipped != tc.skipped {
				t.Errorf("round %d %s: %v skipped %d err %v", round, tc.file, got, skipped, err)
			}
		}
	}
	if len(r.buf) != 512 {
		t.Errorf("buffer %d bytes, want 512", len(r.buf))
	}
}

// kernelHex formats an address and port as the kernel does on this host:
// each 32-bit word of the address as %08X of its in-memory value.
func kernelHex(ap netip.AddrPort) string {
	var sb strings.Builder
	b := ap.Addr().AsSlice()
	for i := 0; i < len(b); i += 4 {
		fmt.Fprintf(&sb, "%08X", binary.NativeEndian.Uint32(b[i:i+4]))
	}
	fmt.Fprintf(&sb, ":%04X", ap.Port())
	return sb.String()
}

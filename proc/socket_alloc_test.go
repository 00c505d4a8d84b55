package proc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repeatTable builds a table of n rows by repeating the rows of a fixture
// file (its header once at the top), renumbering nothing: the parser does
// not care about slot numbers.
func repeatTable(t testing.TB, file string, n int) []byte {
	b, err := os.ReadFile(filepath.Join(fixtureRoot, "net", file))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	header, rows := lines[0], lines[1:]
	var out bytes.Buffer
	out.WriteString(header)
	for i := 0; i < n; i++ {
		row := rows[i%len(rows)]
		if !strings.HasSuffix(row, "\n") {
			row += "\n"
		}
		out.WriteString(row)
	}
	return out.Bytes()
}

// The allocation gate: parsing a 1000-line table allocates nothing, for
// each table flavour (rows, TIME_WAIT rows, malformed lines, v4 and v6).
func TestParseSocketTableAllocatesNothing(t *testing.T) {
	for _, file := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b := repeatTable(t, file, 1000)
		_, v6, _ := socketTableProto(file)
		rows := 0
		count := func(Socket) { rows++ }
		minAllocs := -1.0
		for run := 0; run < 5; run++ {
			a := testing.AllocsPerRun(10, func() { parseSocketTable(b, ProtoTCP, v6, count) })
			if minAllocs < 0 || a < minAllocs {
				minAllocs = a
			}
		}
		if rows == 0 {
			t.Fatalf("%s: no rows parsed", file)
		}
		if minAllocs != 0 {
			t.Errorf("%s: parsing 1000 lines allocates %v times (min of 5 runs), want 0", file, minAllocs)
		}
	}
}

// Reading a table from a file costs a fixed number of allocations (opening
// it), whatever the number of rows.
func TestSocketTableReaderAllocationsIndependentOfRows(t *testing.T) {
	allocs := func(rows int) float64 {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "net"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "net", "tcp"), repeatTable(t, "tcp", rows), 0o644); err != nil {
			t.Fatal(err)
		}
		r := SocketTableReader{FS: NewFS(root)}
		count := func(Socket) {}
		r.SocketTable("tcp", 0, count) // allocate the buffer
		return testing.AllocsPerRun(20, func() {
			if _, err := r.SocketTable("tcp", 0, count); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(10), allocs(20000)
	t.Logf("allocations per SocketTableReader.SocketTable: %v for 10 rows, %v for 20000 rows", small, large)
	if large > small {
		t.Errorf("20000 rows allocate %v times, 10 rows %v: allocations grow with rows", large, small)
	}
}

// generatedTCPTable is a /proc/net/tcp of n distinct rows as the kernel
// prints them (padded to 149 columns), a mix of listening, established and
// TIME_WAIT sockets.
func generatedTCPTable(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-149s\n", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")
	for i := 0; i < n; i++ {
		var row string
		switch i % 10 {
		case 0:
			row = fmt.Sprintf("%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x",
				i, 0x0500000A+i<<8, 1024+i%60000, 0x0200000A, 443, TCPTimeWait, 0, 0, 3, 0x175B, 0, 0, 0, 0, 3, 0xdeadbeef+i)
		case 1:
			row = fmt.Sprintf("%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d %d %d %d %d",
				i, 0, 1024+i%60000, 0, 0, TCPListen, 0, 0, 0, 0, 0, 0, 0, 100000+i, 1, 0xdeadbeef+i, 100, 0, 0, 10, 0)
		default:
			row = fmt.Sprintf("%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016x %d %d %d %d %d",
				i, 0x0500000A, 1024+i%60000, 0x0300A8C0+i<<16, 443, TCPEstablished, 0, 0, 2, 0x5BD, 0, 1000, 0, 100000+i, 1, 0xdeadbeef+i, 20, 4, 31, 10, -1)
		}
		fmt.Fprintf(&b, "%-149s\n", row)
	}
	return b.Bytes()
}

func BenchmarkParseSocketTable(b *testing.B) {
	const rows = 20000
	table := generatedTCPTable(rows)
	n := 0
	count := func(Socket) { n++ }
	if skipped := parseSocketTable(table, ProtoTCP, false, count); skipped != 0 || n != rows {
		b.Fatalf("generated table: %d rows, %d skipped", n, skipped)
	}
	b.SetBytes(int64(len(table)))
	b.ReportAllocs()
	for b.Loop() {
		parseSocketTable(table, ProtoTCP, false, count)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}

// BenchmarkSocketTableReader reads the same table from a file through a
// kept buffer: what a refresh costs, open and read syscalls included.
func BenchmarkSocketTableReader(b *testing.B) {
	const rows = 20000
	root := b.TempDir()
	if err := os.Mkdir(filepath.Join(root, "net"), 0o755); err != nil {
		b.Fatal(err)
	}
	table := generatedTCPTable(rows)
	if err := os.WriteFile(filepath.Join(root, "net", "tcp"), table, 0o644); err != nil {
		b.Fatal(err)
	}
	r := SocketTableReader{FS: NewFS(root)}
	n := 0
	count := func(Socket) { n++ }
	b.SetBytes(int64(len(table)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.SocketTable("tcp", 0, count); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}

package proc

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fixtureFiles returns the contents of the fixture files matching the
// glob patterns (under testdata/), to seed a fuzz target.
func fixtureFiles(f *testing.F, patterns ...string) [][]byte {
	var out [][]byte
	for _, pattern := range patterns {
		paths, err := filepath.Glob(filepath.Join("testdata", pattern))
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatalf("no fixture matches %q", patterns)
	}
	return out
}

// FuzzSocketTable: parseSocketTable never panics; every row it reports has
// valid addresses of the table's family; rows plus skipped lines never
// exceed the lines; and the streaming reader agrees with it.
func FuzzSocketTable(f *testing.F) {
	for _, b := range fixtureFiles(f, "proc/net/*", "proc/*/net/*", "empty/net/*") {
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		var rows []Socket
		skipped := parseSocketTable(b, ProtoUDP, v6, func(s Socket) {
			for _, a := range []netip.Addr{s.Local.Addr(), s.Remote.Addr()} {
				if !a.IsValid() || a.Is4() == v6 || a.Is6() != v6 {
					t.Fatalf("v6=%v: address %v of the wrong family in %v", v6, a, s)
				}
			}
			if s.Proto != ProtoUDP {
				t.Fatalf("proto %d", s.Proto)
			}
			rows = append(rows, s)
		})
		lines := bytes.Count(b, []byte("\n")) + 1
		if len(rows)+skipped > lines {
			t.Fatalf("%d rows + %d skipped > %d lines", len(rows), skipped, lines)
		}

		// Through a buffer larger than any line: the same rows.
		longest := 0
		for line := range bytes.Lines(b) {
			longest = max(longest, len(line))
		}
		var streamed []Socket
		streamSkipped, err := streamSocketTable(bytes.NewReader(b), make([]byte, longest+1), ProtoUDP, v6, func(s Socket) { streamed = append(streamed, s) })
		if err != nil || streamSkipped != skipped || !slices.Equal(streamed, rows) {
			t.Fatalf("streamed: %d rows, %d skipped, %v; whole: %d rows, %d skipped", len(streamed), streamSkipped, err, len(rows), skipped)
		}
		// Through a tiny buffer: no panic, no more rows than lines.
		small := 0
		smallSkipped, err := streamSocketTable(bytes.NewReader(b), make([]byte, 48), ProtoUDP, v6, func(Socket) { small++ })
		if err != nil || small+smallSkipped > lines || small > len(rows) {
			t.Fatalf("48-byte buffer: %d rows, %d skipped, %v; %d lines, %d rows whole", small, smallSkipped, err, lines, len(rows))
		}
	})
}

// FuzzStat: parseStat never panics; a comm it returns sits between a '('
// and the last ')' of the input, and a synthesized stat line with that comm
// and start time parses back to them.
func FuzzStat(f *testing.F) {
	for _, b := range fixtureFiles(f, "proc/*/stat") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		comm, start, ok := parseStat(b)
		if !ok {
			if comm != nil || start != 0 {
				t.Fatalf("failed parse returned %q, %d", comm, start)
			}
			return
		}
		if i := bytes.LastIndexByte(b, ')'); i < 0 || !bytes.Equal(b[i-len(comm)-1:i+1], append(append([]byte("("), comm...), ')')) {
			t.Fatalf("comm %q does not end at the last ')' of %q", comm, b)
		}
		line := "7 (" + string(comm) + ") S" + strings.Repeat(" 0", 18) + " " + strconv.FormatUint(start, 10) + " 0\n"
		comm2, start2, ok := parseStat([]byte(line))
		if !ok || string(comm2) != string(comm) || start2 != start {
			t.Fatalf("round trip of %q: %q, %d, %v", line, comm2, start2, ok)
		}
	})
}

// FuzzStatus: parseStatusUID and parseStatusNSPID never panic, a uid
// returned is written on a "Uid:" line of the input, and an NSpid is the
// last field of the first "NSpid:" line.
func FuzzStatus(f *testing.F) {
	for _, b := range fixtureFiles(f, "proc/*/status") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if tgid, ok := parseStatusTgid(b); ok && (tgid <= 0 || !bytes.Contains(b, []byte("Tgid:"))) {
			t.Fatalf("tgid %d from %q", tgid, b)
		}
		if nspid := parseStatusNSPID(b); nspid != 0 {
			found := false
			for line := range bytes.Lines(b) {
				if rest, ok := bytes.CutPrefix(line, []byte("NSpid:")); ok {
					fields := bytes.Fields(rest)
					if len(fields) == 0 || strings.TrimLeft(string(fields[len(fields)-1]), "0") != strconv.Itoa(nspid) {
						t.Fatalf("nspid %d is not the last field of the first NSpid line %q", nspid, line)
					}
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("nspid %d from input without an NSpid line: %q", nspid, b)
			}
		}
		uid, ok := parseStatusUID(b)
		if !ok {
			if uid != 0 {
				t.Fatalf("failed parse returned %d", uid)
			}
			return
		}
		for line := range bytes.Lines(b) {
			if rest, found := bytes.CutPrefix(line, []byte("Uid:")); found {
				field, _ := nextField(rest, 0)
				if digits := strings.TrimLeft(string(field), "0"); digits != strconv.FormatUint(uint64(uid), 10) && (digits != "" || uid != 0) {
					t.Fatalf("uid %d is not what the first Uid line %q says", uid, line)
				}
				return
			}
		}
		t.Fatalf("uid %d from input without a Uid line: %q", uid, b)
	})
}

// FuzzCmdline: parseCmdline never panics and is the inverse of joining
// the arguments with NULs and ending them with one.
func FuzzCmdline(f *testing.F) {
	for _, b := range fixtureFiles(f, "proc/*/cmdline") {
		f.Add(b)
	}
	f.Add([]byte("\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		args := parseCmdline(b)
		if len(b) == 0 {
			if args != nil {
				t.Fatalf("empty cmdline gave %q", args)
			}
			return
		}
		joined := strings.Join(args, "\x00")
		if b[len(b)-1] == 0 {
			joined += "\x00"
		}
		if joined != string(b) {
			t.Fatalf("%q split into %q, which joins back to %q", b, args, joined)
		}
	})
}

// FuzzSockDiagReply: parseDiagReply and nextDestroyed never panic; a
// socket parseDiagReply returns comes from a whole SOCK_DIAG_BY_FAMILY
// message answering the request, every message before it whole too, and
// its inode is the one that message holds (no bogus inode from a
// malformed reply); an event nextDestroyed returns is TCP or UDP and it
// always moves on.
func FuzzSockDiagReply(f *testing.F) {
	paths, err := filepath.Glob("testdata/sockdiag/*.txt")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no recordings in testdata/sockdiag: %v", err)
	}
	for _, p := range paths {
		r := readRecording(f, p)
		for _, e := range r.exchanges {
			for _, rep := range e.replies {
				f.Add(rep, seqOf(e.request))
			}
		}
		for _, d := range r.datagrams {
			f.Add(d, uint32(0))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, seq uint32) {
		s, done, err := parseDiagReply(b, seq)
		if err != nil && (!done || s != (DiagSocket{})) {
			t.Fatalf("error %v with done %v, socket %+v", err, done, s)
		}
		if s != (DiagSocket{}) {
			msg := firstAnswer(t, b, seq)
			if msg == nil {
				t.Fatalf("socket %+v from a reply with no whole message answering %d", s, seq)
			}
			if inode := uint64(binary.NativeEndian.Uint32(msg[nlmsgHeaderLen+diagMsgInode:])); s.Inode != inode || s.State == 0 {
				t.Fatalf("socket %+v, the message says inode %d", s, inode)
			}
		}
		for rest := b; len(rest) > 0; {
			ev, ok, next, err := nextDestroyed(rest)
			if ok && (err != nil || ev.Proto != ProtoTCP && ev.Proto != ProtoUDP) {
				t.Fatalf("event %+v, %v", ev, err)
			}
			if len(next) >= len(rest) {
				t.Fatalf("nextDestroyed did not move on: %d bytes, then %d", len(rest), len(next))
			}
			rest = next
		}
	})
}

// firstAnswer walks the messages of b as the kernel lays them out and
// returns the first one answering seq (a dump's parts aside) if it is a whole SOCK_DIAG_BY_FAMILY
// message with room for struct inet_diag_msg, every message before it
// whole; nil otherwise.
func firstAnswer(t *testing.T, b []byte, seq uint32) []byte {
	for off := 0; off+nlmsgHeaderLen <= len(b); {
		n := int(binary.NativeEndian.Uint32(b[off:]))
		if n < nlmsgHeaderLen || off+n > len(b) {
			return nil
		}
		multi := binary.NativeEndian.Uint16(b[off+6:])&nlmFMulti != 0 && binary.NativeEndian.Uint16(b[off+4:]) == sockDiagByFamily
		if binary.NativeEndian.Uint32(b[off+8:]) == seq && !multi {
			if binary.NativeEndian.Uint16(b[off+4:]) != sockDiagByFamily || n < nlmsgHeaderLen+inetDiagMsgLen {
				return nil
			}
			return b[off : off+n]
		}
		off += (n + 3) &^ 3
	}
	return nil
}

// FuzzLastPID: parseLastPID never panics, and a PID it returns is
// positive and is the text of the line's last field.
func FuzzLastPID(f *testing.F) {
	for _, s := range []string{"0.00 0.01 0.05 1/123 4567\n", "2.79 1.14 0.71 1/96 6595", "1 2 3 4 5", "0.00 0.01 0.05 1/123 0", "0.00 0.01 0.05 1/123 -5", "0.00 0.01 0.05 1/123 99999999999", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pid, ok := parseLastPID(b)
		if !ok {
			return
		}
		fields := strings.Fields(string(b))
		if pid <= 0 || len(fields) != 5 || fields[4] != strconv.Itoa(pid) {
			t.Fatalf("%q: PID %d", b, pid)
		}
	})
}

package pcapfilter_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"hogs/rawcap/pcapfilter"
)

var update = flag.Bool("update", false, "regenerate "+goldenFile+" with tcpdump's compiler (needs tcpdump)")

// goldenFile holds tcpdump -ddd's program for each of compatExprs, for
// packets of link type LINKTYPE_RAW.
const goldenFile = "testdata/libpcap_raw.txt"

// compatExprs are expressions libpcap compiles; Compile must compile each
// to a program that makes the same decision on every packet.
var compatExprs = []string{
	"",
	// Protocols.
	"ip",
	"ip6",
	"tcp",
	"udp",
	"sctp",
	"icmp",
	"icmp6",
	"igmp",
	"igrp",
	"pim",
	"vrrp",
	"carp",
	"ah",
	"esp",
	"proto 6",
	"proto 44",
	"ip proto 17",
	"ip6 proto 17",
	"ip6 proto 0",
	"ip6 proto 44",
	`ip proto \tcp`,
	`proto \udp`,
	`ip6 proto \ipv6-icmp`,
	"proto 0x11",
	"ip proto 6 or 17",
	// Hosts.
	"host 1.2.3.4",
	"src host 1.2.3.4",
	"dst host 5.6.7.8",
	"ip host 1.2.3.4",
	"host 2001:db8::1",
	"src host 2001:db8::1",
	"ip6 dst host 2001:db8::2",
	"host ::ffff:1.2.3.4",
	"src or dst host 10.1.2.3",
	"dst or src host 10.1.2.3",
	"src and dst host 1.2.3.4",
	"src 1.2.3.4",
	"dst 2001:db8::1",
	"ip src 1.2.3.4 and ip dst 5.6.7.8",
	"src host 1.2.3.4 and dst host 5.6.7.8",
	// Networks.
	"net 10.0.0.0/8",
	"net 10.1",
	"net 10",
	"net 192.168.1",
	"net 192.168.0.0 mask 255.255.0.0",
	"dst net 10.0.0.0 mask 255.0.0.0",
	"src net 172.16.0.0/12",
	"net 128.0.0.0/1",
	"net 10.1/16",
	"net 266",
	"net 0",
	"net 10.0.0.0 / 8",
	"net 2001:db8::/32",
	"ip6 net 2001:db8::/33",
	"dst net 2001:db8:8000::/33",
	"net 2001:db8::/64",
	"net 2001:db8::/65",
	"net ::/0",
	"net 10.0.0.0/8 and not net 10.1.0.0/16",
	"dst net 192.168.1.0/24 or 10.0.0.0/8",
	// Ports.
	"port 80",
	"tcp port 80",
	"udp port 53",
	"sctp port 80",
	"src port 22",
	"dst port 80",
	"tcp src port 1024",
	"udp dst port 2000",
	"src and dst port 80",
	"src or dst port 53",
	"port 0x50",
	"port 010",
	"port 0",
	"port 65535",
	"portrange 1000-2000",
	"udp portrange 1000-2000",
	"tcp portrange 0-1023",
	"src portrange 1000-2000",
	"dst portrange 2000-1000",
	"portrange 80",
	"portrange 1000-2000 or 80",
	"sctp dst portrange 1-1000",
	// Qualifier inheritance.
	"host 1.2.3.4 or 5.6.7.8",
	"src host 1.2.3.4 or 10.1.2.3 or 172.16.5.4",
	"host 2001:db8::1 or 2001:db8::2",
	"port 80 or 443",
	"port 80 or 443 or 8080",
	"tcp dst port 80 or 443",
	"port 80 and 443",
	"net 10.0.0.0/8 or 192.168.0.0/16",
	"host 1.2.3.4 or not 5.6.7.8",
	"not host 1.2.3.4 or 5.6.7.8",
	"host 1.2.3.4 and (port 80) or 5.6.7.8",
	"host 1.2.3.4 or (5.6.7.8 or (1.1.1.1))",
	"host 1.2.3.4 or (5.6.7.8 and not 1.1.1.1)",
	"port (80 or 443)",
	"host not 1.2.3.4",
	"tcp port 22 and not 80",
	// Operators and precedence.
	"not tcp",
	"! port 22",
	"not not ip",
	"tcp and not port 22",
	"not tcp and port 53",
	"tcp or udp and port 53",
	"tcp or (udp and port 53)",
	"not (tcp or udp)",
	"host 1.2.3.4 and (port 80 or port 443)",
	"(host 1.2.3.4 or host 5.6.7.8) and not port 22",
	"tcp && port 80 || udp && port 53",
	"ip and tcp and dst port 80",
	"ip6 and udp",
	"icmp or icmp6",
	"ip and not ip6",
	"tcp or udp or icmp or icmp6 or sctp",
	"udp and (src port 53 or dst port 53)",
	"dst host 5.6.7.8 and src portrange 1000-2000",
	"((tcp))",
	"host 1.2.3.4 or (not tcp)",
	// Lists, which libpcap's optimizer rearranges.
	"tcp port 80 or tcp port 443",
	"src port 80 or 443",
	"udp port 53 or 123 or 5353",
	"port 80 or portrange 1000-2000",
	"not port 80 and not port 443",
	"not (port 80 or 443)",
	"net 10.0.0.0/8 or 11.0.0.0/8",
	"net 10.0.0.0/8 or 1.2.3.4",
	"host 1.2.3.4 or 2001:db8::1",
	"src and dst host 1.2.3.4 or 5.6.7.8",
	"net 2001:db8::/32 or 2001:db9::/32",
	"ip6 host 2001:db8::1 or 2001:db8::2 or 2001:db8::80",
	"host 1.2.3.4 or host 5.6.7.8 or port 22",
	"(host 1.2.3.4 or 5.6.7.8) and (port 80 or 443)",
	// Loads, arithmetic and relations.
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
	"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
	"tcp[tcpflags] = tcp-syn|tcp-ack",
	"tcp[13] & 2 != 0",
	"tcp[13] = 18",
	"tcp[12:1] & 0xf0 > 0x50",
	"tcp[0:2] = 22 or tcp[2:2] = 22",
	"tcp[4:4] > 1000",
	"udp[8:2] = 0x1234",
	"udp[0:2] < 1024",
	"icmp[icmptype] = icmp-echo",
	"icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
	"icmp[0] = 3 and icmp[1] = 4",
	"icmp6[icmp6type] = icmp6-echo",
	"icmp6[0] >= 133 and icmp6[0] <= 137",
	"sctp[0:2] = 80",
	"igmp[0] = 0x11",
	"ip[0] & 0xf != 5",
	"ip[0] & 0xf > 5",
	"ip[2:2] > 576",
	"ip[6] & 0x20 = 0 and ip[6:2] & 0x1fff = 0",
	"ip[8] < 5",
	"ip[9] = 6",
	"ip[12:4] = 0x0a000001",
	"ip6[6] = 17",
	"ip6[7] <= 1",
	"ip6[24] = 0xff",
	"ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) != 0",
	"(ip[0] & 0xf) > 5",
	"(ip[2:2] - 20) / 4 > 100",
	"ip[1] + 2 * 3 = 9",
	"ip[1] | 2 & 3 = 3",
	"ip[0] % 3 = 1",
	"ip[0] << 1 = 0x8a",
	"ip[0] >> 4 = 4",
	"ip[0] ^ 0x45 = 0",
	"len & 3 ^ 1 = 0",
	"len ^ 1 << 2 = 0",
	"len ^ 1 | 2 = 3",
	"len + 3 % 2 = 0",
	"len % 3 + 1 = 0",
	"len * 3 % 2 = 0",
	"len % 3 * 2 = 1",
	"len ^ 2 * 3 = 0",
	"len << 1 + 2 = 0x100",
	"udp[0:2] + tcp[0:2] = 106",
	"ip[0] - tcp[0] = 0x45",
	"-ip[0] = -0x45",
	"len - 2 - 1 > 40",
	"len - -1 > 41",
	"tcp[0:2] > tcp[2:2]",
	"ip[2:2] = len",
	"len = ip[2:2] and tcp",
	"tcp[1+1:2] = 443",
	"1 = 1",
	"ip[16] >= 224",
	"not tcp[13] & 4 != 0",
	"tcp and (tcp[13] & 2 != 0 or port 80)",
	"port 80 and tcp[13] & 0x10 = 0",
	// Lengths.
	"len > 100",
	"len >= 60",
	"len < 60",
	"len <= 60",
	"len = 40",
	"len != 40",
	"greater 100",
	"less 60",
	"greater 0",
	"tcp and greater 100",
	"not less 60 and udp",
	// Multicast and broadcast at the IP layer.
	"ip multicast",
	"ip6 multicast",
	"ip broadcast",
	"ip multicast or ip6 multicast",
	"udp and ip multicast",
	"not ip broadcast",
	// Long programs: jumps beyond 255 instructions.
	"tcp port (1 or 2 or 3 or 4 or 5 or 6 or 7 or 8 or 9 or 10 or 11 or 12 or 13 or 14 or 15 or 16 or 17 or 18 or 19 or 20 or 21 or 22 or 23 or 24 or 25 or 26 or 27 or 28 or 29 or 30)",
	"host 1.1.1.1 or 1.1.1.2 or 1.1.1.3 or 1.1.1.4 or 1.1.1.5 or 1.1.1.6 or 1.1.1.7 or 1.1.1.8 or 1.1.1.9 or 1.1.1.10 or 1.1.1.11 or 1.1.1.12 or 1.1.1.13 or 1.1.1.14 or 1.1.1.15 or 1.2.3.4 or 1.1.1.16 or 1.1.1.17 or 1.1.1.18 or 1.1.1.19 or 1.1.1.20 or 1.1.1.21 or 1.1.1.22 or 1.1.1.23 or 1.1.1.24 or 1.1.1.25 or 1.1.1.26 or 1.1.1.27 or 1.1.1.28 or 1.1.1.29 or 1.1.1.30 or 1.1.1.31 or 1.1.1.32 or 1.1.1.33 or 1.1.1.34 or 1.1.1.35 or 1.1.1.36 or 1.1.1.37 or 1.1.1.38 or 1.1.1.39 or 1.1.1.40 or 1.1.1.41 or 1.1.1.42 or 1.1.1.43 or 1.1.1.44 or 1.1.1.45 or 1.1.1.46 or 1.1.1.47 or 1.1.1.48 or 1.1.1.49 or 1.1.1.50 or 1.1.1.51 or 1.1.1.52 or 1.1.1.53 or 1.1.1.54 or 1.1.1.55 or 1.1.1.56 or 1.1.1.57 or 1.1.1.58 or 1.1.1.59 or 1.1.1.60 or 1.1.1.61 or 1.1.1.62 or 1.1.1.63 or 1.1.1.64 or 1.1.1.65 or 1.1.1.66 or 1.1.1.67 or 1.1.1.68 or 1.1.1.69 or 1.1.1.70 or 1.1.1.71 or 1.1.1.72 or 1.1.1.73 or 1.1.1.74 or 1.1.1.75 or 1.1.1.76 or 1.1.1.77 or 1.1.1.78 or 1.1.1.79 or 1.1.1.80 or 5.6.7.8",
	"(port 1 or port 2 or port 3 or port 4 or port 5 or port 6 or port 7 or port 8 or port 9 or port 10 or port 11 or port 12 or port 13 or port 14 or port 15 or port 16 or port 17 or port 18 or port 19 or port 20 or port 21 or port 22) and (host 2001:db8::1 or host 2001:db8::2 or net 10.0.0.0/8)",
}

// looseExprs are expressions for which libpcap's optimizer arranges the
// comparisons in a way Compile does not copy: Compile must decide as
// libpcap does on every packet where libpcap's optimized and unoptimized
// programs agree, and as one of them on the others (packets that end
// inside a header).
var looseExprs = []string{
	// The optimizer compares the TCP source port with 80 and 443 before
	// it loads the destination port; Compile compares it with 443 after.
	"port 80 or tcp port 443",
}

// golden holds libpcap's programs for one expression: as tcpdump runs it,
// optimized, and as libpcap's code generator writes it (tcpdump -O).
type golden struct {
	expr                   string
	optimized, unoptimized []bpf.RawInstruction
}

// TestCompileMatchesLibpcap compiles each of compatExprs with Compile and
// compares the program's decisions with those of libpcap's programs (from
// the golden file) on every packet of the corpus: synthesized packets and
// the IP part of every frame of the reference captures.
//
// Compile's program must decide as libpcap's optimized program (what
// tcpdump runs) on every packet. The golden file also holds libpcap's
// unoptimized program, which failures show: the two libpcap programs
// disagree on some packets that end inside a header, where libpcap's
// optimizer has dropped a load or moved a comparison of a field it had
// loaded ahead of the load of another field, which fails on such a packet
// (a failed load rejects the packet). Compile arranges its loads as the
// optimizer does for the cases the table covers (see hostNode).
func TestCompileMatchesLibpcap(t *testing.T) {
	if *update {
		writeGolden(t)
	}
	goldens := readGolden(t)
	pkts, names := synthesizedPackets()
	synthesized := len(pkts)
	if capPkts, capNames := capturePacketsOrNil(t); capPkts != nil {
		pkts, names = append(pkts, capPkts...), append(names, capNames...)
	}
	t.Logf("%d expressions × %d packets (%d synthesized, %d from captures)", len(goldens), len(pkts), synthesized, len(pkts)-synthesized)

	compared, optimizerOnly := 0, 0
	for _, g := range goldens {
		t.Run(g.expr, func(t *testing.T) {
			optimized := libpcapFilter(t, g.expr, g.optimized)
			unoptimized := libpcapFilter(t, g.expr, g.unoptimized)
			prog, err := pcapfilter.Compile(g.expr, 0)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			checkProgram(t, prog)
			ours, err := pcapfilter.NewFilter(prog)
			if err != nil {
				t.Fatalf("NewFilter: %v", err)
			}
			// The program before Compile shortens it must decide the same.
			long, err := pcapfilter.CompileUnoptimized(g.expr, 0)
			if err != nil {
				t.Fatalf("CompileUnoptimized: %v", err)
			}
			checkProgram(t, long)
			oursLong, err := pcapfilter.NewFilter(long)
			if err != nil {
				t.Fatalf("NewFilter: %v", err)
			}
			loose := slices.Contains(looseExprs, g.expr)
			bad, differ := 0, 0
			for i, pkt := range pkts {
				opt, unopt, got := optimized.Match(pkt), unoptimized.Match(pkt), ours.Match(pkt)
				if opt != unopt {
					differ++
				}
				if gotLong := oursLong.Match(pkt); gotLong != got {
					t.Errorf("%s (%d bytes %s): Compile %v, before shortening %v", names[i], len(pkt), hex.EncodeToString(pkt[:min(len(pkt), 64)]), got, gotLong)
				}
				if got != opt && !(loose && got == unopt) {
					bad++
					if bad <= 5 {
						t.Errorf("%s (%d bytes %s): libpcap optimized %v, unoptimized %v, Compile %v",
							names[i], len(pkt), hex.EncodeToString(pkt[:min(len(pkt), 64)]), opt, unopt, got)
					}
				}
			}
			if bad > 5 {
				t.Errorf("... %d packets differ in all", bad)
			}
			if differ > 0 {
				t.Logf("libpcap's optimizer changes libpcap's decision on %d packets", differ)
			}
			compared += len(pkts)
			optimizerOnly += differ
		})
	}
	t.Logf("compared %d decisions; libpcap's optimized and unoptimized programs disagree on %d of them", compared, optimizerOnly)
}

// capturePacketsOrNil is capturePackets, but logs instead of skipping so
// that the synthesized corpus is still compared without the captures.
func capturePacketsOrNil(t *testing.T) (pkts [][]byte, names []string) {
	var skipped bool
	t.Run("captures", func(t *testing.T) {
		skipped = true
		pkts, names = capturePackets(t)
		skipped = false
	})
	if skipped {
		t.Log("captured packets not compared: no shared captures (see the skipped subtest)")
		return nil, nil
	}
	return pkts, names
}

// libpcapFilter returns a Filter running libpcap's program prog for expr.
func libpcapFilter(t *testing.T, expr string, prog []bpf.RawInstruction) *pcapfilter.Filter {
	t.Helper()
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatalf("golden program for %q does not disassemble", expr)
	}
	f, err := pcapfilter.NewFilter(insns)
	if err != nil {
		t.Fatalf("golden program for %q: %v", expr, err)
	}
	return f
}

// checkProgram checks that prog is valid for the kernel: it assembles, is
// not too long, jumps only forward and within the program, and ends in a
// return, so every path ends in one.
func checkProgram(t testing.TB, prog []bpf.Instruction) {
	t.Helper()
	if len(prog) == 0 || len(prog) > pcapfilter.MaxInstructions {
		t.Fatalf("program has %d instructions", len(prog))
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	for i, r := range raw {
		rest := uint32(len(raw) - i - 1)
		switch {
		case r.Op&0x07 != 0x05: // not a jump class
		case r.Op == 0x05: // ja
			if r.K >= rest {
				t.Fatalf("instruction %d: ja %d jumps out of the program", i, r.K)
			}
		default:
			if uint32(r.Jt) >= rest || uint32(r.Jf) >= rest {
				t.Fatalf("instruction %d: jt %d jf %d jump out of the program", i, r.Jt, r.Jf)
			}
		}
	}
	switch prog[len(prog)-1].(type) {
	case bpf.RetConstant, bpf.RetA:
	default:
		t.Fatalf("last instruction %v is not a return", prog[len(prog)-1])
	}
}

// goldenExprs lists the expressions of the golden file, in its order.
func goldenExprs() []string { return slices.Concat(compatExprs, looseExprs) }

func readGolden(t *testing.T) []golden {
	t.Helper()
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (regenerate it with go test -run TestCompileMatchesLibpcap -update, which needs tcpdump)", err)
	}
	var gs []golden
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	next := func() string {
		if !sc.Scan() {
			t.Fatalf("%s: unexpected end at line %d", goldenFile, line)
		}
		line++
		return sc.Text()
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		q, ok := strings.CutPrefix(text, "expr ")
		if !ok {
			t.Fatalf("%s:%d: want an expr line, have %q", goldenFile, line, text)
		}
		expr, err := strconv.Unquote(q)
		if err != nil {
			t.Fatalf("%s:%d: %v", goldenFile, line, err)
		}
		program := func(label string) []bpf.RawInstruction {
			if l := next(); l != label {
				t.Fatalf("%s:%d: want %q, have %q", goldenFile, line, label, l)
			}
			n, err := strconv.Atoi(next())
			if err != nil {
				t.Fatalf("%s:%d: %v", goldenFile, line, err)
			}
			var prog []bpf.RawInstruction
			for range n {
				var r bpf.RawInstruction
				if _, err := fmt.Sscanf(next(), "%d %d %d %d", &r.Op, &r.Jt, &r.Jf, &r.K); err != nil {
					t.Fatalf("%s:%d: %v", goldenFile, line, err)
				}
				prog = append(prog, r)
			}
			return prog
		}
		g := golden{expr: expr}
		g.optimized = program("optimized")
		g.unoptimized = program("unoptimized")
		gs = append(gs, g)
	}
	exprs := goldenExprs()
	if len(gs) != len(exprs) {
		t.Fatalf("%s has %d programs for %d expressions: regenerate it with -update", goldenFile, len(gs), len(exprs))
	}
	for i, g := range gs {
		if g.expr != exprs[i] {
			t.Fatalf("%s: program %d is for %q, not %q: regenerate it with -update", goldenFile, i, g.expr, exprs[i])
		}
	}
	return gs
}

// writeGolden runs tcpdump -ddd on a capture file of link type
// LINKTYPE_RAW for each expression and writes the golden file.
func writeGolden(t *testing.T) {
	t.Helper()
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Fatalf("-update needs tcpdump: %v", err)
	}
	// An empty pcap file: magic, version 2.4, zone, sigfigs, snaplen, link type 101.
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 101)
	file := filepath.Join(t.TempDir(), "raw.pcap")
	if err := os.WriteFile(file, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	version, _ := exec.Command(tcpdump, "--version").Output()
	var out bytes.Buffer
	fmt.Fprintf(&out, "# tcpdump -ddd (optimized) and -Oddd (unoptimized) programs for packets of link type LINKTYPE_RAW (101).\n")
	fmt.Fprintf(&out, "# Generated by go test -run TestCompileMatchesLibpcap -update; do not edit.\n")
	for _, l := range strings.Split(strings.TrimSpace(string(version)), "\n") {
		fmt.Fprintf(&out, "# %s\n", l)
	}
	for _, expr := range goldenExprs() {
		fmt.Fprintf(&out, "\nexpr %s\n", strconv.Quote(expr))
		for _, mode := range []struct{ label, flag string }{{"optimized", "-ddd"}, {"unoptimized", "-Oddd"}} {
			cmd := exec.Command(tcpdump, "-r", file, mode.flag, "--", expr) // "--": an expression may start with "-"
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			prog, err := cmd.Output()
			if err != nil {
				t.Fatalf("tcpdump %s %q: %v: %s", mode.flag, expr, err, strings.TrimSpace(stderr.String()))
			}
			fmt.Fprintf(&out, "%s\n%s", mode.label, prog)
		}
	}
	if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

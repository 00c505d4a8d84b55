package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the first line of stderr
	}{
		{[]string{"-Z"}, "unknown option -Z"},
		{[]string{"--bogus"}, `unknown option "--bogus"`},
		{[]string{"--bo\x1b[2Jgus"}, `unknown option "--bo\x1b[2Jgus"`},
		{[]string{"-\x1b"}, `unknown option -\x1b`},
		{[]string{"-r"}, "option -r needs a value"},
		{[]string{"--read"}, "option --read needs a value"},
		{[]string{"--dump=yes"}, "option --dump takes no value"},
		{[]string{"--dump"}, "--dump needs -r FILE"},
		{[]string{"-r", "x.pcap", "eth0"}, `devices ("eth0") cannot be combined with -r`},
		{[]string{"-r", "/nonexistent/x.pcap", "--dump"}, "/nonexistent/x.pcap"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		status := run(tt.args, &stdout, &stderr)
		first, _, _ := strings.Cut(stderr.String(), "\n")
		if status != 1 || !strings.Contains(first, tt.want) || !strings.HasPrefix(first, "hogs: ") {
			t.Errorf("hogs %q: status %d, stderr %q; want status 1 and %q", tt.args, status, stderr.String(), tt.want)
		}
		if strings.ContainsRune(stderr.String(), 0x1b) {
			t.Errorf("hogs %q: raw escape byte reached stderr: %q", tt.args, stderr.String())
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-V"}, {"--version"}} {
		var stdout, stderr bytes.Buffer
		if status := run(args, &stdout, &stderr); status != 0 || stdout.Len() == 0 || stderr.Len() != 0 {
			t.Errorf("hogs %q: status %d, stdout %q, stderr %q", args, status, stdout.String(), stderr.String())
		}
	}
}

func TestGetoptForms(t *testing.T) {
	// The same request spelled every way getopt allows.
	for _, args := range [][]string{
		{"-r", "f.pcap", "--dump"},
		{"-rf.pcap", "--dump"},
		{"--dump", "-r", "f.pcap"},
		{"--read=f.pcap", "--dump"},
		{"--read", "f.pcap", "--dump"},
	} {
		cfg, err := parseConfig(args)
		if err != nil || cfg.readFile != "f.pcap" || !cfg.dump {
			t.Errorf("parseConfig(%q) = %+v, %v", args, cfg, err)
		}
	}
	ops, err := parseArgs([]string{"a", "--", "-r"}, nil)
	if err != nil || len(ops) != 2 || ops[1] != "-r" {
		t.Errorf(`after "--" everything is an operand: got %q, %v`, ops, err)
	}
}

// TestDumpCorruptFile cuts a real capture in the middle of a record: the
// frames before the damage are printed, then one line names the file and
// the byte offset, and the exit status is 1.
func TestDumpCorruptFile(t *testing.T) {
	src := filepath.Join(capturesDir, "veth-ipv4.pcap")
	whole, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var full, fullErr bytes.Buffer
	if run([]string{"-r", src, "--dump"}, &full, &fullErr) != 0 {
		t.Fatalf("intact file failed: %s", fullErr.String())
	}
	// Record 1 starts at 24 (after the file header); cut inside record 2.
	rec1Len := int(binary.LittleEndian.Uint32(whole[24+8:]))
	rec2 := 24 + 16 + rec1Len
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, whole[:rec2+20], 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	status := run([]string{"-r", cut, "--dump"}, &stdout, &stderr)
	if status != 1 {
		t.Errorf("status %d, want 1", status)
	}
	firstLine, _, _ := strings.Cut(full.String(), "\n")
	if stdout.String() != firstLine+"\n" {
		t.Errorf("stdout %q, want just the first frame %q", stdout.String(), firstLine)
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, cut) || !strings.Contains(msg, "offset "+strconv.Itoa(rec2)) {
		t.Errorf("stderr %q: want one line naming %s and offset %d", msg, cut, rec2)
	}
}

func TestBadFilterExpression(t *testing.T) {
	for _, args := range [][]string{
		{"-r", filepath.Join(capturesDir, "veth-ipv4.pcap"), "-f", "tcp prot 80"},
		{"-t", "-f", "tcp prot 80"},
	} {
		var stdout, stderr bytes.Buffer
		status := run(args, &stdout, &stderr)
		want := `hogs: filter "tcp prot 80": position 5: unknown keyword "prot"` + "\n"
		if status != 1 || stderr.String() != want {
			t.Errorf("hogs %q: status %d, stderr %q; want 1 and %q", args, status, stderr.String(), want)
		}
	}
}

// capturesDir holds the captures the project records itself (rawcap's
// TestRecordCaptures): their flows and wire bytes per direction are
// listed in the README.
const capturesDir = "../../rawcap/testdata/captures"

// TestReplayTrace replays captures through the whole pipeline: trace
// output on the file's own clock, flows under the unknown rows, each
// direction's wire bytes as the recording device's counters moved.
func TestReplayTrace(t *testing.T) {
	v4 := filepath.Join(capturesDir, "veth-ipv4.pcap")
	v6 := filepath.Join(capturesDir, "veth-ipv6-any.pcap")
	lo := filepath.Join(capturesDir, "loopback.pcap")
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"replay-ipv4-bytes.txt", []string{"-r", v4, "-v", "2", "-C"}},
		{"replay-ipv4-filtered.txt", []string{"-r", v4, "-v", "2", "-C", "-f", "src port 5001"}},
		{"replay-ipv4-kB-c1.txt", []string{"-r", v4, "-v", "1", "-c", "1"}},
		{"replay-ipv6-cooked-bytes.txt", []string{"-r", v6, "-v", "2", "-C"}},
		{"replay-loopback-bytes.txt", []string{"-r", lo, "-v", "2", "-C"}},
	} {
		var stdout, stderr bytes.Buffer
		if status := run(tt.args, &stdout, &stderr); status != 0 {
			t.Fatalf("hogs %q: status %d: %s", tt.args, status, stderr.String())
		}
		goldenFile(t, tt.golden, stdout.Bytes())
	}
}

// TestNethogsInvocations: what nethogs tutorials teach parses the same way.
func TestNethogsInvocations(t *testing.T) {
	tests := []struct {
		args  []string
		check func(c config) bool
	}{
		{nil, func(c config) bool { return c.delay == time.Second && !c.trace && c.viewMode == 0 }},
		{[]string{"-d", "5"}, func(c config) bool { return c.delay == 5*time.Second }},
		{[]string{"-d", "5", "eno1"}, func(c config) bool { return c.delay == 5*time.Second && len(c.devices) == 1 && c.devices[0] == "eno1" }},
		{[]string{"-d", "5", "eth0", "eth1"}, func(c config) bool { return len(c.devices) == 2 && c.devices[1] == "eth1" }},
		{[]string{"-t", "-c", "3"}, func(c config) bool { return c.trace && c.count == 3 }},
		{[]string{"-v", "3", "-s"}, func(c config) bool { return c.viewMode == 3 && c.sortSent }},
		{[]string{"-tC"}, func(c config) bool { return c.trace && c.udp }},
		{[]string{"-v3", "-d5"}, func(c config) bool { return c.viewMode == 3 && c.delay == 5*time.Second }},
		{[]string{"eth0", "-t", "-d", "0.5"}, func(c config) bool { return c.trace && c.delay == 500*time.Millisecond && c.devices[0] == "eth0" }},
		{[]string{"-P", "12", "-P", "34", "-x"}, func(c config) bool { return len(c.onlyPIDs) == 2 && c.bugHunt && c.trace }},
		{[]string{"-a", "-p", "-l", "-b", "-g", "10", "-f", "tcp port 80"}, func(c config) bool {
			return c.all && c.promisc && c.cmdline && c.basename && c.gcEvery == 10 && c.filter == "tcp port 80"
		}},
	}
	for _, tt := range tests {
		c, err := parseConfig(tt.args)
		if err != nil || !tt.check(c) {
			t.Errorf("hogs %q: %+v, %v", tt.args, c, err)
		}
	}
	for _, bad := range [][]string{{"-d", "0"}, {"-d", "-1"}, {"-d", "abc"}, {"-v", "6"}, {"-v", "-1"}, {"-c", "x"}, {"-P", "0"}, {"-g", "0"}} {
		if _, err := parseConfig(bad); err == nil {
			t.Errorf("hogs %q accepted", bad)
		}
	}
}

// FuzzParseConfig: any command line parses or fails with a one-line usage
// error free of control characters; nothing panics.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{"-t -c 3", "-tC", "-v3 -d5", "-d 0.5 eth0", "-r x --dump", "--read=x --json --connections",
		"-f 'tcp port 80'", "-- -t", "-P 1 -P 2", "--idle 5m", "-Z", "--bogus", "-d"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		_, err := parseConfig(args)
		if err == nil {
			return
		}
		msg := err.Error()
		for _, r := range msg {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in error %q", msg)
			}
		}
	})
}

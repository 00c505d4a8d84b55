package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
	src := filepath.Join(sharedPcaps, "dns_tcp.pcap")
	whole, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("reference capture not available: %v", err)
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
		{"-r", filepath.Join(sharedPcaps, "ssh.pcap"), "-f", "tcp prot 80"},
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

// TestReplayTrace replays a capture through the whole pipeline: trace
// output on the file's own clock, flows under the unknown rows.
func TestReplayTrace(t *testing.T) {
	path := filepath.Join(sharedPcaps, "ssh.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("reference capture not available: %v", err)
	}
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"replay-ssh-bytes.txt", []string{"-r", path, "-v", "2"}},
		{"replay-ssh-filtered.txt", []string{"-r", path, "-v", "2", "-f", "src port 22"}},
		{"replay-ssh-kB-c1.txt", []string{"-r", path, "-v", "1", "-c", "1"}},
	} {
		var stdout, stderr bytes.Buffer
		if status := run(tt.args, &stdout, &stderr); status != 0 {
			t.Fatalf("hogs %q: status %d: %s", tt.args, status, stderr.String())
		}
		goldenFile(t, tt.golden, stdout.Bytes())
	}
}

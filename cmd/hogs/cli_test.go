package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
)

// TestCommandLineGolden runs command lines that must fail or print
// something fixed, and compares status, stdout and stderr with
// testdata/cli.golden.
func TestCommandLineGolden(t *testing.T) {
	capture := filepath.Join("..", "..", "rawcap", "testdata", "captures", "veth-ipv4.pcap")
	cases := [][]string{
		{"-d", "99999999999"},
		{"-d", "86401"},
		{"-d", "86400", "-c", "1_0"},
		{"-d", "1_0"},
		{"-d", "0x10"},
		{"-d", "1e3"},
		{"-d", "inf"},
		{"-d", "NaN"},
		{"-d", "+1"},
		{"-d", "1..2"},
		{"-d", "."},
		{"-d", "0.0000001"},
		{"-c", "1_0"},
		{"-c", "1.5"},
		{"-c", "2147483648"},
		{"-c", "0x10"},
		{"-P", "1_0"},
		{"-g", "+5"},
		{"-v", "1_0"},
		{"-r", capture, "--dump", "--json"},
		{"--bench"},
		{"-r", capture, "--bench", "--json"},
		{"-r", capture, "--bench", "--dump"},
		{"-V"},
		{"--version"},
		{"-r", "bad\x1b[2Jname\xff.pcap", "--dump"},
		{"-t", "-f", "tcp port \x1b[31m"},
	}
	var b bytes.Buffer
	for _, args := range cases {
		var stdout, stderr bytes.Buffer
		status := run(args, &stdout, &stderr)
		fmt.Fprintf(&b, "$ hogs %q\nstatus %d\n", args, status)
		for _, s := range []struct {
			name string
			buf  *bytes.Buffer
		}{{"stdout", &stdout}, {"stderr", &stderr}} {
			for _, line := range strings.SplitAfter(s.buf.String(), "\n") {
				if line != "" {
					fmt.Fprintf(&b, "%s: %s", s.name, line)
				}
			}
		}
		if bytes.ContainsAny(stderr.Bytes(), "\x1b\xff") {
			t.Errorf("hogs %q: raw bytes from the command line reached stderr: %q", args, stderr.String())
		}
	}
	goldenFile(t, "cli.golden", b.Bytes())
}

// failingWriter fails every write as a full device does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestOutputToFullDevice: -h and -V whose output cannot be written exit 1
// with one line saying so, in-process and from the built binary with
// stdout on /dev/full.
func TestOutputToFullDevice(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-V"}, {"--help"}} {
		var stderr bytes.Buffer
		if status := run(args, failingWriter{}, &stderr); status != 1 || strings.Count(stderr.String(), "\n") != 1 ||
			!strings.Contains(stderr.String(), "no space left on device") {
			t.Errorf("hogs %q to a full device: status %d, stderr %q", args, status, stderr.String())
		}
	}
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	defer full.Close()
	bin := hogsBinary(t)
	for _, arg := range []string{"-h", "-V"} {
		cmd := exec.Command(bin, arg)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = full, &stderr
		err := cmd.Run()
		want := "hogs: writing the help: write /dev/stdout: no space left on device\n"
		if arg == "-V" {
			want = strings.Replace(want, "help", "version", 1)
		}
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 || stderr.String() != want {
			t.Errorf("hogs %s > /dev/full: %v, stderr %q; want exit 1 and %q", arg, err, stderr.String(), want)
		}
	}
}

func TestVersionLine(t *testing.T) {
	stamp := func(settings ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{}
		for i := 0; i+1 < len(settings); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return info
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	for _, tt := range []struct {
		info       *debug.BuildInfo
		ldCommit   string
		ldModified bool
		want       string
	}{
		{nil, "", false, "hogs version " + version + ", commit unknown\n"},
		{stamp("vcs", "git"), "", true, "hogs version " + version + ", commit unknown\n"},
		{stamp("vcs.revision", rev, "vcs.modified", "false"), "", false, "hogs version " + version + ", commit " + rev + "\n"},
		{stamp("vcs.modified", "true", "vcs.revision", rev), "", false, "hogs version " + version + ", commit " + rev + " with uncommitted changes\n"},
		{stamp("vcs.revision", rev), "ffff", true, "hogs version " + version + ", commit " + rev + "\n"},
		{nil, "ffff", false, "hogs version " + version + ", commit ffff\n"},
		{stamp("-compiler", "gc"), "ffff", true, "hogs version " + version + ", commit ffff with uncommitted changes\n"},
	} {
		if got := versionLine(tt.info, tt.ldCommit, tt.ldModified); got != tt.want {
			t.Errorf("versionLine(%v, %q, %v) = %q, want %q", tt.info, tt.ldCommit, tt.ldModified, got, tt.want)
		}
	}
}

// TestVersionFromGitCheckout builds this tree with plain `go build` where
// the go command stamps the commit (a .git directory: here a clone of this
// repository's history beside a link to this tree, since the go command
// does not stamp in a git worktree, whose .git is a file) and with `make
// build`: -V names HEAD both times.
func TestVersionFromGitCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds hogs twice")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("needs git")
	}
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	rev := strings.TrimSpace(string(head))
	tree, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := exec.Command(git, "clone", "-q", "--shared", "--no-checkout", tree, filepath.Join(dir, "clone")).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v %s", err, out)
	}
	if err := os.Rename(filepath.Join(dir, "clone", ".git"), filepath.Join(dir, ".git")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tree, filepath.Join(dir, "src")); err != nil {
		t.Fatal(err)
	}
	goBuilt, makeBuilt := filepath.Join(dir, "hogs-go"), filepath.Join(dir, "hogs-make")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", goBuilt, "./cmd/hogs")
	build.Dir = filepath.Join(dir, "src")
	build.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0", "PWD="+build.Dir) // the go command finds .git by this path, not the real one
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v %s", err, out)
	}
	make := exec.Command("make", "-s", "build", "BINARY="+makeBuilt)
	make.Dir = tree
	if out, err := make.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v %s", err, out)
	}
	for _, b := range []string{goBuilt, makeBuilt} {
		out, err := exec.Command(b, "-V").Output()
		if err != nil || !strings.HasPrefix(string(out), "hogs version "+version+", commit "+rev) {
			t.Errorf("%s -V: %q, %v; want commit %s", b, out, err, rev)
		}
	}
}

package main

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseArtifacts checks what `make release` left in HOGS_DIST (it
// runs this test afterwards): one static binary per target with the ELF
// machine, class and byte order of its architecture, and a SHA256SUMS that
// lists exactly those files with their real checksums.
func TestReleaseArtifacts(t *testing.T) {
	dist := os.Getenv("HOGS_DIST")
	if dist == "" {
		t.Skip("checks the output of make release: run `make release` (it sets HOGS_DIST)")
	}
	version := os.Getenv("HOGS_VERSION")
	want := map[string]struct {
		machine elf.Machine
		class   elf.Class
		order   binary.ByteOrder
	}{
		"amd64":   {elf.EM_X86_64, elf.ELFCLASS64, binary.LittleEndian},
		"arm64":   {elf.EM_AARCH64, elf.ELFCLASS64, binary.LittleEndian},
		"armv7":   {elf.EM_ARM, elf.ELFCLASS32, binary.LittleEndian},
		"386":     {elf.EM_386, elf.ELFCLASS32, binary.LittleEndian},
		"mips":    {elf.EM_MIPS, elf.ELFCLASS32, binary.BigEndian},
		"mipsle":  {elf.EM_MIPS, elf.ELFCLASS32, binary.LittleEndian},
		"riscv64": {elf.EM_RISCV, elf.ELFCLASS64, binary.LittleEndian},
	}
	sums := map[string]string{}
	f, err := os.Open(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		sums[name] = sum
	}
	if len(sums) != len(want) {
		t.Errorf("SHA256SUMS lists %d files, want %d", len(sums), len(want))
	}
	for arch, w := range want {
		name := "hogs-" + version + "-linux-" + arch
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		h := sha256.Sum256(data)
		if got := hex.EncodeToString(h[:]); sums[name] != got {
			t.Errorf("%s: SHA256SUMS says %q, the file's is %s", name, sums[name], got)
		}
		e, err := elf.Open(filepath.Join(dist, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if e.Machine != w.machine || e.Class != w.class || e.ByteOrder != w.order {
			t.Errorf("%s: %v %v %v, want %v %v %v", name, e.Machine, e.Class, e.ByteOrder, w.machine, w.class, w.order)
		}
		for _, p := range e.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: program header %v: not static", name, p.Type)
			}
		}
		e.Close()
	}
	// The big-endian binary runs, where qemu-user can run it.
	if qemu, err := exec.LookPath("qemu-mips"); err == nil {
		out, err := exec.Command(qemu, filepath.Join(dist, "hogs-"+version+"-linux-mips"), "-V").Output()
		if err != nil || !strings.HasPrefix(string(out), "hogs version "+version) {
			t.Errorf("qemu-mips hogs -V: %q, %v", out, err)
		}
	} else {
		t.Log("qemu-mips not installed: the mips binary was not run")
	}
}

// TestMakeInstall installs into a staging directory with DESTDIR and
// PREFIX: every file lands where the README says, the binary runs, and
// with SETCAP=1 (as root, where file capabilities work) it has
// cap_net_raw. make uninstall removes them again.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds hogs")
	}
	needTool(t, "make", "make")
	dest, tmp := t.TempDir(), t.TempDir()
	args := []string{"-s", "install", "DESTDIR=" + dest, "PREFIX=/usr", "BINARY=" + filepath.Join(tmp, "hogs")}
	setcap := os.Geteuid() == 0
	if _, err := exec.LookPath("setcap"); err != nil {
		setcap = false
	}
	if setcap {
		args = append(args, "SETCAP=1")
	} else {
		t.Log("not root or no setcap: SETCAP=1 not tried")
	}
	cmd := exec.Command("make", args...)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %q: %v\n%s", args, err, out)
	}
	for _, f := range []string{"usr/bin/hogs", "usr/share/man/man1/hogs.1", "usr/share/bash-completion/completions/hogs",
		"usr/share/zsh/site-functions/_hogs", "usr/share/fish/vendor_completions.d/hogs.fish"} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Errorf("make install: %v", err)
		}
	}
	bin := filepath.Join(dest, "usr/bin/hogs")
	if out, err := exec.Command(bin, "-V").Output(); err != nil || !strings.HasPrefix(string(out), "hogs version "+version) {
		t.Errorf("installed hogs -V: %q, %v", out, err)
	}
	if setcap {
		if out, err := exec.Command("getcap", bin).Output(); err != nil || !strings.Contains(string(out), "cap_net_raw=ep") {
			t.Errorf("SETCAP=1: getcap says %q, %v", out, err)
		}
	}
	un := exec.Command("make", "-s", "uninstall", "DESTDIR="+dest, "PREFIX=/usr")
	un.Dir = "../.."
	if out, err := un.CombinedOutput(); err != nil {
		t.Fatalf("make uninstall: %v\n%s", err, out)
	}
	if _, err := os.Stat(bin); !os.IsNotExist(err) {
		t.Errorf("after make uninstall: %s: %v", bin, err)
	}
}

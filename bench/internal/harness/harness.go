//go:build linux

// Package harness is what the benchmark programs under bench/ share
// around internal/netlab: the run's life (signals and a deadline end it
// with every namespace and process removed), the traffic roles a harness
// plays by re-executing itself inside a namespace, child processes whose
// output is kept line by line with arrival times (so a refresh is seen as
// it arrives and parsed by bench/internal/trace), the monitors under test,
// and the header of a results file. The programs run as root.
package harness

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"hogs/internal/netlab"
)

// Main runs a harness called name: run gets a fresh Lab, and whatever way
// the program ends (run returns, SIGINT, SIGTERM, SIGHUP, or timeout
// passes; 0: no deadline) the Lab is cleaned up first. It exits 1 with
// run's error.
func Main(name string, timeout time.Duration, run func(lab *netlab.Lab) error) {
	lab := netlab.NewLab()
	cleanup := func() {
		if err := lab.Cleanup(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: cleanup: %v\n", name, err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "\n%s: %v: killing the traffic and monitors, removing the namespaces\n", name, s)
		cleanup()
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
	if timeout > 0 {
		time.AfterFunc(timeout, func() {
			fmt.Fprintf(os.Stderr, "\n%s: still running after %v: killing the traffic and monitors, removing the namespaces\n", name, timeout)
			cleanup()
			os.Exit(1)
		})
	}
	err := run(lab)
	cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Preflight checks what a harness needs before it creates anything: root,
// iproute2's ip, and the hogs binary at hogsPath (made by `make build`).
// It returns the harness's own executable (to play its traffic roles) and
// hogs's absolute path. makeTarget names the make target in the error for
// a missing root.
func Preflight(makeTarget, hogsPath string) (self, hogs string, err error) {
	if os.Geteuid() != 0 {
		return "", "", errors.New("needs root to create network namespaces (sudo make " + makeTarget + ")")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "", "", fmt.Errorf("needs iproute2's ip: %v", err)
	}
	if self, err = os.Executable(); err != nil {
		return "", "", err
	}
	if hogs, err = filepath.Abs(hogsPath); err != nil {
		return "", "", err
	}
	if _, err := os.Stat(hogs); err != nil {
		return "", "", fmt.Errorf("%v: build it first (make build)", err)
	}
	return self, hogs, nil
}

// FindNethogs returns the nethogs to measure: flagPath if set, else the one
// on PATH or in /usr/sbin, installing Debian's package if there is none.
// harness names the caller in its messages.
func FindNethogs(flagPath, harness string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	look := func() string {
		if p, err := exec.LookPath("nethogs"); err == nil {
			return p
		}
		if _, err := os.Stat("/usr/sbin/nethogs"); err == nil {
			return "/usr/sbin/nethogs"
		}
		return ""
	}
	if p := look(); p != "" {
		return p, nil
	}
	apt := func(args ...string) error {
		fmt.Fprintf(os.Stderr, "%s: nethogs is missing: apt-get %s\n", harness, strings.Join(args, " "))
		cmd := exec.Command("apt-get", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.Run()
	}
	if err := apt("install", "-y", "nethogs"); err != nil {
		if err := apt("update"); err != nil {
			return "", fmt.Errorf("apt-get update: %v", err)
		}
		if err := apt("install", "-y", "nethogs"); err != nil {
			return "", fmt.Errorf("apt-get install -y nethogs: %v", err)
		}
	}
	if p := look(); p != "" {
		return p, nil
	}
	return "", errors.New("nethogs not found after apt-get install")
}

// ForeignNetns lists namespaces lab did not make whose names look like a
// benchmark's or a test's (hogs-*): another run shares the CPUs.
func ForeignNetns(lab *netlab.Lab) []string {
	out, err := netlab.RunIP("", "netns", "list")
	if err != nil {
		return nil
	}
	var names []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && !lab.Owns(f[0]) && strings.HasPrefix(f[0], "hogs-") {
			names = append(names, f[0])
		}
	}
	return names
}

// MiB converts kB (as /proc prints memory) to MiB.
func MiB(kb uint64) float64 { return float64(kb) / 1024 }

// OneLine joins s's lines with " | ".
func OneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " | ") }

// FirstLines is s's first n lines, then "..." if there were more.
func FirstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

// LastLine is s's last non-empty line.
func LastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// CheckExec checks that process pid runs program (its comm, which the
// kernel cuts to 15 bytes, begins the program's base name): ip netns exec
// must have exec'ed it, or its /proc readings would be someone else's.
func CheckExec(pid int, program string) error {
	_, comm, err := netlab.CPUTicks(pid)
	if err != nil {
		return err
	}
	if want := filepath.Base(program); !strings.HasPrefix(want, comm) {
		return fmt.Errorf("PID %d is %q, not %s: ip netns exec did not exec it?", pid, comm, want)
	}
	return nil
}

// StartMonitor starts a monitor (argv, whose process runs program) in
// namespace ns, gives it startup to start, and checks that its PID is the
// program's; isRefresh marks its refresh lines.
func StartMonitor(lab *netlab.Lab, name, program, ns string, isRefresh func(string) bool, startup time.Duration, argv ...string) (*Child, error) {
	mon, err := Start(lab, name, ns, isRefresh, argv...)
	if err != nil {
		return nil, err
	}
	if mon.Wait(startup) {
		return mon, fmt.Errorf("%s exited during start-up (%v): %s", name, mon.WaitErr, OneLine(FirstLines(mon.Err.Text(), 5)))
	}
	return mon, CheckExec(mon.PID(), program)
}

// WriteResults writes doc to path (nothing if path is ""), says so on
// stderr, and returns an error saying how many runs failed, if any.
func WriteResults(name, path, doc string, took time.Duration, runErrs []error) error {
	if path != "" {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: wrote %s (%v in all)\n", name, path, took.Round(time.Second))
	}
	failed := 0
	for _, err := range runErrs {
		if err != nil {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d runs failed", failed, len(runErrs))
	}
	return nil
}

// The timing every bench gives its monitors: start-up time excluded from
// the CPU measured, the time after the traffic before the last reading,
// and how long a monitor has from SIGTERM to SIGKILL.
const (
	MonitorStartup = 2 * time.Second
	Tail           = 2 * time.Second
	Grace          = 3 * time.Second
)

// MonitorFlags defines the -hogs and -nethogs flags naming the binaries a
// bench runs.
func MonitorFlags(hogs, nethogs *string) {
	flag.StringVar(hogs, "hogs", "./hogs", "hogs binary (make build)")
	flag.StringVar(nethogs, "nethogs", "", "nethogs binary (default: from PATH or /usr/sbin; apt-get installs it if missing)")
}

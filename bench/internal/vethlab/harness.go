package vethlab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// WantArgs checks that a traffic role got n arguments; the error shows
// the role's usage line, prefixed with the harness's name.
func WantArgs(harness string, args []string, n int, usage string) error {
	if len(args) != n {
		return fmt.Errorf("usage: %s %s", harness, usage)
	}
	return nil
}

// ParseDuration parses a role's duration argument, which must lie in
// (0, max].
func ParseDuration(s string, max time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 || d > max {
		return 0, fmt.Errorf("duration %v out of range (0, %v]", d, max)
	}
	return d, nil
}

// Preflight checks what a harness needs before it creates anything: root,
// iproute2's ip, and the hogs binary at hogsPath (made by `make build`).
// It returns the harness's own executable (to run its traffic roles) and
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

// ResultsHeader starts a results file: its title, then the date, kernel,
// CPU, versions and the command that made it (`make TARGET`, i.e. `go run
// PKG ARGS...` with this process's arguments) and how long it took.
func (e Env) ResultsHeader(b *strings.Builder, title, makeTarget, pkg string, took time.Duration) {
	cmd := "go run " + pkg
	if args := strings.Join(os.Args[1:], " "); args != "" {
		cmd += " " + args
	}
	fmt.Fprintf(b, "# %s\n\n", title)
	fmt.Fprintf(b, "- Date: %s\n", e.Date)
	fmt.Fprintf(b, "- Kernel: %s\n", e.Kernel)
	fmt.Fprintf(b, "- CPU: %s\n", e.CPU)
	fmt.Fprintf(b, "- Versions: %s; hogs: %s; nethogs: %s\n", e.GoVersion, e.HogsVersion, e.NethogsVersion)
	fmt.Fprintf(b, "- Command: `make %s` (as root), i.e. `%s` after `make build`; it took %v\n", makeTarget, cmd, took.Round(time.Second))
}

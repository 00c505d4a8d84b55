//go:build linux

package harness

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Env describes the machine for a results file.
type Env struct {
	Date, Kernel, CPU, GoVersion string
	HogsVersion, NethogsVersion  string
	CLK                          uint64 // clock ticks per second (/proc/PID/stat)
	CLKSource                    string
}

// DescribeEnv reads the date, kernel, CPU, clock tick and the versions of
// the hogs and nethogs binaries ("" for one not run).
func DescribeEnv(hogs, nethogs string) Env {
	e := Env{Date: time.Now().UTC().Format("2006-01-02 15:04 MST"), GoVersion: runtime.Version(), CLK: 100, CLKSource: "assumed"}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		e.Kernel = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			e.CLK, e.CLKSource = n, "getconf CLK_TCK"
		}
	}
	model, n := "unknown CPU", 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch strings.TrimSpace(k) {
			case "model name":
				model = strings.TrimSpace(v)
			case "processor":
				n++
			}
		}
	}
	e.CPU = fmt.Sprintf("%s × %d", model, n)
	version := func(bin string) string {
		if bin == "" {
			return "not run"
		}
		out, _ := exec.Command(bin, "-V").CombinedOutput()
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	e.HogsVersion, e.NethogsVersion = version(hogs), version(nethogs)
	return e
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

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"hogs/rawcap"
	"hogs/ui"
)

// Capability bits in /proc/self/status's CapEff (linux/capability.h).
const (
	capDacReadSearch = 2
	capSysPtrace     = 19
)

// silentCaptureAfter is how long a live capture may see no packet at all
// before hogs says so.
const silentCaptureAfter = 10 * time.Second

// seeing describes what hogs can see at start: where /proc is, and which
// devices it captures on. Tests give fixture roots.
type seeing struct {
	procRoot string       // normally /proc
	plan     *rawcap.Plan // the live capture's devices
	all      bool         // -a was given
	named    bool         // devices were named on the command line
	// kernelEvents: kernel socket events attribute connections, other
	// users' included, without reading their /proc/PID/fd.
	kernelEvents bool
}

// startupWarnings are the things that would leave hogs showing less than
// the user expects, each one line: no /proc, other users' processes out of
// reach, no device to monitor. trace and JSON modes print them on stderr at
// start; the table prints them before it starts and shows them in its
// footer.
func startupWarnings(s seeing) []string {
	var out []string
	status, err := os.ReadFile(filepath.Join(s.procRoot, "self", "status"))
	if err != nil {
		out = append(out, fmt.Sprintf("no proc file system at %s (%v): no traffic can be tied to a process, all of it shows as unknown; mount it: mount -t proc proc %s",
			s.procRoot, errorReason(err), s.procRoot))
	} else {
		eff := capEff(status)
		canRead := eff&(1<<capDacReadSearch) != 0 && eff&(1<<capSysPtrace) != 0
		mountinfo, _ := os.ReadFile(filepath.Join(s.procRoot, "self", "mountinfo"))
		if hide := hidepid(mountinfo, s.procRoot); hide != "" && eff&(1<<capSysPtrace) == 0 {
			out = append(out, fmt.Sprintf("%s is mounted with hidepid=%s: other users' processes are hidden, their traffic shows as unknown; run as root or grant cap_sys_ptrace", s.procRoot, hide))
		} else if !canRead && !s.kernelEvents {
			out = append(out, "without cap_dac_read_search and cap_sys_ptrace only this user's processes can be tied to their traffic, other users' shows as unknown; "+
				"reading their /proc/PID/fd needs cap_dac_read_search and cap_sys_ptrace (run as root, or: setcap cap_net_raw,cap_dac_read_search,cap_sys_ptrace+ep "+
				rawcap.ShellQuote(executable())+")")
		}
	}
	if s.plan != nil && !monitorsAny(s.plan) {
		switch {
		case s.named:
			out = append(out, "no devices to monitor: the named devices count nothing (each is below another named one); hogs waits for traffic on them")
		case s.all:
			out = append(out, "no devices to monitor: there are none; hogs picks up devices that appear")
		default:
			out = append(out, "no devices to monitor: every device is down or loopback (-a adds those, or name devices); hogs picks up devices that come up")
		}
	}
	return out
}

// executable is the path of the running binary, "hogs" if unknown.
func executable() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "hogs"
}

// errorReason is an error without the path it names: "no such file or
// directory".
func errorReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// capEff reads the CapEff mask from /proc/PID/status text; 0 if absent.
func capEff(status []byte) uint64 {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n
		}
	}
	return 0
}

// hidepid returns the hidepid= option of the proc mount at root, as the
// mountinfo text lists it ("2", "invisible", ...), or "" when processes
// are not hidden.
func hidepid(mountinfo []byte, root string) string {
	for _, line := range strings.Split(string(mountinfo), "\n") {
		// id parent major:minor root mountpoint options ... - fstype source superoptions
		fields := strings.Fields(line)
		sep := slices.Index(fields, "-")
		if sep < 6 || len(fields) <= sep+3 || fields[4] != root || fields[sep+1] != "proc" {
			continue
		}
		for _, opt := range strings.Split(fields[sep+3], ",") {
			if v, ok := strings.CutPrefix(opt, "hidepid="); ok && v != "0" && v != "off" {
				return v
			}
		}
	}
	return ""
}

// monitorsAny reports whether the plan counts packets on some device.
func monitorsAny(p *rawcap.Plan) bool {
	for _, d := range p.Devices() {
		if e, ok := p.Lookup(d.Index); ok && e.Count {
			return true
		}
	}
	return false
}

// silentCapture watches the views of a live capture and returns, once,
// a note when the capture has received no packet at all silentCaptureAfter
// after start. The table shows it in its footer; trace and JSON modes
// print it on stderr.
type silentCapture struct {
	start time.Time
	done  bool
}

func (s *silentCapture) note(v *ui.View, devices []string) string {
	if s.done {
		return ""
	}
	if s.start.IsZero() {
		s.start = v.Time
	}
	for _, c := range v.Capture {
		if c.Received > 0 {
			s.done = true
			return ""
		}
	}
	if v.Time.Sub(s.start) < silentCaptureAfter {
		return ""
	}
	s.done = true
	where := "any device"
	if len(devices) > 0 {
		where = strings.Join(devices, ", ")
	}
	return fmt.Sprintf("no packets captured in %v on %s: the devices are idle, or the filter (-f) keeps nothing", silentCaptureAfter, ui.Sanitized(where))
}

// printWarnings writes each warning as one line on stderr.
func printWarnings(stderr io.Writer, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(stderr, "hogs: warning: %s\n", visible(w))
	}
}

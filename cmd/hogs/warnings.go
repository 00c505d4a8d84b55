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
	// noKernelEvents says why kernel socket events could not be used
	// ("no kernel socket events: needs ..."; "" when they are, were
	// turned off, or are not built in).
	noKernelEvents string
	// cgroupFallback: a socket whose process is not found goes to its
	// cgroup's row (its service or container).
	cgroupFallback bool
}

// startupWarnings are the things that would leave hogs showing less than
// the user expects, each one line naming the capability that would show
// it: no /proc, no kernel socket events, other users' processes and
// processes holding capabilities hogs lacks out of reach, no device to
// monitor. (Other network namespaces out of reach are said by the
// namespace machinery, which knows which it wants.) trace and JSON modes
// print them on stderr at start; the table prints them before it starts
// and shows them in its footer.
func startupWarnings(s seeing) []string {
	var out []string
	status, err := os.ReadFile(filepath.Join(s.procRoot, "self", "status"))
	if err != nil {
		out = append(out, fmt.Sprintf("no proc file system at %s (%v): no traffic can be tied to a process, all of it shows as unknown; mount it: mount -t proc proc %s",
			s.procRoot, errorReason(err), s.procRoot))
	}
	if err == nil {
		// (Without /proc everything is unknown: no more to say.)
		if s.noKernelEvents != "" {
			gone := "so one that closes before hogs looks it up, or whose process has exited, shows as unknown"
			if s.cgroupFallback {
				gone = "so one that closes before hogs looks it up shows as unknown, and one whose process has exited under its service or container"
			}
			out = append(out, s.noKernelEvents+"; connections are tied to processes from /proc alone, "+gone)
		}
		out = append(out, capabilityWarnings(s, status)...)
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

// capabilityWarnings are the processes and namespaces hogs's capabilities
// (status: its /proc/self/status) leave out of reach. The kernel lets a
// process read another's /proc/PID/fd links only if it may ptrace-read
// it: same uids and gids and a permitted capability set within hogs's
// effective one, or cap_sys_ptrace; listing the directory (mode 0500,
// owned by the process's user) also needs cap_dac_read_search for another
// user's.
func capabilityWarnings(s seeing, status []byte) []string {
	var out []string
	eff := capEff(status)
	ptrace := eff&(1<<capSysPtrace) != 0
	canRead := eff&(1<<capDacReadSearch) != 0 && ptrace
	mountinfo, _ := os.ReadFile(filepath.Join(s.procRoot, "self", "mountinfo"))
	if hide := hidepid(mountinfo, s.procRoot); hide != "" && !ptrace {
		out = append(out, fmt.Sprintf("%s is mounted with hidepid=%s: other users' processes are hidden, their traffic shows as unknown; run as root or grant cap_sys_ptrace", s.procRoot, hide))
	} else if !canRead && !s.kernelEvents {
		out = append(out, "other users' processes cannot be tied to their traffic, it shows as unknown: "+
			"reading their /proc/PID/fd needs cap_dac_read_search and cap_sys_ptrace (run as root, or: setcap cap_net_raw,cap_dac_read_search,cap_sys_ptrace+ep "+
			rawcap.ShellQuote(executable())+")")
	}
	if ptrace || s.kernelEvents {
		return out
	}
	if n, example := capableProcesses(s.procRoot, status); n > 0 {
		out = append(out, fmt.Sprintf("%d %s of this user %s capabilities hogs lacks (%s): their traffic shows as unknown; reading their /proc/PID/fd needs cap_sys_ptrace",
			n, plural(n, "process", "processes"), plural(n, "holds", "hold"), example))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// capableProcesses counts the processes under procRoot with hogs's uids
// and gids (selfStatus: its status) whose permitted capabilities are not
// all in hogs's effective set, and names the lowest ("PID 1 sh").
func capableProcesses(procRoot string, selfStatus []byte) (n int, example string) {
	first := 0
	own := parseStatus(selfStatus)
	dir, err := os.Open(procRoot)
	if err != nil {
		return 0, ""
	}
	names, _ := dir.Readdirnames(-1) // unsorted: os.ReadDir's sort costs the small build 9 kB
	dir.Close()
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, name, "status"))
		if err != nil {
			continue
		}
		st := parseStatus(b)
		if st.pid == own.pid || st.ids != own.ids || st.capPrm&^own.capEff == 0 {
			continue
		}
		if n == 0 || pid < first {
			first, example = pid, fmt.Sprintf("PID %d %s", pid, ui.Sanitized(st.name))
		}
		n++
	}
	return n, example
}

// procStatus is what capabilityWarnings needs of a /proc/PID/status.
type procStatus struct {
	name           string
	pid            int
	ids            string // the Uid: and Gid: lines (real, effective, saved, fs)
	capPrm, capEff uint64
}

// parseStatus reads /proc/PID/status text; absent fields stay zero.
func parseStatus(b []byte) procStatus {
	var st procStatus
	for _, line := range strings.Split(string(b), "\n") {
		key, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch key {
		case "Name":
			st.name = v
		case "Pid":
			st.pid, _ = strconv.Atoi(v)
		case "Uid", "Gid":
			st.ids += key + " " + strings.Join(strings.Fields(v), " ") + ";"
		case "CapPrm":
			st.capPrm, _ = strconv.ParseUint(v, 16, 64)
		case "CapEff":
			st.capEff, _ = strconv.ParseUint(v, 16, 64)
		}
	}
	return st
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

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hogs/rawcap"
	"hogs/ui"
)

// fakeProc writes a proc root holding self/status with the CapEff mask and
// self/mountinfo with the proc mount's super options.
func fakeProc(t *testing.T, capEff, superOptions string) string {
	t.Helper()
	root := t.TempDir()
	self := filepath.Join(root, "self")
	if err := os.Mkdir(self, 0o755); err != nil {
		t.Fatal(err)
	}
	status := "Name:\thogs\nCapInh:\t0000000000000000\nCapEff:\t" + capEff + "\nCapBnd:\t000001ffffffffff\n"
	mountinfo := "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n" +
		"23 1 0:22 / " + root + " rw,nosuid,nodev,noexec shared:12 - proc proc " + superOptions + "\n"
	os.WriteFile(filepath.Join(self, "status"), []byte(status), 0o644)
	os.WriteFile(filepath.Join(self, "mountinfo"), []byte(mountinfo), 0o644)
	return root
}

// fakeProcess adds process pid to a fake proc root: its status with uid
// and the permitted capabilities capPrm.
func fakeProcess(t *testing.T, root string, pid int, name string, uid, capPrm string) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	status := fmt.Sprintf("Name:\t%s\nPid:\t%d\nUid:\t%s\t%s\t%s\t%s\nGid:\t0\t0\t0\t0\nCapPrm:\t%s\nCapEff:\t%s\n",
		name, pid, uid, uid, uid, uid, capPrm, capPrm)
	os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644)
}

// containerProc is a proc root as hogs sees it in a container with only
// cap_net_raw (CapEff 2000), as root: itself (PID 12), the container's
// init holding every capability, a root process with cap_net_raw only,
// another user's process, and, with more, a root process holding
// cap_net_admin too.
func containerProc(t *testing.T, more bool) string {
	root := fakeProc(t, "0000000000002000", "rw")
	os.WriteFile(filepath.Join(root, "self", "status"), []byte("Name:\thogs\nPid:\t12\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapPrm:\t0000000000002000\nCapEff:\t0000000000002000\n"), 0o644)
	fakeProcess(t, root, 1, "sh\x1b[2J", "0", "000001ffffffffff")
	fakeProcess(t, root, 7, "client", "0", "0000000000002000")
	fakeProcess(t, root, 9, "nobody", "65534", "0000000000000000")
	fakeProcess(t, root, 12, "hogs", "0", "0000000000002000")
	if more {
		fakeProcess(t, root, 20, "admin", "0", "0000000000003000")
	}
	return root
}

func TestStartupWarnings(t *testing.T) {
	up := []rawcap.Device{{Index: 1, Name: "lo", Up: true, Loopback: true}, {Index: 2, Name: "eth0", Up: true}}
	onlyLo := []rawcap.Device{{Index: 1, Name: "lo", Up: true, Loopback: true}, {Index: 2, Name: "eth0", Up: false}}
	plan := func(devs []rawcap.Device, all bool) *rawcap.Plan { return rawcap.Selection{All: all}.Plan(devs) }
	const root, both, ptraceOnly = "000001ffffffffff", "0000000000080004", "0000000000080000"
	for _, tt := range []struct {
		name string
		s    seeing
		want []string // one substring per warning, in order
	}{
		{"root", seeing{procRoot: fakeProc(t, root, "rw"), plan: plan(up, false)}, nil},
		{"both capabilities", seeing{procRoot: fakeProc(t, both, "rw,hidepid=0"), plan: plan(up, false)}, nil},
		{"no /proc", seeing{procRoot: filepath.Join(t.TempDir(), "proc"), plan: plan(up, false)},
			[]string{"no proc file system at " + "PROCROOT" + " (no such file or directory): no traffic can be tied to a process"}},
		{"no capabilities", seeing{procRoot: fakeProc(t, "0000000000000000", "rw"), plan: plan(up, false)},
			[]string{"other users' processes cannot be tied to their traffic, it shows as unknown: reading their /proc/PID/fd needs cap_dac_read_search and cap_sys_ptrace (run as root, or: setcap cap_net_raw,cap_dac_read_search,cap_sys_ptrace+ep "}},
		{"container, cap_net_raw only", seeing{procRoot: containerProc(t, false), plan: plan(up, false)},
			[]string{"other users' processes cannot be tied to their traffic",
				"1 process of this user holds capabilities hogs lacks (PID 1 sh\\x1b[2J): their traffic shows as unknown; reading their /proc/PID/fd needs cap_sys_ptrace"}},
		{"container, no kernel events", seeing{procRoot: containerProc(t, false), plan: plan(up, false), noKernelEvents: "no kernel socket events: needs CAP_BPF and CAP_PERFMON (or root)"},
			[]string{"no kernel socket events: needs CAP_BPF and CAP_PERFMON (or root); connections are tied to processes from /proc alone, so one that closes before hogs looks it up, or whose process has exited, shows as unknown",
				"other users' processes cannot be tied", "1 process of this user holds capabilities hogs lacks"}},
		{"no kernel events, cgroup fallback", seeing{procRoot: fakeProc(t, root, "rw"), plan: plan(up, false), noKernelEvents: "no kernel socket events: needs CAP_BPF and CAP_PERFMON (or root)", cgroupFallback: true},
			[]string{"no kernel socket events: needs CAP_BPF and CAP_PERFMON (or root); connections are tied to processes from /proc alone, so one that closes before hogs looks it up shows as unknown, and one whose process has exited under its service or container"}},
		{"container, kernel events", seeing{procRoot: containerProc(t, false), plan: plan(up, false), kernelEvents: true}, nil},
		{"container, two capable processes", seeing{procRoot: containerProc(t, true), plan: plan(up, false)},
			[]string{"other users' processes cannot be tied", "2 processes of this user hold capabilities hogs lacks (PID 1 sh\\x1b[2J)"}},
		{"no capabilities, kernel events", seeing{procRoot: fakeProc(t, "0000000000000000", "rw"), plan: plan(up, false), kernelEvents: true}, nil},
		{"ptrace only", seeing{procRoot: fakeProc(t, ptraceOnly, "rw"), plan: plan(up, false)},
			[]string{"needs cap_dac_read_search and cap_sys_ptrace"}},
		{"hidepid", seeing{procRoot: fakeProc(t, "0000000000000000", "rw,hidepid=invisible"), plan: plan(up, false)},
			[]string{"is mounted with hidepid=invisible: other users' processes are hidden"}},
		{"hidepid, ptrace", seeing{procRoot: fakeProc(t, both, "rw,hidepid=2"), plan: plan(up, false)}, nil},
		{"only loopback up", seeing{procRoot: fakeProc(t, root, "rw"), plan: plan(onlyLo, false)},
			[]string{"no devices to monitor: every device is down or loopback (-a adds those, or name devices)"}},
		{"-a", seeing{procRoot: fakeProc(t, root, "rw"), plan: plan(onlyLo, true), all: true}, nil},
		{"-a, no devices", seeing{procRoot: fakeProc(t, root, "rw"), plan: plan(nil, true), all: true},
			[]string{"no devices to monitor: there are none"}},
		{"no /proc, no devices", seeing{procRoot: "/nonexistent/proc", plan: plan(onlyLo, false)},
			[]string{"no proc file system at /nonexistent/proc", "no devices to monitor"}},
	} {
		got := startupWarnings(tt.s)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d warnings %q, want %d", tt.name, len(got), got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			w = strings.ReplaceAll(w, "PROCROOT", tt.s.procRoot)
			if !strings.Contains(got[i], w) || strings.Contains(got[i], "\n") {
				t.Errorf("%s: warning %q, want one line with %q", tt.name, got[i], w)
			}
		}
	}
}

func TestSilentCapture(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	view := func(after time.Duration, received uint64) *ui.View {
		return &ui.View{Time: t0.Add(after), Capture: []ui.CaptureStats{{Source: "live", Received: received}}}
	}
	var s silentCapture
	for _, at := range []time.Duration{0, 5 * time.Second, 9 * time.Second} {
		if n := s.note(view(at, 0), []string{"eth0"}); n != "" {
			t.Errorf("at %v: %q, want nothing yet", at, n)
		}
	}
	want := "no packets captured in 10s on eth0: the devices are idle, or the filter (-f) keeps nothing"
	if n := s.note(view(10*time.Second, 0), []string{"eth0"}); n != want {
		t.Errorf("at 10s: %q, want %q", n, want)
	}
	if n := s.note(view(20*time.Second, 0), nil); n != "" {
		t.Errorf("said twice: %q", n)
	}
	var seen silentCapture
	seen.note(view(0, 0), nil)
	if n := seen.note(view(3*time.Second, 1), nil); n != "" {
		t.Errorf("packets seen: %q", n)
	}
	if n := seen.note(view(30*time.Second, 1), nil); n != "" {
		t.Errorf("packets seen, later: %q", n)
	}
}

// FuzzProcStatusFiles: the readers of /proc/self/status and mountinfo
// take any bytes without panicking, and a hidepid they report is one the
// text holds.
func FuzzProcStatusFiles(f *testing.F) {
	f.Add([]byte("CapEff:\t000001ffffffffff\n"), []byte("23 1 0:22 / /proc rw shared:12 - proc proc rw,hidepid=2\n"))
	f.Add([]byte("CapEff:\tzz\nCapEff:"), []byte("- proc\n1 2 3 4 /proc 6 - proc"))
	f.Add([]byte(""), []byte("23 1 0:22 / /proc rw - proc proc hidepid=off,hidepid=invisible"))
	f.Add([]byte("Name:\tsh\nPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0 0 0 0\nCapPrm:\t000001ffffffffff\nCapEff: 2000 \n"), []byte(""))
	f.Fuzz(func(t *testing.T, status, mountinfo []byte) {
		// The two readers of CapEff agree when the text has one such line.
		lines := 0
		for _, l := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(l, "CapEff:") {
				lines++
			}
		}
		if st := parseStatus(status); lines == 1 && st.capEff != capEff(status) {
			t.Fatalf("parseStatus CapEff %x, capEff %x", st.capEff, capEff(status))
		}
		if h := hidepid(mountinfo, "/proc"); h != "" && !strings.Contains(string(mountinfo), "hidepid="+h) {
			t.Fatalf("hidepid %q not in %q", h, mountinfo)
		}
	})
}

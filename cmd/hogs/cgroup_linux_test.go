package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hogs/internal/netlab"
)

// TestCgroupFallbackLive: a client in a cgroup named like a systemd
// service, whose /proc/PID/fd hogs may not read (hogs runs as nobody with
// only cap_net_raw and cap_net_admin, the client as root): its
// connection's bytes land on the service's row (NAME/0/0), none in
// unknown, and the client has no row of its own.
func TestCgroupFallbackLive(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	for _, tool := range []string{"setcap", "setpriv", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (libcap2-bin, util-linux) to run hogs with file capabilities as another user in a namespace", tool)
		}
	}
	cg := netlab.Service(t, "fallback")

	// A copy of hogs that nobody may run with the two capabilities.
	dir, err := os.MkdirTemp("", "hogs-cgroup-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "hogs")
	data, err := os.ReadFile(hogsBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if out, err := exec.Command("setcap", "cap_net_raw,cap_net_admin+ep", bin).CombinedOutput(); err != nil {
		t.Fatalf("setcap: %v: %s", err, out)
	}

	nsA, nsB := netlab.QuietVethPair(t)
	server := startRole(t, nsB, "sink-server", "10.77.0.2:7960")
	if l := server.line(t); l != "listening" {
		t.Fatal(l)
	}
	// nsenter, not ip netns exec: that mounts a sysfs of its own over
	// /sys, hiding the cgroup mount from nobody.
	h := startHogsCmd(t, exec.Command("nsenter", "--net=/run/netns/"+nsA, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		bin, "-t", "-v", "2", "-d", "0.5", "--no-kernel-events", "vA"))
	before := netlab.ReadCounters(t, nsB, "vB")

	// The client starts in the cgroup, so its socket is created there.
	self := mustExecutable(t)
	client := exec.Command("ip", "netns", "exec", nsA, self)
	cg.Enter(client)
	client.Env = append(os.Environ(), "HOGS_TEST_ROLE=steady-client", "HOGS_TEST_ARGS=10.77.0.2:7960 2")
	out, err := client.CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v: %s", err, out)
	}
	var pid int
	fmt.Sscanf(string(out), "pid %d", &pid)
	last := h.last(t)
	peer := counterDelta(before, netlab.ReadCounters(t, nsB, "vB"))
	checkAllAttributed(t, last, peer)
	if v, ok := last[cg.Unit+"/0/0"]; !ok || v[0] < 20*64<<10 {
		t.Errorf("no %s/0/0 row with the client's 1.3 MB: %v (%v)\n%s%s", cg.Unit, v, ok, h.out.String(), h.err.String())
	}
	if v, ok := last.byPID(pid); ok && pid != 0 {
		t.Errorf("client %d has a row of its own (%v): hogs should not see its fds", pid, v)
	}
	if strings.Contains(h.err.String(), "panic") {
		t.Errorf("hogs stderr: %s", h.err.String())
	}
}

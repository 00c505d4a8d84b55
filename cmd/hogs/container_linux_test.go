//go:build !hogs_small

package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hogs/internal/container"
	"hogs/internal/netlab"
)

// testCgroup creates the cgroup rel (and the parents it needs) under the
// cgroup2 mount; t.Cleanup kills what is left in it (cgroup.kill) and
// removes what the test created, innermost first.
func testCgroup(t *testing.T, mount, rel string) string {
	t.Helper()
	var created []string
	dir := mount
	for _, part := range strings.Split(rel, "/") {
		dir = filepath.Join(dir, part)
		if _, err := os.Stat(dir); err == nil {
			continue
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skipf("cannot create a cgroup under %s: %v", mount, err)
		}
		created = append(created, dir)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
		for i := len(created) - 1; i >= 0; i-- {
			removed := false
			for range 50 {
				if os.Remove(created[i]) == nil {
					removed = true
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !removed {
				t.Errorf("cgroup %s left behind", created[i])
			}
		}
	})
	return dir
}

// startInCgroup starts a test role in namespace ns from inside cgroup
// dir (the shell joins it before it execs, so the role's sockets are
// created there), through prefix (e.g. unshare): t.Cleanup kills it.
func startInCgroup(t *testing.T, dir, ns string, prefix []string, role string, args ...string) *process {
	t.Helper()
	script := `echo $$ > "$1/cgroup.procs" && shift && exec "$@"`
	argv := append([]string{"-c", script, "sh", dir}, prefix...)
	argv = append(argv, "ip", "netns", "exec", ns, mustExecutable(t))
	cmd := exec.Command("sh", argv...)
	cmd.Env = append(os.Environ(), "HOGS_TEST_ROLE="+role, "HOGS_TEST_ARGS="+strings.Join(args, " "))
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &process{cmd: cmd, out: bufio.NewReader(stdout)}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestContainerLabelsLive: a client in a cgroup shaped like a Docker
// container's (system.slice/docker-ID.scope, with a config.v2.json under
// --docker-root naming it) and one in a Kubernetes pod's
// (kubepods.slice/kubepods-podUID.slice/cri-containerd-ID.scope, in a
// PID namespace of its own) send to servers in another namespace: hogs
// --json labels their rows with the container's id, name, runtime and
// pod UID, and gives the pod's client its PID inside its namespace (1);
// the table under tmux shows the CONTAINER column, and groups by
// container when c is pressed.
func TestContainerLabelsLive(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux) for the pod's PID namespace")
	}
	mount, err := container.FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("needs a cgroup v2 mount to create container-shaped cgroups: %v", err)
	}
	dockerID, podID := randomHex(t, 32), randomHex(t, 32)
	u := randomHex(t, 16)
	podUID := u[:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:]
	webName := fmt.Sprintf("hogs-web-%d", os.Getpid())
	dockerRoot := t.TempDir()
	cfgDir := filepath.Join(dockerRoot, "containers", dockerID)
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "config.v2.json"), []byte(`{"ID":"`+dockerID+`","Name":"/`+webName+`","State":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dockerCg := testCgroup(t, mount, "system.slice/docker-"+dockerID+".scope")
	podCg := testCgroup(t, mount, "kubepods.slice/kubepods-pod"+strings.ReplaceAll(podUID, "-", "_")+".slice/cri-containerd-"+podID+".scope")

	nsA, nsB := netlab.QuietVethPair(t)
	for _, port := range []string{"8301", "8302"} {
		if l := startRole(t, nsB, "tcp-server-any", "10.77.0.2:"+port).line(t); l != "listening" {
			t.Fatal(l)
		}
	}
	web := startInCgroup(t, dockerCg, nsA, nil, "steady-client", "10.77.0.2:8301", "25")
	pod := startInCgroup(t, podCg, nsA, []string{"unshare", "--pid", "--kill-child"}, "steady-client", "10.77.0.2:8302", "25")
	var webPID, podNSPID int
	fmt.Sscanf(web.line(t), "pid %d", &webPID)
	fmt.Sscanf(pod.line(t), "pid %d", &podNSPID)
	if podNSPID != 1 {
		t.Fatalf("the pod's client is pid %d in its namespace, want 1", podNSPID)
	}

	// JSON: both rows labelled, in the README's schema.
	types, optional, withConns := readmeSchema(t)
	absent := map[string]bool{}
	for p := range optional {
		absent[p] = true
	}
	for p := range withConns {
		absent[p] = true
	}
	out, err := inNamespace(nsA, hogsBinary(t), "--json", "-d", "0.5", "-c", "6", "--docker-root", dockerRoot, "vA").Output()
	if err != nil {
		t.Fatalf("hogs --json: %v", err)
	}
	type jsonContainer struct {
		ID, Name, Runtime, Pod, Namespace string
		PodUID                            string `json:"pod_uid"`
	}
	var line struct {
		Processes []struct {
			PID       int
			NSPID     int `json:"ns_pid"`
			Container *jsonContainer
			Sent      struct{ Total struct{ Bytes uint64 } }
		}
	}
	var gotWeb, gotPod bool
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines {
		validateJSONLine(t, []byte(l), types, absent)
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
		t.Fatal(err)
	}
	for _, p := range line.Processes {
		switch {
		case p.PID == webPID:
			gotWeb = true
			if c := p.Container; c == nil || c.ID != dockerID || c.Name != webName || c.Runtime != "docker" || c.PodUID != "" || p.NSPID != 0 {
				t.Errorf("the Docker client's row: %+v (container %+v), want id %s name %s runtime docker, no ns_pid", p, c, dockerID, webName)
			}
		case p.Container != nil && p.Container.ID == podID:
			gotPod = true
			if c := p.Container; c.Runtime != "containerd" || c.PodUID != podUID || c.Name != podID[:12] || p.NSPID != 1 || p.Sent.Total.Bytes == 0 {
				t.Errorf("the pod's client's row: %+v (container %+v), want runtime containerd, pod_uid %s, name %s, ns_pid 1, bytes sent", p, c, podUID, podID[:12])
			}
		}
	}
	if !gotWeb || !gotPod {
		t.Fatalf("rows: Docker client %v, pod's client %v in the last line:\n%s", gotWeb, gotPod, lines[len(lines)-1])
	}

	// The table: CONTAINER column, then grouped by container.
	tm := newTmux(t)
	tm.run("send-keys", "-t", "main", "ip netns exec "+nsA+" "+hogsBinary(t)+" -d 0.5 --docker-root "+dockerRoot+" vA", "Enter")
	tm.waitFor("the CONTAINER column with both containers", func(s string) bool {
		return strings.Contains(s, " CONTAINER ") && strings.Contains(s, webName) && strings.Contains(s, podID[:12])
	})
	for range 3 {
		tm.run("send-keys", "-t", "main", "c")
	}
	screen := tm.waitFor("the rows grouped by container", func(s string) bool {
		return strings.Contains(s, "PROCS CONTAINER") && strings.Contains(s, "group: container") &&
			strings.Contains(s, webName) && strings.Contains(s, "pod "+podUID)
	})
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, webName) && !strings.HasPrefix(strings.TrimSpace(l), "1 ") {
			t.Errorf("the Docker container's group is not one process: %q", l)
		}
	}
	tm.run("send-keys", "-t", "main", "q")
	tm.waitFor("the shell prompt", func(s string) bool { return strings.Contains(s, "PROMPT$") && !strings.Contains(s, "TOTAL") })
}

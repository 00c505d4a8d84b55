package container

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	dockerID = "3f1c2a9b7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b"
	criID    = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1"
	otherID  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	podmanID = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	podUID1  = "5e7a1f2c-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
)

func fixtureLabeler(now func() time.Time) *Labeler {
	return NewLabeler(Config{ProcRoot: "testdata/proc", DockerRoot: "testdata/docker", PodLogRoot: "testdata/pods", Now: now})
}

func TestParseCgroupLine(t *testing.T) {
	tests := []struct {
		in   string
		want CgroupLine
		ok   bool
	}{
		{"0::/", CgroupLine{0, "", "/"}, true},
		{"0::/system.slice/a:b.service", CgroupLine{0, "", "/system.slice/a:b.service"}, true},
		{"12:pids:/docker/x", CgroupLine{12, "pids", "/docker/x"}, true},
		{"1:name=systemd:/user.slice", CgroupLine{1, "name=systemd", "/user.slice"}, true},
		{"4:cpu,cpuacct:/", CgroupLine{4, "cpu,cpuacct", "/"}, true},
		{"", CgroupLine{}, false},
		{":cpu:/", CgroupLine{}, false},        // no hierarchy
		{"x:cpu:/", CgroupLine{}, false},       // not a number
		{"0:/", CgroupLine{}, false},           // one colon
		{"0::", CgroupLine{}, false},           // no path
		{"0::relative", CgroupLine{}, false},   // not absolute
		{"1234567890::/", CgroupLine{}, false}, // absurd hierarchy
	}
	for _, tc := range tests {
		got, ok := ParseCgroupLine([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseCgroupLine(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && got.V2() != (tc.in[:2] == "0:") {
			t.Errorf("ParseCgroupLine(%q).V2() = %v", tc.in, got.V2())
		}
	}
}

func TestPathLabel(t *testing.T) {
	podSystemd := strings.ReplaceAll(podUID1, "-", "_")
	tests := []struct {
		path string
		want Label
	}{
		{"/system.slice/docker-" + dockerID + ".scope", Label{Runtime: Docker, ID: dockerID}},
		{"/docker/" + dockerID, Label{Runtime: Docker, ID: dockerID}},
		{"/docker/" + dockerID + "/docker/" + otherID, Label{Runtime: Docker, ID: otherID}}, // nested: innermost
		{"/system.slice/cri-containerd-" + criID + ".scope", Label{Runtime: Containerd, ID: criID}},
		{"/machine.slice/crio-" + otherID + ".scope", Label{Runtime: CRIO, ID: otherID}},
		{"/kubepods/crio-" + otherID, Label{Runtime: CRIO, ID: otherID}}, // cgroupfs driver: no .scope
		{"/machine.slice/libpod-" + podmanID + ".scope", Label{Runtime: Podman, ID: podmanID}},
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + podmanID + ".scope", Label{Runtime: Podman, ID: podmanID}},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + podSystemd + ".slice/cri-containerd-" + criID + ".scope",
			Label{Runtime: Containerd, ID: criID, PodUID: podUID1}},
		{"/kubepods.slice/kubepods-pod" + podSystemd + ".slice/docker-" + dockerID + ".scope",
			Label{Runtime: Docker, ID: dockerID, PodUID: podUID1}},
		{"/kubepods/besteffort/pod" + podUID1 + "/" + criID, Label{Runtime: CRI, ID: criID, PodUID: podUID1}},
		{"/kubepods.slice/kubepods-pod" + podSystemd + ".slice", Label{Runtime: CRI, PodUID: podUID1}},
		{"/system.slice/nginx.service", Label{Runtime: Systemd, ID: "nginx.service", Name: "nginx.service"}},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", Label{Runtime: Systemd, ID: "foo.service", Name: "foo.service"}},
		// Not containers.
		{"/", Label{}},
		{"", Label{}},
		{"/user.slice/user-1000.slice/session-3.scope", Label{}},
		{"/system.slice/crio-conmon-" + otherID + ".scope", Label{}},              // CRI-O's monitor, not the container
		{"/system.slice/docker-" + dockerID[:63] + ".scope", Label{}},             // short ID
		{"/system.slice/docker-" + strings.ToUpper(dockerID) + ".scope", Label{}}, // not lowercase hex
		{"/docker/notanid", Label{}},
		{"/pod" + podUID1 + "/" + criID, Label{}},                           // pod without kubepods
		{"/kubepods/burstable/pod" + podUID1[:35] + "/" + criID, Label{}},   // short UID
		{"/kubepods/burstable/pod" + podUID1[:35] + "x/" + criID, Label{}},  // bad UID
		{"/kubepods/burstable/kubepods-xpod" + podUID1 + ".slice", Label{}}, // "pod" not after "-"
	}
	for _, tc := range tests {
		if got := PathLabel(tc.path); got != tc.want {
			t.Errorf("PathLabel(%q) =\n  %+v, want\n  %+v", tc.path, got, tc.want)
		}
	}
}

// TestOwnerName: what a cgroup's row is called, and which cgroups are no
// better than unknown.
func TestOwnerName(t *testing.T) {
	tests := []struct {
		label Label
		want  string
	}{
		{Label{Runtime: Systemd, ID: "ssh.service", Name: "ssh.service"}, "ssh.service"},
		{Label{Runtime: Docker, ID: dockerID, Name: "web"}, "container web (docker " + dockerID[:12] + ")"},
		{Label{Runtime: Docker, ID: dockerID, Name: dockerID[:12]}, "container " + dockerID[:12] + " (docker)"},
		{Label{Runtime: Containerd, ID: criID}, "container " + criID[:12] + " (containerd)"},
		{Label{Runtime: CRI, PodUID: podUID1, Namespace: "default", Pod: "api"}, "pod default/api"},
		{Label{Runtime: CRI, PodUID: podUID1}, "pod " + podUID1},
		// No better than unknown.
		{Label{}, ""},
		{Label{Runtime: Systemd, ID: "user@1000.service", Name: "user@1000.service"}, ""},
	}
	for _, tc := range tests {
		if got := tc.label.OwnerName(); got != tc.want {
			t.Errorf("%+v.OwnerName() = %q, want %q", tc.label, got, tc.want)
		}
	}
}

// TestFallbackName: every cgroup but the root names the owner of its
// sockets whose process is not found; services, containers and pods as
// OwnerName has them, any other cgroup by its own name.
func TestFallbackName(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"/", ""},
		{"", ""},
		{"/system.slice/ssh.service", "ssh.service"},
		{"/system.slice/ssh.service/sub", "ssh.service"},
		{"/system.slice/docker-" + dockerID + ".scope", "container " + dockerID[:12] + " (docker)"},
		{"/docker/" + dockerID, "container " + dockerID[:12] + " (docker)"},
		{"/user.slice/user-1000.slice/session-3.scope", "session-3.scope"},
		{"/system.slice/run-r0123456789abcdef0123456789abcdef.scope", "run-r0123456789abcdef0123456789abcdef.scope"},
		{"/user.slice/user-1000.slice/user@1000.service", "user@1000.service"},
		{"/user.slice/user-1000.slice/user@1000.service/init.scope", "user@1000.service"},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-42.scope", "app-firefox-42.scope"},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service", "dbus.service"},
		{"/user.slice/user-1000.slice", "user-1000.slice"},
		{"/init.scope", "init.scope"},
		{"/lxc/web", "web"},
		{"/machine.slice/machine-qemu\\x2d1\\x2dvm.scope", "machine-qemu\\x2d1\\x2dvm.scope"},
		{"/a/b/", "b"},
	}
	for _, tc := range tests {
		if got := FallbackName(tc.path, PathLabel(tc.path)); got != tc.want {
			t.Errorf("FallbackName(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestLabelerProcess(t *testing.T) {
	tests := []struct {
		pid  int
		want Label
	}{
		{101, Label{Runtime: Docker, ID: dockerID, Name: "web"}},
		{102, Label{Runtime: Docker, ID: dockerID, Name: "web"}}, // v1 lines, v2 at the root
		{103, Label{Runtime: Containerd, ID: criID, Name: "a0b1c2d3e4f5", PodUID: podUID1, Pod: "cart-7d9f", Namespace: "shop"}},
		{104, Label{Runtime: CRI, ID: criID, Name: "a0b1c2d3e4f5", PodUID: podUID1, Pod: "cart-7d9f", Namespace: "shop"}},
		{105, Label{Runtime: CRIO, ID: otherID, Name: "0123456789ab"}},
		{106, Label{Runtime: Podman, ID: podmanID, Name: "fedcba987654"}},
		{107, Label{Runtime: Systemd, ID: "nginx.service", Name: "nginx.service"}},
		{108, Label{}},
		{109, Label{}}, // v1 paths naming no container
		{110, Label{Runtime: CRI, PodUID: podUID1, Pod: "cart-7d9f", Namespace: "shop", Name: "cart-7d9f"}},
		{111, Label{Runtime: Docker, ID: otherID, Name: "0123456789ab"}}, // truncated config.v2.json
		{112, Label{}},
		{113, Label{Runtime: Docker, ID: dockerID, Name: "web"}}, // a container in v1 beats a service in v2
	}
	l := fixtureLabeler(nil)
	for _, tc := range tests {
		got, err := l.Process(tc.pid)
		if err != nil {
			t.Errorf("Process(%d): %v", tc.pid, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Process(%d) =\n  %+v, want\n  %+v", tc.pid, got, tc.want)
		}
	}
	for _, pid := range []int{999, 0, -1} {
		if _, err := l.Process(pid); !errors.Is(err, ErrNoProcess) {
			t.Errorf("Process(%d): err %v, want ErrNoProcess", pid, err)
		}
	}
}

// A pod whose log directory appears later is named once a second has
// passed since the last listing, not before.
func TestLabelerPodAppears(t *testing.T) {
	pods := t.TempDir()
	now := time.Unix(1000, 0)
	l := NewLabeler(Config{ProcRoot: "testdata/proc", PodLogRoot: pods, Now: func() time.Time { return now }})
	path := "/kubepods/besteffort/pod" + podUID1 + "/" + criID
	if got := l.Path(path); got.Pod != "" || got.Name != "a0b1c2d3e4f5" {
		t.Fatalf("before the directory exists: %+v", got)
	}
	if err := os.Mkdir(filepath.Join(pods, "ns1_p1_"+podUID1), 0o755); err != nil {
		t.Fatal(err)
	}
	now = now.Add(retryMissing / 2)
	if got := l.Path(path); got.Pod != "" {
		t.Errorf("listed again within %v: %+v", retryMissing, got)
	}
	now = now.Add(retryMissing)
	if got := l.Path(path); got.Pod != "p1" || got.Namespace != "ns1" {
		t.Errorf("after %v: %+v, want pod p1 in ns1", retryMissing, got)
	}
}

// A Docker container whose config appears later gets its name after the
// retry interval.
func TestLabelerDockerNameAppears(t *testing.T) {
	root := t.TempDir()
	now := time.Unix(1000, 0)
	l := NewLabeler(Config{DockerRoot: root, Now: func() time.Time { return now }})
	path := "/docker/" + dockerID
	if got := l.Path(path).Name; got != "3f1c2a9b7e6d" {
		t.Fatalf("no config yet: name %q, want the short ID", got)
	}
	dir := filepath.Join(root, "containers", dockerID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.v2.json"), []byte(`{"Name":"/db"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := l.Path(path).Name; got != "3f1c2a9b7e6d" {
		t.Errorf("read again within %v: name %q", retryMissing, got)
	}
	now = now.Add(retryMissing)
	if got := l.Path(path).Name; got != "db" {
		t.Errorf("after %v: name %q, want db", retryMissing, got)
	}
}

func TestDockerName(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`{"Name":"/web"}`, "web", true},
		{`{"ID":"x","Config":{"Name":"inner"},"Name":"/api-1"}`, "api-1", true},
		{`{"name":"/lower"}`, "lower", true}, // encoding/json matches keys without case
		{`{"Name":""}`, "", false},
		{`{"Name":"/"}`, "", false},
		{`{"Name":42}`, "", false},
		{`{"Name":"/` + strings.Repeat("x", maxNameLen+1) + `"}`, "", false},
		{`{"Name":`, "", false},
		{``, "", false},
		{`[]`, "", false},
	}
	for _, tc := range tests {
		got, err := DockerName(strings.NewReader(tc.in))
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("DockerName(%.40q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParsePodLogDir(t *testing.T) {
	tests := []struct {
		in           string
		ns, pod, uid string
		ok           bool
	}{
		{"shop_cart-7d9f_" + podUID1, "shop", "cart-7d9f", podUID1, true},
		{"kube-system_coredns-5d78c9869d-abcde_" + podUID1, "kube-system", "coredns-5d78c9869d-abcde", podUID1, true},
		{"shop_cart_" + podUID1[:35], "", "", "", false},
		{"shop_" + podUID1, "", "", "", false},
		{"_cart_" + podUID1, "", "", "", false},
		{"shop__" + podUID1, "", "", "", false},
		{"shop_cart_" + strings.ReplaceAll(podUID1, "-", "_"), "", "", "", false},
		{"", "", "", "", false},
	}
	for _, tc := range tests {
		ns, pod, uid, ok := ParsePodLogDir(tc.in)
		if ns != tc.ns || pod != tc.pod || uid != tc.uid || ok != tc.ok {
			t.Errorf("ParsePodLogDir(%q) = %q %q %q %v", tc.in, ns, pod, uid, ok)
		}
	}
}

func TestCgroup2Mount(t *testing.T) {
	tests := []struct {
		file string
		want string
		ok   bool
	}{
		{"mountinfo-v1v2", "/sys/fs/cgroup/unified", true},
		{"mountinfo-v2", "/sys/fs/cgroup", true},
		{"mountinfo-escaped", "/mnt/my cgroups", true},
		{"mountinfo-v1", "", false},
	}
	for _, tc := range tests {
		got, err := FindCgroup2(filepath.Join("testdata", tc.file))
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("FindCgroup2(%s) = %q, %v; want %q", tc.file, got, err, tc.want)
		}
		if !tc.ok && !errors.Is(err, ErrNoCgroup2) {
			t.Errorf("FindCgroup2(%s): err %v, want ErrNoCgroup2", tc.file, err)
		}
	}
	if _, err := FindCgroup2("testdata/none"); err == nil || errors.Is(err, ErrNoCgroup2) {
		t.Errorf("missing mountinfo: err %v, want a read error", err)
	}
	for _, bad := range []string{`1 2 3 4 /a\04 - cgroup2`, `1 2 3 4 /a\8xx - cgroup2`, `1 2 3 4 /a\777 - cgroup2`, `1 2 3 4 rel - cgroup2`, `1 2 3 - cgroup2`} {
		if mp, ok := Cgroup2Mount([]byte(bad)); ok {
			t.Errorf("Cgroup2Mount(%q) = %q, want none", bad, mp)
		}
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// CgroupIDs over a directory tree standing in for a cgroup2 mount: ids are
// directory inodes; a miss walks again at most once a second; removed
// directories are forgotten; the walk is bounded.
func TestCgroupIDs(t *testing.T) {
	mount := t.TempDir()
	scope := "/system.slice/docker-" + dockerID + ".scope"
	for _, d := range []string{scope, "/system.slice/nginx.service"} {
		if err := os.MkdirAll(mount+d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(mount+"/cgroup.procs", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	ids := NewCgroupIDs(mount, func() time.Time { return now })
	tests := []struct{ dir, want string }{
		{"", "/"},
		{"/system.slice", "/system.slice"},
		{scope, scope},
		{"/system.slice/nginx.service", "/system.slice/nginx.service"},
	}
	for _, tc := range tests {
		if got, ok := ids.Path(inode(t, mount+tc.dir)); got != tc.want || !ok {
			t.Errorf("Path(inode of %q) = %q, %v; want %q", tc.dir, got, ok, tc.want)
		}
	}
	l := fixtureLabeler(nil)
	if lb, ok := l.CgroupID(ids, inode(t, mount+scope)); !ok || lb.Name != "web" || lb.Runtime != Docker {
		t.Errorf("CgroupID(the scope's id) = %+v, %v; want Docker's container web", lb, ok)
	}
	if lb, ok := l.CgroupID(ids, inode(t, mount+"/system.slice/nginx.service")); !ok || lb.ID != "nginx.service" {
		t.Errorf("CgroupID(the service's id) = %+v, %v", lb, ok)
	}
	if _, ok := ids.Path(inode(t, mount+"/cgroup.procs")); ok {
		t.Error("a file's inode mapped to a cgroup")
	}

	late := mount + "/system.slice/late.service"
	if err := os.Mkdir(late, 0o755); err != nil {
		t.Fatal(err)
	}
	lateID := inode(t, late)
	if _, ok := ids.Path(lateID); ok {
		t.Error("walked again within a second of the last walk")
	}
	now = now.Add(walkEvery)
	if got, ok := ids.Path(lateID); !ok || got != "/system.slice/late.service" {
		t.Errorf("after a second: %q, %v", got, ok)
	}
	if err := os.Remove(late); err != nil {
		t.Fatal(err)
	}
	if err := ids.Walk(); err != nil {
		t.Fatal(err)
	}
	if got, ok := ids.Path(lateID); ok {
		t.Errorf("removed cgroup still mapped to %q", got)
	}

	ids.max = 2
	if err := ids.Walk(); err == nil {
		t.Error("Walk over more than max cgroups: no error")
	}
	if n := len(ids.paths); n != 2 {
		t.Errorf("%d cgroups mapped, want the bound 2", n)
	}
	if err := NewCgroupIDs(mount+"/missing", nil).Walk(); err == nil {
		t.Error("Walk of a missing mount: no error")
	}
}

// Path and Process from many goroutines (run under -race).
func TestConcurrent(t *testing.T) {
	l := fixtureLabeler(nil)
	ids := NewCgroupIDs(t.TempDir(), nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := l.Process(101 + (g+i)%13); err != nil {
					t.Error(err)
					return
				}
				ids.Path(uint64(i))
			}
		})
	}
	wg.Wait()
}

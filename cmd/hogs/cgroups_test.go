//go:build !hogs_small

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"hogs/internal/container"
	"hogs/internal/flow"
)

// TestProcessLabels: the labeller wired into the owner registry reads a
// process's cgroup under the proc root and Docker's name under the
// Docker root; a user's systemd manager and an exited process get no
// label.
func TestProcessLabels(t *testing.T) {
	procRoot, dockerRoot := t.TempDir(), t.TempDir()
	id := strings.Repeat("5e", 32)
	cgroups := map[int]string{
		10: "0::/system.slice/docker-" + id + ".scope\n",
		11: "0::/system.slice/nginx.service\n",
		12: "0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.scope\n",
		13: "0::/kubepods.slice/kubepods-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/crio-" + id + ".scope\n",
	}
	for pid, text := range cgroups {
		dir := filepath.Join(procRoot, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dockerRoot, "containers", id), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dockerRoot, "containers", id, "config.v2.json"), []byte(`{"Name":"/web"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	label := processLabels(container.NewLabeler(container.Config{ProcRoot: procRoot, DockerRoot: dockerRoot, PodLogRoot: t.TempDir()}))
	for pid, want := range map[int]flow.Label{
		10: {Runtime: "docker", ID: id, Name: "web"},
		11: {Runtime: flow.LabelSystemd, ID: "nginx.service", Name: "nginx.service"},
		12: {},
		13: {Runtime: "cri-o", ID: id, Name: id[:12], PodUID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
		99: {}, // exited
	} {
		if got := label(pid); got != want {
			t.Errorf("pid %d labelled %+v, want %+v", pid, got, want)
		}
	}
}

// TestCgroupOwner: the owner of a socket whose process is not found, from
// its cgroup id, on a fixture cgroup tree (directories whose inodes are
// the ids): every cgroup but the root names a row, marked as a cgroup's
// by its path; services and containers keep their labels, a user's
// manager and scopes have none.
func TestCgroupOwner(t *testing.T) {
	mount, dockerRoot := t.TempDir(), t.TempDir()
	id := strings.Repeat("5e", 32)
	if err := os.MkdirAll(filepath.Join(dockerRoot, "containers", id), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dockerRoot, "containers", id, "config.v2.json"), []byte(`{"Name":"/web"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path  string
		name  string // "": no row (unknown)
		label flow.Label
	}{
		{path: "/", name: ""},
		{path: "/system.slice/nginx.service", name: "nginx.service", label: flow.Label{Runtime: flow.LabelSystemd, ID: "nginx.service", Name: "nginx.service"}},
		{path: "/system.slice/docker-" + id + ".scope", name: "container web (docker " + id[:12] + ")", label: flow.Label{Runtime: "docker", ID: id, Name: "web"}},
		{path: "/user.slice/user-1000.slice/session-3.scope", name: "session-3.scope"},
		{path: "/system.slice/run-r5e5e5e5e5e5e.scope", name: "run-r5e5e5e5e5e5e.scope"},
		{path: "/user.slice/user-1000.slice/user@1000.service", name: "user@1000.service"},
		{path: "/user.slice/user-1000.slice/user@1000.service/init.scope", name: "user@1000.service"},
		{path: "/user.slice/user-1000.slice/user@1000.service/app.slice/app-term-7.scope", name: "app-term-7.scope"},
		{path: "/hogs-test-1.slice/hogs-ms-1.service", name: "hogs-ms-1.service", label: flow.Label{Runtime: flow.LabelSystemd, ID: "hogs-ms-1.service", Name: "hogs-ms-1.service"}},
		{path: "/batch/job7", name: "job7"},
	}
	for _, tc := range tests {
		if err := os.MkdirAll(filepath.Join(mount, tc.path), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	owner := cgroupOwner(container.NewCgroupIDs(mount, nil), container.NewLabeler(container.Config{ProcRoot: t.TempDir(), DockerRoot: dockerRoot, PodLogRoot: t.TempDir()}))
	for _, tc := range tests {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(mount, tc.path), &st); err != nil {
			t.Fatal(err)
		}
		p, ok := owner(st.Ino)
		if ok != (tc.name != "") || p.Name != tc.name || p.Label != tc.label {
			t.Errorf("cgroup %s: owner %q %+v (%v), want %q %+v", tc.path, p.Name, p.Label, ok, tc.name, tc.label)
		}
		if ok && (!p.IsCgroup() || p.Cgroup != tc.path || p.CgroupID != st.Ino || p.PID != 0) {
			t.Errorf("cgroup %s: %+v is not its cgroup's row", tc.path, p)
		}
	}
	if p, ok := owner(1 << 62); ok {
		t.Errorf("an id no cgroup has: owner %+v", p)
	}
}

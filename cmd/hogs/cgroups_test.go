//go:build !hogs_small

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

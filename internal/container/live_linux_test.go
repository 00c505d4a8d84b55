package container

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A sleeping child moved into a cgroup shaped like a Docker container's is
// labelled as that container, named from a config.v2.json, and the cgroup
// id of its directory (the kernel's, from name_to_handle_at, checked to
// be the directory's inode) maps back to its path.
func TestLiveDockerShapedCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a cgroup: run as root (e.g. sudo make test)")
	}
	mount, err := FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		t.Skip("needs a cgroup v2 mount: ", err)
	}
	id := fmt.Sprintf("%016x%016x%016x%016x", rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64())
	parent := filepath.Join(mount, fmt.Sprintf("hogs-test-%d-%08x", os.Getpid(), rand.Uint32()))
	scope := filepath.Join(parent, "docker-"+id+".scope")
	if err := os.MkdirAll(scope, 0o755); err != nil {
		t.Skipf("cannot create a cgroup under %s (read-only cgroup2 mount?): %v", mount, err)
	}
	t.Cleanup(func() {
		for _, d := range []string{scope, parent} {
			// rmdir fails while the killed child is still being reaped.
			for i := 0; i < 50; i++ {
				if err := os.Remove(d); err == nil || os.IsNotExist(err) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if _, err := os.Stat(parent); err == nil {
			t.Errorf("cgroup %s left behind", parent)
		}
	})

	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	if err := os.WriteFile(filepath.Join(scope, "cgroup.procs"), []byte(strconv.Itoa(child.Process.Pid)), 0); err != nil {
		t.Fatalf("moving the child into %s: %v", scope, err)
	}

	docker := t.TempDir()
	cfg := filepath.Join(docker, "containers", id, "config.v2.json")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(`{"ID":"`+id+`","Name":"/live-web"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLabeler(Config{DockerRoot: docker})
	got, err := l.Process(child.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Label{Runtime: Docker, ID: id, Name: "live-web"}); got != want {
		t.Errorf("label of the child = %+v, want %+v", got, want)
	}
	self, err := l.Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.Container() {
		t.Errorf("the test process itself is labelled %+v", self)
	}

	var st unix.Stat_t
	if err := unix.Stat(scope, &st); err != nil {
		t.Fatal(err)
	}
	// The kernel's cgroup id is the 8-byte handle of the directory (what
	// bpf_get_current_cgroup_id and INET_DIAG_CGROUP_ID report).
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, scope, 0)
	if err != nil {
		t.Fatalf("name_to_handle_at %s: %v", scope, err)
	}
	if b := h.Bytes(); len(b) != 8 || binary.NativeEndian.Uint64(b) != st.Ino {
		t.Fatalf("cgroup id handle %x is not the directory's inode %d", b, st.Ino)
	}
	ids := NewCgroupIDs(mount, nil)
	path, ok := ids.Path(st.Ino)
	if want := "/" + filepath.Base(parent) + "/docker-" + id + ".scope"; !ok || path != want {
		t.Fatalf("cgroup id %d maps to %q, %v; want %q", st.Ino, path, ok, want)
	}
	if lb := l.Path(path); lb.ID != id || lb.Name != "live-web" {
		t.Errorf("label of the cgroup id's path = %+v", lb)
	}
}

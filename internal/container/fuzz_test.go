package container

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFiles adds the fixture files matching pattern (under testdata/).
func seedFiles(f *testing.F, pattern string) {
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixture matches %q: %v", pattern, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzCgroupLine: the /proc/PID/cgroup parser and the path labeller never
// panic; a parsed line's path is the input's tail and absolute; a label's
// ID and pod UID come from the path and have the documented shapes.
func FuzzCgroupLine(f *testing.F) {
	seedFiles(f, "proc/*/cgroup")
	f.Add([]byte("0::/kubepods/pod" + podUID1 + "/" + criID + "\n"))
	f.Add([]byte("1:name=systemd:/a:b:c\n\n0::/x.service"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range ParseCgroupFile(b) {
			if !strings.HasPrefix(l.Path, "/") || !bytes.Contains(b, []byte(l.Path)) {
				t.Fatalf("path %q not an absolute tail of the input", l.Path)
			}
			if strings.Contains(l.Path, "\n") || strings.Contains(l.Controllers, ":") {
				t.Fatalf("line %+v spans a separator", l)
			}
			lb := PathLabel(l.Path)
			switch {
			case lb.Runtime == Systemd:
				if !strings.HasSuffix(lb.ID, ".service") || lb.Name != lb.ID || !strings.Contains(l.Path, lb.ID) {
					t.Fatalf("service label %+v from %q", lb, l.Path)
				}
			case lb.Container():
				if lb.ID != "" && (!isContainerID(lb.ID) || !strings.Contains(l.Path, lb.ID)) {
					t.Fatalf("container ID %q from %q", lb.ID, l.Path)
				}
				if lb.ID == "" && lb.PodUID == "" {
					t.Fatalf("container label without ID or pod from %q", l.Path)
				}
				if lb.PodUID != "" {
					if u, ok := podUID("pod" + lb.PodUID); !ok || u != lb.PodUID || !strings.Contains(l.Path, "kubepods") {
						t.Fatalf("pod UID %q from %q", lb.PodUID, l.Path)
					}
				}
			default:
				if !lb.IsZero() {
					t.Fatalf("label %+v is neither service nor container", lb)
				}
			}
		}
	})
}

// FuzzDockerName: the config.v2.json name extraction never panics and
// returns a bounded name without the leading slash, or an error.
func FuzzDockerName(f *testing.F) {
	seedFiles(f, "docker/containers/*/config.v2.json")
	f.Add([]byte(`{"Name":"/a\u0000b"}`))
	f.Add([]byte(`{"Name":"//"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, err := DockerName(bytes.NewReader(b))
		if err != nil {
			if name != "" {
				t.Fatalf("name %q with error %v", name, err)
			}
			return
		}
		if name == "" || len(name) > maxNameLen {
			t.Fatalf("name %q out of bounds", name)
		}
	})
}

// FuzzMountinfo: finding the cgroup2 mount never panics and returns an
// absolute path.
func FuzzMountinfo(f *testing.F) {
	seedFiles(f, "mountinfo-*")
	f.Fuzz(func(t *testing.T, b []byte) {
		if mp, ok := Cgroup2Mount(b); ok && !strings.HasPrefix(mp, "/") {
			t.Fatalf("mount point %q not absolute", mp)
		}
	})
}

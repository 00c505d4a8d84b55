package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hogs/internal/netlab"
)

// TestNeverSilent runs the built binary where it cannot see everything:
// each case says so on stderr in one line, and hogs still runs (exit 0).
func TestNeverSilent(t *testing.T) {
	bin := hogsBinary(t)
	root := t.TempDir() // holds the binary and an empty /sys to mount on; no /proc
	os.Mkdir(filepath.Join(root, "sys"), 0o755)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "hogs"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		command func(ns string) *exec.Cmd
		want    []string // the warning lines, in order
	}{
		{"no /proc", func(ns string) *exec.Cmd {
			return exec.Command("ip", "netns", "exec", ns, "sh", "-c",
				"mount -t sysfs sysfs "+root+"/sys && exec chroot "+root+" /hogs -t -a -c 1")
		}, []string{"hogs: warning: no proc file system at /proc (no such file or directory): no traffic can be tied to a process, all of it shows as unknown; mount it: mount -t proc proc /proc"}},
		{"only loopback, down", func(ns string) *exec.Cmd { return inNamespace(ns, bin, "-t", "-c", "1") },
			[]string{"hogs: warning: no devices to monitor: every device is down or loopback (-a adds those, or name devices); hogs picks up devices that come up"}},
		{"nothing captured", func(ns string) *exec.Cmd { return inNamespace(ns, bin, "--json", "-a", "-d", "1", "-c", "12") },
			[]string{"hogs: warning: no packets captured in 10s on any device: the devices are idle, or the filter (-f) keeps nothing"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := netlab.New(t)
			cmd := tt.command(ns)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.String())
			}
			if got := strings.Join(tt.want, "\n") + "\n"; stderr.String() != got {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), got)
			}
		})
	}
}

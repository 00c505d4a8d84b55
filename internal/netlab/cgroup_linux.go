package netlab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"hogs/internal/container"
)

// ServiceCgroup is a cgroup v2 directory shaped like a systemd service,
// MOUNT/hogs-test-XXXXXXXX.slice/hogs-NAME-XXXXXXXX.service, for programs
// whose sockets should belong to a service: hogs names such a cgroup by
// its unit when it cannot find a socket's process.
type ServiceCgroup struct {
	// Mount is the cgroup2 mount, Dir the service's directory under it.
	Mount, Dir string
	// Unit is the service's unit name (hogs-NAME-XXXXXXXX.service), Path
	// its path relative to the mount, as hogs reports it.
	Unit, Path string
	fd         int
}

// NewServiceCgroup creates a service-shaped cgroup under the cgroup2 mount
// /proc/self/mountinfo names (as hogs finds it), in a slice of its own.
// It needs root and a writable cgroup2 mount.
func NewServiceCgroup(name string) (*ServiceCgroup, error) {
	mount, err := container.FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	slice := filepath.Join(mount, RandomName("hogs-test")+".slice")
	if err := os.Mkdir(slice, 0o755); err != nil {
		return nil, fmt.Errorf("creating a cgroup: %w", err)
	}
	unit := RandomName("hogs-"+name) + ".service"
	dir := filepath.Join(slice, unit)
	if err := os.Mkdir(dir, 0o755); err != nil {
		os.Remove(slice)
		return nil, fmt.Errorf("creating a cgroup: %w", err)
	}
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		os.Remove(slice)
		return nil, fmt.Errorf("opening cgroup %s: %w", dir, err)
	}
	return &ServiceCgroup{Mount: mount, Dir: dir, Unit: unit, Path: strings.TrimPrefix(dir, mount), fd: fd}, nil
}

// Enter makes cmd start inside the cgroup (clone3 with CLONE_INTO_CGROUP):
// the process is there before it runs a single instruction, and so are
// its children and every socket they create. It keeps cmd's other
// SysProcAttr settings; Lab.Start keeps these.
func (c *ServiceCgroup) Enter(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, c.fd
}

// Procs returns the PIDs in the cgroup now.
func (c *ServiceCgroup) Procs() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		var pid int
		if _, err := fmt.Sscan(f, &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Remove removes the cgroup and its slice. Processes still inside (the
// caller should have ended them) are moved to the root cgroup first, so
// that nothing is left behind; it retries for up to 10 s while exiting
// processes (zombies not reaped yet) keep the cgroup populated.
func (c *ServiceCgroup) Remove() error {
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
	var err error
	for range 100 {
		if pids, _ := c.Procs(); len(pids) > 0 {
			for _, pid := range pids {
				// One PID per write: the kernel takes one at a time.
				os.WriteFile(filepath.Join(c.Mount, "cgroup.procs"), []byte(fmt.Sprint(pid)), 0)
			}
		}
		if err = os.Remove(c.Dir); err == nil || errors.Is(err, os.ErrNotExist) {
			if err = os.Remove(filepath.Dir(c.Dir)); err == nil || errors.Is(err, os.ErrNotExist) {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("removing cgroup %s: %w", c.Dir, err)
}

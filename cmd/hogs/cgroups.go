//go:build !hogs_small

package main

import (
	"fmt"
	"io"
	"os"

	"hogs/internal/container"
	"hogs/internal/flow"
)

// cgroupOwners names the service or container whose cgroup holds sockets
// hogs finds no process for (proc.ResolverConfig.CgroupOwner); nil
// without a cgroup2 mount.
func cgroupOwners(cfg config, stderr io.Writer) func(uint64) (flow.Process, bool) {
	mount, err := container.FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		// ip netns exec mounts a sysfs of its own over /sys, hiding the
		// cgroup mounts: init's view has them (root may look).
		if m, err1 := container.FindCgroup2("/proc/1/mountinfo"); err1 == nil {
			if _, err1 = os.Stat("/proc/1/root" + m); err1 == nil {
				mount, err = "/proc/1/root"+m, nil
			}
		}
	}
	if err != nil {
		if cfg.bugHunt {
			fmt.Fprintf(stderr, "hogs: %v: sockets without a process stay unknown\n", err)
		}
		return nil
	}
	ids := container.NewCgroupIDs(mount, nil)
	labels := container.NewLabeler(container.Config{})
	return func(id uint64) (flow.Process, bool) {
		path, ok := ids.Path(id)
		if !ok {
			return flow.Process{}, false
		}
		name := labels.Path(path).OwnerName()
		return flow.Process{Name: name, Cgroup: path, CgroupID: id}, name != ""
	}
}

//go:build !hogs_small

package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"

	"hogs/internal/container"
	"hogs/internal/flow"
)

// usageGroupKey is the c key in the usage text (the table groups rows by
// program, user or container where labels are built).
const usageGroupKey = "c group by program/user/container,\n"

// labelling returns what labels processes (for flow.NewLabelledOwners)
// and, unless owners are limited to some PIDs (-P), the owners of sockets
// whose process cannot be found (proc.ResolverConfig.CgroupOwner); both
// read Docker's names under --docker-root.
func labelling(cfg config, stderr io.Writer) (func(pid int) flow.Label, func(uint64) (flow.Process, bool)) {
	labels := container.NewLabeler(container.Config{DockerRoot: cfg.dockerRoot})
	var owner func(uint64) (flow.Process, bool)
	if len(cfg.onlyPIDs) == 0 {
		owner = cgroupOwners(cfg, labels, stderr)
	}
	return processLabels(labels), owner
}

// processLabels labels a process with its container, pod or service from
// /proc/PID/cgroup (flow.NewLabelledOwners calls it once per process, when
// it is registered). A process that has exited, or whose cgroup file
// cannot be read, has no label.
func processLabels(labels *container.Labeler) func(pid int) flow.Label {
	return func(pid int) flow.Label {
		l, err := labels.Process(pid)
		if err != nil {
			return flow.Label{}
		}
		return flowLabel(l)
	}
}

// flowLabel is l as the rest of hogs carries it. A user's systemd
// manager (user@UID.service, every process of a desktop session) is no
// service worth a label.
func flowLabel(l container.Label) flow.Label {
	if l.Runtime == container.Systemd && l.OwnerName() == "" {
		return flow.Label{}
	}
	return flow.Label{Runtime: l.Runtime, ID: l.ID, Name: l.Name, PodUID: l.PodUID, Pod: l.Pod, Namespace: l.Namespace}
}

// cgroupOwners names the cgroup whose sockets hogs finds no process for
// (proc.ResolverConfig.CgroupOwner); nil without a cgroup2 mount.
func cgroupOwners(cfg config, labels *container.Labeler, stderr io.Writer) func(uint64) (flow.Process, bool) {
	mount, err := findCgroup2()
	if err != nil {
		if cfg.bugHunt {
			fmt.Fprintf(stderr, "hogs: %v: sockets without a process stay unknown\n", err)
		}
		return nil
	}
	return cgroupOwner(container.NewCgroupIDs(mount, nil), labels)
}

// findCgroup2 returns a path to the cgroup2 mount. ip netns exec runs
// hogs in a mount namespace of its own with a sysfs of its own over /sys,
// hiding the cgroup mounts; init's view has them, and so, mostly, has
// hogs's parent's (the shell or program that ran ip netns exec), where
// init's is closed (some sandboxes): root may look through /proc/PID/root.
// That directory is opened, and the descriptor kept for hogs's life, so
// that the path stays valid after the parent exits.
func findCgroup2() (string, error) {
	mount, err := container.FindCgroup2("/proc/self/mountinfo")
	if err == nil {
		return mount, nil
	}
	for _, pid := range []int{1, os.Getppid()} {
		dir := "/proc/" + strconv.Itoa(pid)
		m, err1 := container.FindCgroup2(dir + "/mountinfo")
		if err1 != nil {
			continue
		}
		fd, err1 := syscall.Open(dir+"/root", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err1 != nil {
			continue
		}
		path := "/proc/self/fd/" + strconv.Itoa(fd) + m
		if _, err1 := os.Stat(path); err1 != nil {
			syscall.Close(fd)
			continue
		}
		return path, nil
	}
	return "", err
}

// cgroupOwner describes cgroup id, mapped to its path by ids, as the
// owner of sockets whose process cannot be found: a row named by
// container.FallbackName (a service, container or pod; else any cgroup
// but the root by its own name), with the cgroup's path, which marks it
// as a cgroup's row (flow.Process.IsCgroup; `cgroup` in JSON). false for
// the root cgroup and for an id no cgroup has (any more).
func cgroupOwner(ids *container.CgroupIDs, labels *container.Labeler) func(uint64) (flow.Process, bool) {
	return func(id uint64) (flow.Process, bool) {
		path, ok := ids.Path(id)
		if !ok {
			return flow.Process{}, false
		}
		l := labels.Path(path)
		name := container.FallbackName(path, l)
		return flow.Process{Name: name, Cgroup: path, CgroupID: id, Label: flowLabel(l)}, name != ""
	}
}

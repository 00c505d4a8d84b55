//go:build linux

package nsattr

import (
	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/internal/netns"
	"hogs/proc"
)

// ProcFactory makes, for each namespace, a /proc resolver (proc.Resolver)
// whose sock_diag socket was opened inside the namespace; processes are
// numbered in owners, shared with the Own attributor. Socket inodes are
// global, so the resolver's /proc fd walk would find the owner whatever
// its namespace; it visits only the namespace's processes
// (proc.ResolverConfig.ScanPIDs is member), so a search in one container
// does not read every process's descriptors. A socket whose process is
// not found goes to its cgroup's owner through cgroupOwner, as in the
// monitor's namespace (proc.ResolverConfig.CgroupOwner; nil: none); when
// deferCgroup (nil: never) reports true as a resolver is made, that waits
// for the flow's retry (proc.Resolver.DeferCgroupOwners: behind kernel
// socket events).
func ProcFactory(fsys proc.FS, owners *flow.Owners, cgroupOwner func(id uint64) (flow.Process, bool), deferCgroup func() bool) Factory {
	return func(ns netns.Namespace, run func(func() error) error, member func(pid int) bool) (monitor.Attributor, error) {
		var (
			diag    *proc.SockDiag
			watcher *proc.DestroyWatcher
		)
		err := run(func() error {
			var err error
			if diag, err = proc.OpenSockDiag(); err != nil {
				return err
			}
			// Without destroy events (a kernel that does not send
			// them) closed sockets are only found closed by a lookup.
			watcher, _ = proc.OpenDestroyWatcher()
			return nil
		})
		if err != nil {
			return nil, err
		}
		r := nsResolver{Proc: monitor.Proc{Resolver: proc.NewResolver(proc.ResolverConfig{FS: fsys, Owners: owners, SockDiag: diag, ScanPIDs: member, CgroupOwner: cgroupOwner})}, diag: diag, watcher: watcher}
		if deferCgroup != nil && deferCgroup() {
			r.Resolver.DeferCgroupOwners()
		}
		if watcher != nil {
			go r.FollowClosed(watcher)
		}
		return r, nil
	}
}

// nsResolver is a namespace's resolver; Close closes its sockets when the
// namespace is gone.
type nsResolver struct {
	monitor.Proc
	diag    *proc.SockDiag
	watcher *proc.DestroyWatcher // nil when the kernel refused the subscription
}

// Close closes the sock_diag socket and the destroy watcher (which ends
// FollowClosed).
func (r nsResolver) Close() error {
	if r.watcher != nil {
		r.watcher.Close()
	}
	return r.diag.Close()
}

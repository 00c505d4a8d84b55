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
// global, so the resolver's /proc fd walk finds the owner whatever its
// namespace.
//
// The walk is not yet restricted to the namespace's processes: that needs
// a hook in proc.ResolverConfig (a PID filter) that member would be given
// to.
func ProcFactory(fsys proc.FS, owners *flow.Owners) Factory {
	return func(ns netns.Namespace, run func(func() error) error, member func(pid int) bool) (monitor.Attributor, error) {
		var diag *proc.SockDiag
		err := run(func() error {
			var err error
			diag, err = proc.OpenSockDiag()
			return err
		})
		if err != nil {
			return nil, err
		}
		r := proc.NewResolver(proc.ResolverConfig{FS: fsys, Owners: owners, SockDiag: diag})
		return nsResolver{Proc: monitor.Proc{Resolver: r}, diag: diag}, nil
	}
}

// nsResolver is a namespace's resolver, closing its sock_diag socket when
// the namespace is gone.
type nsResolver struct {
	monitor.Proc
	diag *proc.SockDiag
}

// Close closes the sock_diag socket.
func (r nsResolver) Close() error { return r.diag.Close() }

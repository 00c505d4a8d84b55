//go:build !hogs_small

package proc

// The fd scan's shortcuts that cost the small build more bytes than it
// can spare (hogs_small leaves them out; the scan finds the same sockets
// without them, later):
//
//   - probeTasks: the tasks created since /proc was last listed
//     (/proc/loadavg's last PID) are walked one by one, newest first,
//     before the index's listing (Resolver.scanFDs), and /proc is listed
//     again only when a PID was handed out (procIndex.refresh);
//   - netnsOrder: processes in hogs's network namespace are walked before
//     the others (procIndex);
//   - reuseHints: a socket a destroy event closed has its descriptor read
//     again at the next walk of its holder (else only the second pass
//     finds a new socket under that number in a big process);
//   - hotReads (1, or 0: none): the latest owners' last descriptors are
//     read first (Resolver.scanFDs).
const (
	probeTasks = true
	netnsOrder = true
	reuseHints = true
	hotReads   = 1
)

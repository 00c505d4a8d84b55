// Package netns finds the host's network namespaces, holds a handle on
// each, runs code inside one, and tells which namespace the far end of a
// host-side veth lives in.
//
// The contract:
//   - A namespace is identified by the inode number of its nsfs file
//     (what /proc/PID/ns/net links to: "net:[INODE]"), which the kernel
//     keeps for the namespace's life; the monitor's own namespace is
//     marked Self.
//   - Scanner.Scan finds namespaces through /proc/*/ns/net (deduplicated)
//     and the bind mounts in /run/netns and Docker's /run/docker/netns. It
//     lists the processes only when the last PID given out (/proc/loadavg)
//     moved, reads the links of processes it has not seen before, and
//     reads a mount directory again only when its stat changed; every
//     Config.FullEvery (30 s), or at the first Scan a second after
//     RequestFull, it reads everything. So it is cheap to call at each
//     refresh (no syscall per namespace or process when nothing is new);
//     a process that changes namespace after it was seen, or exits while
//     no process is made, is noticed at the next full pass: users ask for
//     one when something names a namespace they do not know. NetNSOf
//     reads the link of a process no Scan has read. Processes whose links
//     may not be read are counted (ScanStats.Denied), not hidden.
//   - Scanner.Open returns a handle (an fd) on a namespace, checked to be
//     that namespace; the Scanner keeps it until a Scan no longer finds the
//     namespace, then closes it (an open handle keeps a namespace alive).
//   - Do runs a function on a locked OS thread that joined a namespace and
//     puts the thread back; SocketIn creates a socket there, which stays in
//     that namespace for its life (how a sock_diag or rtnetlink socket per
//     namespace is made once and reused). Joining needs CAP_SYS_ADMIN.
//   - RTNL speaks rtnetlink in the namespace it was opened in: Links lists
//     its links with each veth's peer index and peer namespace id, NSID
//     maps a namespace handle to that id; Scanner.Peers puts them together.
//     WatchAddrs and WatchLinks subscribe a socket to changes (Pending
//     polls many such sockets at once), so that dumps are made only when
//     something changed.
//     The message parsers never panic on any input.
package netns

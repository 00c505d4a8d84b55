//go:build linux

// Package nsattr attributes flows in every network namespace of the host:
// an Attributor routes each flow to the attributor of the namespace its
// key names (flow.Key.NetNS), made on first need inside that namespace,
// and a Source wrapper gives the packets seen on a host-side veth the
// namespace of the veth's peer.
//
// The contract:
//   - Key.NetNS 0, or the inode of the monitor's own namespace, is
//     resolved by the Own attributor; any other value is the nsfs inode
//     of a namespace (netns.Namespace.Inode). Keys of one namespace are
//     resolved together, in one call to that namespace's attributor.
//   - A namespace's attributor is made by the Factory, which is given a
//     function running code inside the namespace (to open sock_diag
//     there: a socket keeps its namespace) and a membership test for
//     PIDs (to restrict a /proc fd walk). One that cannot be made (no
//     CAP_SYS_ADMIN for setns) is reported once on Log and tried again
//     after RetryFailed; its flows stay unresolved meanwhile.
//   - The set of namespaces is scanned again when a key names one not
//     known, at most once a second, and by Recheck every 3 s (every 5 s
//     while Config.Quiet: no container in sight); a new container's first
//     frame has the Follower scan at once (kick). A scan makes the
//     attributors of the namespaces it finds new (before their first
//     flow: a short connection's socket may be gone by the time one is
//     made for it), closes (io.Closer) and drops those of namespaces gone,
//     says once on Log how many processes' namespaces it could not read
//     (CAP_SYS_PTRACE), and calls Config.OnScan.
//   - Source sets Frame.NetNS (0 for devices with no peer namespace)
//     from a table of host ifindex → peer namespace that SetPeers
//     replaces atomically, and turns the frame's direction round: what
//     the host side of a veth receives, the namespace sent. Next costs
//     one slice index per frame and allocates nothing. Only bridged veths
//     (Bridged: Docker's, Podman's, a CNI bridge's ports) are in the
//     table: behind a routed veth is counted as another host would be. A
//     frame of a device newer than the table kicks (SetKick) the
//     Follower, which reads the peers again at once.
//   - A namespace's resolver walks the descriptors of that namespace's
//     processes only (as the Scanner last read them; a process seen
//     before it joined its namespace is noticed at the Scanner's next full
//     pass).
//   - Boundary is the connection table's Classify for the monitor's own
//     namespace, so that each byte counts once: a flow that cannot have a
//     socket there (no local address of it) and has a container's address
//     at either end is counted at the container's boundary (Elsewhere);
//     one with no container's address is Forwarded (when the host
//     forwards); one with a local address is Local unless the Tracker
//     (conntrack) recognises a NATed copy. It answers from memory but for
//     the Tracker, which it asks at most BoundaryConfig.TrackerRate times
//     a second.
//   - Follower keeps the Source's peer table and the Boundary's addresses
//     (the monitor's namespace's and the containers', each read through a
//     socket made inside the namespace and watching its address changes)
//     current: Refresh after each scan, Run at each kick. A Refresh with
//     nothing new makes no syscall per namespace: the links are dumped
//     again only when a socket watching them (RTNLGRP_LINK, RTNLGRP_NSID)
//     has news, the peers worked out again only then or when the scan's
//     namespaces changed, and one poll tells which namespaces' addresses
//     changed.
package nsattr

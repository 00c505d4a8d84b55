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
//     known, at most once a second, and at each Recheck. A scan makes the
//     attributors of the namespaces it finds new (before their first
//     flow: a short connection's socket may be gone by the time one is
//     made for it), closes (io.Closer) and drops those of namespaces gone,
//     says once on Log how many processes' namespaces it could not read
//     (CAP_SYS_PTRACE), and calls Config.OnScan.
//   - Source sets Frame.NetNS (0 for devices with no peer namespace)
//     from a table of host ifindex → peer namespace that SetPeers
//     replaces atomically, and turns the frame's direction round: what
//     the host side of a veth receives, the namespace sent. Next costs
//     one slice index per frame and allocates nothing.
package nsattr

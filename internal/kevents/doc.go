// Package kevents attributes flows from the kernel's own account of who
// owned each socket, recorded by eBPF programs as sockets connect, listen,
// are accepted, send and receive, so that a connection that lasted a
// millisecond, or whose process has exited, is still found when its
// packets are counted. It is an Attributor (monitor.Attributor) that asks
// a fallback (the /proc one) about whatever it has no record of.
//
// Hooks, and why these: raw tracepoints, which need CAP_BPF and
// CAP_PERFMON (or root) but no tracefs, no kprobes (often not configured)
// and no cgroup attachment (no CAP_NET_ADMIN, no cgroup v2 mount, and a
// tracing program cannot refuse a socket the way a cgroup program can):
//   - sock:inet_sock_set_state, TCP. CLOSE→SYN_SENT runs in connect(), in
//     the connecting process: its record is kept by socket address.
//     →LISTEN runs in listen(): the listener's owner is kept by (network
//     namespace, port). SYN_SENT→ESTABLISHED and SYN_RECV→ESTABLISHED run
//     in softirq, where "current" is whoever was interrupted, so they only
//     copy a record: the connect's, or the listener's (marked passive)
//     under the connection's flow key. →CLOSE stamps the close time.
//   - sock:sock_send_length and sock:sock_recv_length, UDP: after each
//     send or receive, in the process doing it, the process is recorded
//     by (namespace, local port); the port is bound by then, also for the
//     first sendto of an unbound socket. A record already naming the
//     process is only looked up (its seen time refreshed once a second).
//
// An accepted connection is provisionally its listener's owner's: no hook
// without kprobes or fexit tells which process accept()ed it. Recheck asks
// the fallback about such connections while they are open, so a forking
// server's child takes over once /proc shows it holding the socket.
//
// Records carry the thread group id, uid, cgroup v2 id, comm and the
// process's start time (task start_boottime, which /proc/PID/stat's field
// 22 is made of), so an exited process is registered with the identity
// /proc gave it while it ran. Keys carry the network namespace's inode;
// a flow key's NetNS 0 means Config.NetNS (hogs's own namespace by
// default). PIDs are those of the initial PID namespace.
//
// The programs are assembled in Go (cilium/ebpf's asm package) at start,
// with structure offsets read from the kernel's BTF: nothing is compiled
// ahead or committed. The maps are LRU hashes of bounded size; a closed
// connection's record stays until evicted and is trusted for
// Config.Linger after its close (the delayed delete), then ignored. UDP
// records have no close: a port's record is replaced when another process
// sends or receives on it.
//
// Everything lives by file descriptors (no pinning): Close, or the
// process's exit however it happens, detaches the programs and frees the
// maps. The hogs_small build tag leaves the package's kernel half out;
// Open then fails with "kernel socket events not built in".
package kevents

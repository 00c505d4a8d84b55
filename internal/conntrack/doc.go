// Package conntrack asks a network namespace's netfilter connection
// tracking table about a flow, and classifies a flow seen in a namespace
// where no socket of its own owns it, so that each byte is counted once:
// the NATed or routed copy of a container's flow is counted at the
// container, traffic the namespace only routes is "forwarded".
//
// The contract:
//   - Conn speaks ctnetlink (NETLINK_NETFILTER, IPCTNL_MSG_CT_GET) on a
//     socket made once in the namespace it asks about: Open (the calling
//     thread's), OpenIn (a namespace fd, through netns.SocketIn) or
//     OpenWith (any socket maker). Get(t) returns the entry one of whose
//     two directions is t (the kernel hashes both), in zone 0, with its
//     original and reply tuples, status bits (SNAT, DNAT), id, zone and
//     mark; ErrNotFound when there is none; a KernelError (EPERM: no
//     CAP_NET_ADMIN in the namespace) when the kernel refuses. IPv4 and
//     IPv6, TCP and UDP. Get allocates nothing; calls are serialised.
//   - ParseEntry reads bytes from the kernel: it never panics, reads
//     nothing outside its input and accepts an entry only with both tuples
//     whole.
//   - Classifier.Classify(k) looks k up in the table of k.NetNS, asking
//     with Remote→Local (the wire tuple of an inbound packet: a port
//     forward's original tuple, a masqueraded flow's reply tuple), then
//     Local→Remote. The ends it judges are the entry's real ends (the
//     original source and the reply source: the initiator and responder
//     before any translation), or k's own addresses when there is no entry.
//     Then, with the predicates it is given for the namespace k was seen
//     in:
//     an end is an address of that namespace itself → Local (normal
//     attribution); else an end is another namespace's (a container's) →
//     CountedElsewhere (NATed or routed, its bytes are counted where the
//     container's socket is); else → Forwarded (the namespace only routes
//     it, NATed or not).
//   - Without an entry (conntrack not tracking the namespace, no
//     CAP_NET_ADMIN, entry expired) a masqueraded copy carries the host's
//     own address and is classified Local: Classify returns the class with
//     the error that kept it from the table, so the caller can say once
//     what it cannot see. A routed flow with a container's own address
//     needs no entry.
//
// Example (the live test's namespaces): a container 10.90.1.2 behind a host
// that masquerades out of its uplink 192.168.90.1 connects to
// 192.168.90.2:7000. On the uplink the flow is 192.168.90.1:P ↔
// 192.168.90.2:7000; its entry's original tuple is 10.90.1.2:P →
// 192.168.90.2:7000, so its initiator is the container's: CountedElsewhere.
// 192.168.90.2 → 192.168.90.1:8080 forwarded to 10.90.1.2:80 has reply
// source 10.90.1.2:80: CountedElsewhere. 192.168.90.2 → 10.91.2.2 routed
// through the host: neither is the host's or a container's: Forwarded.
package conntrack

// Package rawcap is the packet source of hogs: live capture on AF_PACKET
// sockets and capture files (pcap, pcapng) behind one frame interface.
//
// The contract every source keeps:
//   - Next fills a caller-owned Frame in place. Frame.Data aliases the
//     source's buffer and is valid until the next call to Next or Close; copy
//     it to keep it.
//   - After warm-up, reading a frame allocates nothing. Capture files cost no
//     system call per frame; the live ring costs none either (the recvmsg
//     fallback costs one).
//   - Next returns io.EOF at the clean end of a file, net.ErrClosed after
//     Close of a live source. A capture file that is corrupt or truncated
//     yields *FormatError naming the byte offset where the damaged record or
//     block starts (Truncated tells the two apart); the frames before the
//     damage are delivered first. A link type the decoder cannot read is a
//     *LinkTypeError, when the file is opened where it can be. No input
//     makes a reader panic, loop, or allocate much more than the input's
//     size; an n-byte file yields at most n/16 frames and n +
//     (n/16)·MaxWireLen wire bytes.
//   - Frame.WireLen is what the interface counted (ip -s link): files'
//     lengths are bounded (MaxWireLen) and corrected for pseudo-headers that
//     were not on the wire (InterfaceLen).
//
// Live capture (Live) uses one SOCK_DGRAM packet socket on every interface
// of its network namespace, a kernel BPF program (KernelFilter) that keeps
// only what hogs accounts and trims it to the headers the decoder reads (at
// most SnapLen bytes), and a memory-mapped
// TPACKET_V3 ring, with a recvmsg path where the kernel refuses the ring.
// The ring hands packets over in blocks, at the latest DefaultRetireTimeout
// after they arrived; a second socket (LiveConfig.HandshakeFilter,
// NextHandshake) receives only TCP segments carrying SYN, at once, so that a
// new connection is known before the ring delivers it. Which devices count, and how a packet that crosses stacked devices is
// counted once, is decided by a Plan built from the interface list, which
// netlink keeps current while hogs runs. With Selection.Boundaries a
// bridged veth whose peer is in another namespace counts on its own (a
// container's boundary), and its frames carry the namespace Live.SetPeers
// gives it, direction turned to the container's.
package rawcap

// Package rawcap is the packet source of hogs: live capture on AF_PACKET
// sockets and capture files (pcap, pcapng) behind one frame interface.
//
// The contract every source keeps:
//   - Next fills a caller-owned Frame in place. Frame.Data aliases the
//     source's buffer and is valid until the next call to Next or Close; copy
//     it to keep it.
//   - After warm-up, reading a frame allocates nothing and costs no system
//     call per frame.
//   - Next returns io.EOF at a clean end. A capture file that is corrupt or
//     truncated yields *FormatError naming the byte offset where the damaged
//     record or block starts; the frames before the damage are delivered
//     first. No input makes a reader panic, loop, or allocate much more than
//     the input's size.
//
// The file reader (FileReader) is done; live capture comes later.
package rawcap

package rawcap

import (
	"time"

	"golang.org/x/net/bpf"
)

// Capture modes, as Live.Mode reports them.
const (
	ModeRing    = "tpacket-v3 ring"
	ModeRecvmsg = "recvmsg"
)

// ForceRecvmsgEnv names the environment variable that, set to "1", makes
// OpenLive skip the ring and use the recvmsg path (tests cover both).
const ForceRecvmsgEnv = "HOGS_CAPTURE_RECVMSG"

// LiveConfig configures a live capture.
type LiveConfig struct {
	// Filter is the kernel filter (see KernelFilter). Nil keeps every
	// packet, untrimmed.
	Filter []bpf.Instruction
	// Selection picks the devices whose packets are delivered.
	Selection Selection
	// ForceRecvmsg skips the ring (also forced by ForceRecvmsgEnv=1).
	ForceRecvmsg bool
	// RingBlockSize and RingBlocks size the TPACKET_V3 ring; zero picks
	// 4 MiB × 4.
	RingBlockSize, RingBlocks int
	// RetireTimeout bounds how long a packet waits in a partly filled ring
	// block before hogs sees it; zero picks DefaultRetireTimeout.
	RetireTimeout time.Duration
	// ReceiveBuffer is SO_RCVBUFFORCE for the recvmsg path; zero picks 8 MiB.
	ReceiveBuffer int
	// HandshakeFilter, when not nil, opens a second socket with this
	// filter (see HandshakeFilter) whose packets NextHandshake returns as
	// soon as they arrive, while the ring batches the counted packets.
	HandshakeFilter []bpf.Instruction
}

// Stats are running totals for one live source, kept since it opened (the
// kernel resets its own counters on every read).
type Stats struct {
	Received uint64 // packets the kernel filter passed to the socket
	Dropped  uint64 // packets the kernel dropped: ring or buffer full
}

// DeviceCount is what a live source delivered from one device: the
// packets counted there and their wire bytes.
type DeviceCount struct {
	Name           string
	Packets, Bytes uint64
}

// DefaultRetireTimeout is how long a packet may wait in a partly filled ring
// block: the ring wakes hogs at most this often under light traffic, and
// once per filled block under heavy traffic. Each wake-up costs tens of
// microseconds of CPU, so this sets the CPU floor under light traffic
// (bench/live's udp-10k shows it; the A/B figures are in the commit that
// set it). Refreshes come once a second and rates are 5-second averages, so
// the delay hardly shows; new TCP connections do not wait for it, since the
// handshake watcher sees them at once. A UDP flow's first packet may wait
// for it, so a UDP socket that closes sooner can be missed.
const DefaultRetireTimeout = 500 * time.Millisecond

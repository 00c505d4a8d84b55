package rawcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"hogs/decode"
)

// publishEvery bounds how stale DeviceCounts may be, in packets.
const publishEvery = 4096

// Live captures packets on every interface of the network namespace it was
// opened in, through one AF_PACKET socket of type SOCK_DGRAM: the kernel
// strips link headers, so Frame.Data starts at the IP header for every link
// type and Frame.LinkType is decode.LinkRaw. Frame.WireLen adds the
// device's link header back (14 bytes on Ethernet and loopback), so byte
// counts are those on the wire, as nethogs and the interface counters
// report them. Packets of devices the Selection does not count (see Plan)
// are skipped inside Next.
//
// Next is meant for one goroutine. Close may be called from any goroutine;
// it wakes a Next that is waiting, which then returns net.ErrClosed.
type Live struct {
	conn    *packet.Conn
	raw     syscall.RawConn
	netlink *Netlink
	sel     Selection
	plan    atomic.Pointer[Plan]
	closed  atomic.Bool

	// planMu serialises building plans (device changes, SetPeers), so
	// that neither loses the other's part; peers is SetPeers's.
	planMu sync.Mutex
	peers  map[int]uint32
	// peerHook is called for a frame of a boundary whose namespace is
	// not known (SetPeerHook); kicked is the plan it was last called
	// under (once per plan). Reader goroutine only.
	peerHook func()
	kicked   *Plan

	ring *ring      // nil on the recvmsg path
	recv *recvState // nil on the ring path

	statsMu sync.Mutex
	stats   Stats

	lastRefresh time.Time // reader goroutine only
	refreshErr  error

	hs *handshakeWatcher // nil without LiveConfig.HandshakeFilter

	idle func() // see OnIdle

	// Per-device counts: the reader adds to its own copy and publishes it
	// to the shared one every publishEvery packets and before it waits.
	local     map[int]*DeviceCount // reader goroutine only
	lastIf    int                  // the previous packet's device, under lastPlan, and its count
	lastPlan  *Plan
	lastEntry *PlanEntry
	lastCount *DeviceCount
	sinceSync int
	sharedMu  sync.Mutex
	shared    map[int]DeviceCount
	stopWatch chan struct{}
	watchDone chan struct{}
}

// OpenLive opens a live capture in the calling thread's network namespace.
// Errors name what is missing: a capability, an unknown device.
func OpenLive(cfg LiveConfig) (*Live, error) {
	nl, err := OpenNetlink()
	if err != nil {
		return nil, fmt.Errorf("reading interfaces: %w", err)
	}
	devs, err := nl.Devices()
	if err != nil {
		nl.Close()
		return nil, fmt.Errorf("reading interfaces: %w", err)
	}
	if err := cfg.Selection.Resolve(devs); err != nil {
		nl.Close()
		return nil, err
	}
	var pcfg packet.Config
	if cfg.Filter != nil {
		raw, err := bpf.Assemble(cfg.Filter)
		if err != nil {
			nl.Close()
			return nil, fmt.Errorf("capture filter: %w", err)
		}
		pcfg.Filter = raw
	}
	conn, err := packet.Listen(&net.Interface{Index: 0}, packet.Datagram, unix.ETH_P_ALL, &pcfg)
	if err != nil {
		nl.Close()
		if errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EPERM) {
			return nil, &CapabilityError{Capability: "cap_net_raw", Op: "open a packet socket"}
		}
		return nil, fmt.Errorf("opening packet socket: %w", err)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		nl.Close()
		return nil, err
	}
	l := &Live{conn: conn, raw: raw, netlink: nl, sel: cfg.Selection,
		stopWatch: make(chan struct{}), watchDone: make(chan struct{}),
		local: map[int]*DeviceCount{}, shared: map[int]DeviceCount{}}
	l.plan.Store(cfg.Selection.Plan(devs))
	l.lastRefresh = time.Now()

	force := cfg.ForceRecvmsg || os.Getenv(ForceRecvmsgEnv) == "1"
	if !force {
		l.ring, err = newRing(raw, cfg)
		if err != nil && !errors.Is(err, errRingUnsupported) {
			l.conn.Close()
			nl.Close()
			return nil, err
		}
	}
	if l.ring != nil {
		l.ring.beforeWait = l.beforeWait
	}
	if l.ring == nil {
		l.recv, err = newRecvState(raw, cfg)
		if err != nil {
			l.conn.Close()
			nl.Close()
			return nil, err
		}
		l.recv.beforeWait = l.beforeWait
	}
	if cfg.HandshakeFilter != nil {
		if l.hs, err = openHandshakeWatcher(cfg.HandshakeFilter); err != nil {
			if l.ring != nil {
				l.ring.unmap()
			}
			l.conn.Close()
			nl.Close()
			return nil, err
		}
	}
	go l.watchDevices()
	return l, nil
}

// CapabilityError says which capability hogs lacks for what.
//
// cap_net_raw alone is enough to capture: it opens the packet socket, and
// promiscuous mode (-p) is a membership of that socket
// (PACKET_ADD_MEMBERSHIP), which needs nothing more. cap_net_admin would
// only let the recvmsg fallback raise its receive buffer past
// net.core.rmem_max (SO_RCVBUFFORCE); the TPACKET_V3 ring does not need it.
type CapabilityError struct {
	Capability string
	Op         string
}

func (e *CapabilityError) Error() string {
	binary := "hogs"
	if path, err := os.Executable(); err == nil {
		binary = path
	}
	return SetcapAdvice(e.Op, e.Capability, binary)
}

// SetcapAdvice is the line that says what was refused and the setcap
// command that grants it, with binary quoted for a POSIX shell so that the
// command works pasted as it is.
func SetcapAdvice(op, capability, binary string) string {
	return fmt.Sprintf("no permission to %s: run as root, or grant %s once with: setcap %s+ep %s"+
		" (add cap_dac_read_search,cap_sys_ptrace to that list to attribute other users' processes)",
		op, capability, capability, ShellQuote(binary))
}

// ShellQuote returns s as one word for a POSIX shell: unchanged when it
// holds only characters no shell treats specially, else in single quotes
// (a single quote inside written as '\”).
func ShellQuote(s string) string {
	safe := s != ""
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/._-+,:@%=", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Mode says which receive path is in use: ModeRing or ModeRecvmsg.
func (l *Live) Mode() string {
	if l.ring != nil {
		return ModeRing
	}
	return ModeRecvmsg
}

// Plan returns the device plan in force.
func (l *Live) Plan() *Plan { return l.plan.Load() }

// watchDevices rebuilds the plan whenever the namespace's links or
// addresses change, so hot-plugged devices are captured without a restart.
func (l *Live) watchDevices() {
	defer close(l.watchDone)
	changes := l.netlink.Changes()
	for {
		select {
		case <-l.stopWatch:
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
			l.refreshPlan()
		}
	}
}

func (l *Live) refreshPlan() {
	devs, err := l.netlink.Devices()
	if err != nil {
		return // keep the old plan; the next change tries again
	}
	l.planMu.Lock()
	defer l.planMu.Unlock()
	l.plan.Store(l.sel.Plan(devs).withPeers(l.peers))
}

// SetPeers gives the frames of each namespace boundary (PlanEntry.Boundary:
// a bridged veth whose peer is in another namespace, with
// Selection.Boundaries) the namespace peers maps its ifindex to
// (Frame.NetNS), turning their direction round: what the host side
// receives, the namespace sent. Frames read after it returns follow it.
func (l *Live) SetPeers(peers map[int]uint32) {
	l.planMu.Lock()
	defer l.planMu.Unlock()
	l.peers = peers
	l.plan.Store(l.plan.Load().withPeers(peers))
}

// SetPeerHook sets a function Next calls, at most once per plan, for a
// frame of a boundary whose namespace SetPeers has not given yet (a
// container just made): it may call SetPeers, and the frame is tagged by
// what it set. Set it before the first Next.
func (l *Live) SetPeerHook(fn func()) { l.peerHook = fn }

// Next fills f with the next packet to count. It blocks until one arrives
// or the source is closed (net.ErrClosed).
func (l *Live) Next(f *Frame) error {
	for {
		var err error
		if l.ring != nil {
			err = l.ring.next(l.raw, f)
		} else {
			err = l.recv.next(l.raw, f)
		}
		if err != nil {
			if l.closed.Load() {
				if l.ring != nil {
					l.ring.unmap()
				}
				return net.ErrClosed
			}
			return err
		}
		if l.admit(f) {
			return nil
		}
	}
}

// admit applies the device plan to a frame whose Interface, WireLen
// (without link header) and tag flag the receive path filled in.
func (l *Live) admit(f *Frame) bool {
	plan := l.plan.Load()
	if f.Interface != l.lastIf || plan != l.lastPlan || l.lastEntry == nil {
		entry := plan.entry(f.Interface)
		if entry == nil {
			// A device the plan has not seen yet: a hot-plugged one whose
			// notification is still on its way. Re-read the list, at most
			// four times a second.
			if time.Since(l.lastRefresh) < 250*time.Millisecond {
				return false
			}
			l.lastRefresh = time.Now()
			l.refreshPlan()
			plan = l.plan.Load()
			if entry = plan.entry(f.Interface); entry == nil {
				return false
			}
		}
		l.lastIf, l.lastPlan, l.lastEntry, l.lastCount = f.Interface, plan, entry, nil
	}
	if !place(l.lastEntry, f) {
		return false
	}
	if l.lastEntry.Boundary {
		l.tagBoundary(f)
	}
	c := l.lastCount
	if c == nil {
		if c = l.local[f.Interface]; c == nil {
			c = &DeviceCount{Name: l.lastEntry.Name}
			l.local[f.Interface] = c
		}
		l.lastCount = c
	}
	c.Packets++
	c.Bytes += uint64(f.WireLen)
	if l.sinceSync++; l.sinceSync >= publishEvery {
		l.publish()
	}
	return true
}

// place applies a device's plan entry to a frame: whether it counts there,
// the device's name and link header, and its namespace (a boundary's,
// with the direction turned round).
func place(entry *PlanEntry, f *Frame) bool {
	if !entry.Count || (f.vlanTagged && !entry.CountTagged) {
		return false
	}
	f.InterfaceName = entry.Name
	f.WireLen += entry.LinkHeaderLen
	f.NetNS = entry.NetNS
	if entry.NetNS != 0 {
		turn(f)
	}
	return true
}

// turn turns a boundary frame's direction round.
func turn(f *Frame) {
	switch f.Direction {
	case decode.DirIn:
		f.Direction = decode.DirOut
	case decode.DirOut:
		f.Direction = decode.DirIn
	}
}

// tagBoundary is admit's part for a frame of a boundary (placed already):
// one whose namespace is not known yet calls the peer hook, once per
// plan, and takes the namespace it set.
func (l *Live) tagBoundary(f *Frame) {
	if f.NetNS != 0 || l.peerHook == nil {
		return
	}
	plan := l.plan.Load()
	if l.kicked == plan {
		return
	}
	l.peerHook()
	plan = l.plan.Load()
	l.kicked = plan
	if e := plan.entry(f.Interface); e != nil && e.NetNS != 0 {
		f.NetNS = e.NetNS
		turn(f)
	}
}

// OnIdle sets a function that Next calls, in its caller's goroutine,
// whenever it is about to wait for packets: the caller's moment to hand on
// what it holds (an Adder's held packets). Set it before the first Next.
func (l *Live) OnIdle(fn func()) { l.idle = fn }

func (l *Live) beforeWait() {
	l.publish()
	if l.idle != nil {
		l.idle()
	}
}

// publish copies the reader's per-device counts to where DeviceCounts
// reads them.
func (l *Live) publish() {
	l.sinceSync = 0
	l.sharedMu.Lock()
	for i, c := range l.local {
		l.shared[i] = *c
	}
	l.sharedMu.Unlock()
}

// DeviceCounts returns, per device that delivered packets, the packets and
// wire bytes counted there since the source opened (at most a few thousand
// packets behind).
func (l *Live) DeviceCounts() []DeviceCount {
	l.sharedMu.Lock()
	defer l.sharedMu.Unlock()
	out := make([]DeviceCount, 0, len(l.shared))
	for _, c := range l.shared {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b DeviceCount) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Stats returns the running totals, folding in the kernel's counters.
func (l *Live) Stats() (Stats, error) {
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	var kerr error
	err := l.raw.Control(func(fd uintptr) {
		if l.ring != nil {
			s, err := unix.GetsockoptTpacketStatsV3(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
			if err != nil {
				kerr = err
				return
			}
			l.stats.Received += uint64(s.Packets)
			l.stats.Dropped += uint64(s.Drops)
			return
		}
		s, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
		if err != nil {
			kerr = err
			return
		}
		l.stats.Received += uint64(s.Packets)
		l.stats.Dropped += uint64(s.Drops)
	})
	if err == nil {
		err = kerr
	}
	return l.stats, err
}

// SetPromiscuous puts the named device in promiscuous mode (or takes it
// out). The kernel reference-counts the setting per socket and drops it
// when the socket closes, so an exit of any kind restores the device.
func (l *Live) SetPromiscuous(ifindex int, on bool) error {
	opt := unix.PACKET_ADD_MEMBERSHIP
	if !on {
		opt = unix.PACKET_DROP_MEMBERSHIP
	}
	var serr error
	err := l.raw.Control(func(fd uintptr) {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		serr = unix.SetsockoptPacketMreq(int(fd), unix.SOL_PACKET, opt, &mreq)
	})
	if err == nil {
		err = serr
	}
	if errors.Is(err, unix.EPERM) {
		return &CapabilityError{Capability: "cap_net_admin", Op: "set promiscuous mode"}
	}
	return err
}

// Close stops the capture. A Next in progress returns net.ErrClosed.
func (l *Live) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	close(l.stopWatch)
	err := l.conn.Close()
	if l.hs != nil {
		l.hs.conn.Close()
	}
	l.netlink.Close()
	<-l.watchDone
	return err
}

// ----- handshake watcher -----

// handshakeWatcher is a second packet socket that receives only what
// HandshakeFilter keeps, through recvmsg: each packet wakes its reader at
// once, and there are only a few per connection.
type handshakeWatcher struct {
	conn *packet.Conn
	raw  syscall.RawConn
	recv *recvState
}

func openHandshakeWatcher(filter []bpf.Instruction) (*handshakeWatcher, error) {
	prog, err := bpf.Assemble(filter)
	if err != nil {
		return nil, fmt.Errorf("handshake filter: %w", err)
	}
	conn, err := packet.Listen(&net.Interface{Index: 0}, packet.Datagram, unix.ETH_P_ALL, &packet.Config{Filter: prog})
	if err != nil {
		return nil, fmt.Errorf("opening handshake socket: %w", err)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, err
	}
	recv, err := newRecvState(raw, LiveConfig{ReceiveBuffer: 1 << 20})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &handshakeWatcher{conn: conn, raw: raw, recv: recv}, nil
}

// NextHandshake fills f with the next packet of the handshake watcher (see
// LiveConfig.HandshakeFilter) on a device whose packets count, as soon as
// it arrives. It does not count the packet: the ring delivers it to Next as
// well. It is meant for one goroutine, other than Next's; without a
// watcher it blocks until Close. After Close it returns net.ErrClosed.
func (l *Live) NextHandshake(f *Frame) error {
	if l.hs == nil {
		<-l.stopWatch
		return net.ErrClosed
	}
	for {
		if err := l.hs.recv.next(l.hs.raw, f); err != nil {
			if l.closed.Load() {
				return net.ErrClosed
			}
			return err
		}
		// A device the plan does not know yet is skipped: Next's reader
		// refreshes the plan, and counts the packet.
		if entry := l.plan.Load().entry(f.Interface); entry != nil && place(entry, f) {
			return nil
		}
	}
}

// ----- TPACKET_V3 ring -----

var errRingUnsupported = errors.New("packet ring not supported")

// Offsets in a TPACKET_V3 block and packet header (linux/if_packet.h).
const (
	tpacket3HdrLen  = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
	blockStatusOff  = 8  // tpacket_block_desc.hdr.bh1.block_status
	blockNumPktsOff = 12
	blockFirstOff   = 16
	blockLenOff     = 20 // bytes of the block in use, from its start
	sockaddrLLOff   = tpacket3HdrLen
)

// prefetchAhead is how far ahead of the packet being read the ring starts
// loading cache lines, prefetchSpan bytes (four lines) every prefetchSpan
// bytes of packets read: the reader otherwise stalls on each line the
// kernel wrote from another core (bench/live's tcp-small shows it; the
// A/B figures are in the commit that added it).
const (
	prefetchAhead = 4096
	prefetchSpan  = 256
)

type ring struct {
	mem       []byte
	blockSize int
	blocks    int

	block     int    // block being read
	remaining uint32 // packets left in it; 0 = not yet opened
	offset    int    // offset of the next packet within the block
	holding   bool   // the current block belongs to user space
	// prefetched: the offset in the block up to which lines were prefetched
	prefetched int
	used       int // the block's length in use (its last packet's end)
	unmapOnce  sync.Once
	ready      func(fd uintptr) bool
	// beforeWait runs before the reader blocks for the next block.
	beforeWait func()
}

// The default ring: 16 MiB in four blocks of 4 MiB. The reader wakes when
// a block is full (or DefaultRetireTimeout after its first packet), and on
// this kind of machine a wake-up costs tens of microseconds, so bigger
// blocks mean fewer wake-ups under load (bench/live's tcp-small). Three
// blocks the kernel can fill while hogs reads the fourth hold a few hundred
// milliseconds of a small-packet flood.
const (
	defaultRingBlockSize = 4 << 20
	defaultRingBlocks    = 4
)

func newRing(raw syscall.RawConn, cfg LiveConfig) (*ring, error) {
	blockSize, blocks := cfg.RingBlockSize, cfg.RingBlocks
	if blockSize == 0 {
		blockSize = defaultRingBlockSize
	}
	if blocks == 0 {
		blocks = defaultRingBlocks
	}
	tov := cfg.RetireTimeout
	if tov == 0 {
		tov = DefaultRetireTimeout
	}
	const frameSize = 1 << 11
	r := &ring{blockSize: blockSize, blocks: blocks}
	var serr error
	err := raw.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); serr != nil {
			return
		}
		req := unix.TpacketReq3{
			Block_size:     uint32(blockSize),
			Block_nr:       uint32(blocks),
			Frame_size:     frameSize,
			Frame_nr:       uint32(blockSize / frameSize * blocks),
			Retire_blk_tov: uint32(tov / time.Millisecond),
		}
		if serr = unix.SetsockoptTpacketReq3(int(fd), unix.SOL_PACKET, unix.PACKET_RX_RING, &req); serr != nil {
			return
		}
		r.mem, serr = unix.Mmap(int(fd), 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_LOCKED|unix.MAP_POPULATE)
		if serr != nil {
			// MAP_LOCKED can fail under RLIMIT_MEMLOCK; the ring works without it.
			r.mem, serr = unix.Mmap(int(fd), 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		}
		if serr != nil {
			return
		}
		// Packets queued before the ring existed sit in the socket's
		// receive queue and would keep poll() readable forever: drain them.
		var buf [1]byte
		for {
			_, _, err := unix.Recvfrom(int(fd), buf[:], unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			if err != nil {
				break
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOPROTOOPT) || errors.Is(err, unix.EOPNOTSUPP) {
			return nil, fmt.Errorf("%w: %v", errRingUnsupported, err)
		}
		return nil, fmt.Errorf("setting up packet ring: %w", err)
	}
	r.ready = r.blockReady
	return r, nil
}

func (r *ring) status(block int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[block*r.blockSize+blockStatusOff]))
}

// blockReady is the RawConn.Read callback: true once the current block
// belongs to user space.
func (r *ring) blockReady(uintptr) bool {
	return atomic.LoadUint32(r.status(r.block))&unix.TP_STATUS_USER != 0
}

func (r *ring) next(raw syscall.RawConn, f *Frame) error {
	for r.remaining == 0 {
		if r.holding {
			// Done with this block: hand it back and move on.
			atomic.StoreUint32(r.status(r.block), unix.TP_STATUS_KERNEL)
			r.holding = false
			r.block = (r.block + 1) % r.blocks
		}
		if !r.blockReady(0) {
			if r.beforeWait != nil {
				r.beforeWait()
			}
			if err := raw.Read(r.ready); err != nil {
				return err
			}
		}
		base := r.block * r.blockSize
		desc := r.mem[base : base+r.blockSize : base+r.blockSize]
		r.holding = true
		r.remaining = binary.NativeEndian.Uint32(desc[blockNumPktsOff:])
		r.offset = int(binary.NativeEndian.Uint32(desc[blockFirstOff:]))
		r.used = int(binary.NativeEndian.Uint32(desc[blockLenOff:]))
		r.prefetched = 0
	}
	base := r.block * r.blockSize
	block := r.mem[base : base+r.blockSize : base+r.blockSize]
	if r.offset < 0 || r.offset+tpacket3HdrLen+20 > len(block) {
		// A corrupt offset would be a kernel bug; drop the rest of the block.
		r.remaining = 0
		return r.next(raw, f)
	}
	if r.offset >= r.prefetched && r.offset+prefetchAhead+prefetchSpan <= r.used {
		// The kernel wrote the block, often on another CPU: start loading
		// the lines of the packets ahead now, so that their cache misses
		// overlap with the work on this one instead of stalling it. Only
		// lines of this block's packets: the kernel may be writing the
		// rest of the ring, and reading its lines would slow it down.
		r.prefetched = r.offset + prefetchSpan
		prefetch(uintptr(unsafe.Pointer(&block[0])) + uintptr(r.offset+prefetchAhead))
	}
	hdr := (*unix.Tpacket3Hdr)(unsafe.Pointer(&block[r.offset]))
	sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&block[r.offset+sockaddrLLOff]))
	start := r.offset + int(hdr.Mac)
	end := start + int(hdr.Snaplen)
	if end > len(block) || start < r.offset {
		end, start = r.offset, r.offset
	}
	f.Data = block[start:end:end]
	f.WireLen = int(hdr.Len)
	f.LinkType = decode.LinkRaw
	f.Timestamp = time.Unix(int64(hdr.Sec), int64(hdr.Nsec))
	f.Interface = int(sll.Ifindex)
	f.InterfaceName = ""
	f.Direction = directionOfPktType(sll.Pkttype)
	f.vlanTagged = hdr.Status&unix.TP_STATUS_VLAN_VALID != 0
	r.remaining--
	if r.remaining > 0 {
		r.offset += int(hdr.Next_offset)
	}
	return nil
}

func (r *ring) unmap() {
	r.unmapOnce.Do(func() {
		if r.mem != nil {
			unix.Munmap(r.mem)
			r.mem = nil
		}
	})
}

// ----- recvmsg fallback -----

type recvState struct {
	buf     []byte
	control []byte
	addr    unix.RawSockaddrLinklayer
	iov     unix.Iovec
	msg     unix.Msghdr
	n       int
	errno   syscall.Errno
	read    func(fd uintptr) bool
	// beforeWait runs when no packet is queued, before the reader blocks.
	beforeWait func()
}

func newRecvState(raw syscall.RawConn, cfg LiveConfig) (*recvState, error) {
	rcvbuf := cfg.ReceiveBuffer
	if rcvbuf == 0 {
		rcvbuf = 8 << 20
	}
	var serr error
	err := raw.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); serr != nil {
			return
		}
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); serr != nil {
			return
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
			// Without CAP_NET_ADMIN: the ordinary limit.
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("setting up packet socket: %w", err)
	}
	s := &recvState{
		buf:     make([]byte, 64<<10),
		control: make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.TpacketAuxdata{})))+unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))),
	}
	s.iov.Base = &s.buf[0]
	s.iov.SetLen(len(s.buf))
	s.msg.Name = (*byte)(unsafe.Pointer(&s.addr))
	s.msg.Iov = &s.iov
	s.msg.Iovlen = 1
	s.msg.Control = &s.control[0]
	s.read = s.recvOnce
	return s, nil
}

// recvOnce is the RawConn.Read callback: one non-blocking recvmsg.
func (s *recvState) recvOnce(fd uintptr) bool {
	s.msg.Namelen = uint32(unsafe.Sizeof(s.addr))
	s.msg.SetControllen(len(s.control))
	n, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&s.msg)), unix.MSG_TRUNC|unix.MSG_DONTWAIT)
	if errno == unix.EAGAIN {
		if s.beforeWait != nil {
			s.beforeWait()
		}
		return false
	}
	s.n, s.errno = int(n), errno
	return true
}

func (s *recvState) next(raw syscall.RawConn, f *Frame) error {
	for {
		if err := raw.Read(s.read); err != nil {
			return err
		}
		if s.errno == unix.EINTR {
			continue
		}
		if s.errno != 0 {
			return fmt.Errorf("recvmsg: %w", s.errno)
		}
		break
	}
	captured := s.n
	if captured > len(s.buf) {
		captured = len(s.buf) // MSG_TRUNC reports the length before the cut
	}
	f.Data = s.buf[:captured:captured]
	f.WireLen = s.n
	f.LinkType = decode.LinkRaw
	f.Timestamp = time.Time{}
	f.Interface = int(s.addr.Ifindex)
	f.InterfaceName = ""
	f.Direction = directionOfPktType(s.addr.Pkttype)
	f.vlanTagged = false
	s.parseControl(f)
	return nil
}

// parseControl reads PACKET_AUXDATA (wire length, VLAN tag) and
// SCM_TIMESTAMPNS from the control messages without allocating.
func (s *recvState) parseControl(f *Frame) {
	ctl := s.control[:s.msg.Controllen]
	for len(ctl) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctl[0]))
		if int(h.Len) < unix.SizeofCmsghdr || int(h.Len) > len(ctl) {
			return
		}
		data := ctl[unix.CmsgLen(0):h.Len]
		switch {
		case h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && len(data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})):
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&data[0]))
			f.WireLen = int(aux.Len)
			f.vlanTagged = aux.Status&unix.TP_STATUS_VLAN_VALID != 0
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
			f.Timestamp = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
		step := unix.CmsgSpace(int(h.Len) - unix.CmsgLen(0))
		if step > len(ctl) {
			return
		}
		ctl = ctl[step:]
	}
}

// directionOfPktType maps sll_pkttype to a direction.
func directionOfPktType(t uint8) decode.Direction {
	switch t {
	case unix.PACKET_OUTGOING:
		return decode.DirOut
	case unix.PACKET_HOST, unix.PACKET_BROADCAST, unix.PACKET_MULTICAST, unix.PACKET_OTHERHOST:
		return decode.DirIn
	}
	return decode.DirUnknown
}

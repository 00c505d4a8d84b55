package proc

import (
	"errors"
	"io/fs"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"hogs/internal/flow"
)

// procID identifies a process across PID reuse.
type procID struct {
	pid   int
	start uint64
}

// connKey finds a connected socket: both ends known.
type connKey struct {
	proto         uint8
	local, remote netip.AddrPort
}

// connRow is a connected socket's row in the tables: inode 0 for one
// that holds none (not accepted yet, TIME_WAIT).
type connRow struct {
	inode uint64
	state uint8
}

// bindKey finds a listening or unconnected socket by where it is bound.
type bindKey struct {
	proto uint8
	local netip.AddrPort
}

// Resolver maps flows to the processes that own their sockets: the flow's
// ends find the socket's inode in /proc/net/{tcp,tcp6,udp,udp6}, and the
// inode finds the process through /proc/PID/fd. Connected sockets match by
// both ends; UDP sockets that are not connected (servers, sendto clients)
// match by their bound address and port, wildcard binds (0.0.0.0, ::,
// dual-stack IPv6 serving IPv4) included. Each process is registered in
// the shared owner registry (flow.Owners), which numbers it.
//
// A TCP connection whose socket has no inode yet (seen before accept(),
// or never accepted) belongs provisionally to the process holding the
// socket listening on its local address and port: Provisional reports
// such flows, and Recheck looks them up again until the accepted socket
// shows up, then hands them to the accepting process. A connection gone
// before it was ever resolved goes to the listener's process for good. A
// socket known closed (SocketClosed, fed by socket-destroy events, or a
// lookup that finds nothing) is never searched for in /proc/PID/fd, and a
// search stops as soon as the kernel no longer has the socket.
//
// Between searches a process index (procIndex) keeps the list of
// processes, newest first, and the descriptors of those holding many, so
// that a search neither lists /proc when no process was created nor
// re-reads the links of a server's thousands of idle connections.
//
// Resolve, Recheck and Provisional are meant for one goroutine; Stats and
// SocketClosed may be called concurrently with them.
type Resolver struct {
	fs     FS
	diag   *SockDiag // nil: look sockets up in the /proc/net tables
	tables SocketTableReader
	users  Users
	only   map[int]bool // -P: attribute only to these PIDs
	// scanPIDs, if set, picks the processes a descriptor walk visits.
	scanPIDs func(pid int) bool

	// Rebuilt on every table read.
	conns map[connKey]connRow
	binds map[bindKey]uint64

	// inode → the process and descriptor it was last seen at, added to by
	// every fd scan and checked (one readlink) before it is trusted: a
	// socket handed on (accept, then fork and close) moves to another
	// process.
	inodeOwner map[uint64]holder
	scanPass   uint32
	// index remembers the processes and their descriptors between scans.
	index *procIndex
	// recent are the processes that owned the latest resolved flows, most
	// recent first: the next new socket is most likely theirs.
	recent []recentOwner
	// young are the flows resolved lately, which Recheck looks at again;
	// provisional are those of them owned by a listener's process.
	young       []youngFlow
	provisional map[flow.Key]bool

	// closed are sockets known closed (SocketClosed): connection → cookie
	// (0: any socket with these ends). cookieInode are the sockets
	// looked up lately, cookie → inode, so that a destroy event (which
	// names no inode) can name the inode in dead: sockets closed whose
	// descriptors the index must read again.
	closedMu    sync.Mutex
	closed      map[connKey]uint64
	cookieInode map[uint64]uint64
	dead        map[uint64]bool

	owners      *flow.Owners
	cgroupOwner func(id uint64) (flow.Process, bool)
	// deferCgroup (DeferCgroupOwners): the cgroup fallback waits for a
	// flow's second lookup; pendingCgroup holds the flows missed once,
	// with the cgroup id their first lookup told (0: none).
	deferCgroup   bool
	pendingCgroup map[flow.Key]uint64

	// Counters, read by Stats from other goroutines.
	scans, reads, lookups, vain, links, listings atomic.Uint64
}

// ResolverConfig configures a Resolver.
type ResolverConfig struct {
	FS FS
	// Owners numbers the processes found; nil: a registry of the
	// Resolver's own.
	Owners *flow.Owners
	// PasswdPath is the passwd file for user names; "" means /etc/passwd.
	PasswdPath string
	// OnlyPIDs limits attribution to these processes (nethogs -P); traffic
	// of any other process stays unresolved.
	OnlyPIDs []int
	// SockDiag, if set, finds each flow's socket with one netlink query
	// instead of reading the /proc/net tables.
	SockDiag *SockDiag
	// CgroupOwner, if set, describes the cgroup with this id as an owner
	// (flow.Process with Cgroup set): a service, container, scope or
	// any other cgroup it can name, false for one it cannot (the root
	// cgroup): the owner of a socket whose process cannot be found.
	CgroupOwner func(id uint64) (flow.Process, bool)
	// ScanPIDs, if set, limits the walk of processes' descriptors (the
	// search for a socket's owner) to the PIDs it accepts: a resolver of
	// another network namespace walks only that namespace's processes
	// (socket inodes are global, but its sockets' holders are there).
	ScanPIDs func(pid int) bool
}

// NewResolver returns a Resolver reading cfg.FS.
func NewResolver(cfg ResolverConfig) *Resolver {
	r := &Resolver{
		fs:          cfg.FS,
		diag:        cfg.SockDiag,
		tables:      SocketTableReader{FS: cfg.FS},
		users:       Users{PasswdPath: cfg.PasswdPath},
		conns:       map[connKey]connRow{},
		binds:       map[bindKey]uint64{},
		inodeOwner:  map[uint64]holder{},
		provisional: map[flow.Key]bool{},
		closed:      map[connKey]uint64{},
		cookieInode: map[uint64]uint64{},
		dead:        map[uint64]bool{},
		index:       newProcIndex(cfg.FS),
		owners:      cfg.Owners,
		cgroupOwner: cfg.CgroupOwner,
		scanPIDs:    cfg.ScanPIDs,
	}
	if r.owners == nil {
		r.owners = flow.NewOwners()
	}
	if len(cfg.OnlyPIDs) > 0 {
		r.only = map[int]bool{}
		for _, pid := range cfg.OnlyPIDs {
			r.only[pid] = true
		}
	}
	return r
}

// Resolve finds the owners of keys, writing them to owners (which must be
// as long as keys): flow.Unresolved where no process owns the
// flow's socket (yet, or any more). It reads the socket tables once, and
// scans /proc/PID/fd only when a socket's inode is not known yet.
func (r *Resolver) Resolve(keys []flow.Key, owners []flow.Owner) error {
	if r.diag == nil {
		if err := r.readTables(); err != nil {
			return err
		}
	}
	// First the sockets' inodes, then one fd scan for all the inodes the
	// index does not know yet.
	found := make([]DiagSocket, len(keys))
	inodes := make([]uint64, len(keys))
	var wanted map[uint64]wantedSocket
	for i, k := range keys {
		s, err := r.lookup(k)
		if err != nil {
			return err
		}
		found[i] = s
		r.noteCookie(s)
		inode := s.Inode
		if inode != 0 && r.isClosed(k, s.Cookie) {
			continue // closed since the lookup: no process has it
		}
		if inode == 0 {
			inode = s.Listener
		}
		inodes[i] = inode
		if inode == 0 {
			continue
		}
		h, known := r.inodeOwner[inode]
		if known {
			if at, ok := r.fs.SocketAt(h.id.pid, int(h.fd)); !ok || at != inode {
				delete(r.inodeOwner, inode) // handed on, or closed there
				known = false
			}
		}
		if !known {
			if wanted == nil {
				wanted = map[uint64]wantedSocket{}
			}
			wanted[inode] = wantedSocket{key: k, cookie: s.Cookie}
		}
	}
	if len(wanted) > 0 {
		if err := r.scanFDs(wanted); err != nil {
			return err
		}
	}
	for i, inode := range inodes {
		owners[i] = flow.Unresolved
		h, ok := r.inodeOwner[inode]
		id := h.id
		if inode == 0 || !ok || (r.only != nil && !r.only[id.pid]) {
			continue
		}
		owners[i] = r.ownerOf(id)
		s := found[i]
		if owners[i] != flow.Unresolved {
			r.noteRecent(id, h.fd)
			y := youngFlow{key: keys[i], inode: inode, cookie: s.Cookie, owner: owners[i], left: recheckPasses}
			if s.Inode == 0 {
				// The listener's: until the connection is accepted, or
				// for good if it was closed unaccepted.
				y.left, y.provisional = provisionalPasses, s.AwaitingAccept()
			}
			if y.left > 0 && len(r.young) < maxYoung && (s.Inode != 0 || y.provisional) {
				r.young = append(r.young, y)
				if y.provisional {
					r.provisional[y.key] = true
				}
			}
		}
		if owners[i] == flow.Unresolved {
			// The process the index names is gone (or its PID reused):
			// forget it, so the next attempt scans for the socket's new
			// holder (a daemon's child that inherited it, say).
			delete(r.inodeOwner, inode)
		}
	}
	if r.cgroupOwner != nil && r.only == nil {
		for i := range owners {
			if owners[i] != flow.Unresolved {
				continue
			}
			id := found[i].CgroupID
			if r.deferCgroup {
				var missed bool
				if id, missed = r.deferredCgroup(keys[i], id); !missed {
					continue
				}
			}
			if id != 0 {
				owners[i] = r.cgroupOf(id)
			}
		}
	}
	return nil
}

// DeferCgroupOwners makes the cgroup fallback (ResolverConfig.CgroupOwner)
// wait for a flow's second lookup: the first that finds no process
// leaves the flow unresolved and remembers the cgroup its socket told.
// For a Resolver behind the kernel's socket events, whose record of a
// connection may come after the first lookup (made at its SYN): the
// monitor retries unresolved flows, and the events name the process
// then; only what they do not know goes to its cgroup's row, at the
// retry, with the cgroup of the first lookup if the socket has gone
// since. Call it before Resolve is first called.
func (r *Resolver) DeferCgroupOwners() {
	r.deferCgroup = true
	r.pendingCgroup = map[flow.Key]uint64{}
}

// maxPendingCgroup bounds the flows DeferCgroupOwners remembers; when
// full they are forgotten (each then waits for one more lookup).
const maxPendingCgroup = 4096

// deferredCgroup is the cgroup id to fall back on for flow k, whose lookup
// now found no process and told cgroup id (0: none), and whether this is
// k's second miss; at its first it remembers id and reports false.
func (r *Resolver) deferredCgroup(k flow.Key, id uint64) (uint64, bool) {
	first, seen := r.pendingCgroup[k]
	if !seen {
		if len(r.pendingCgroup) >= maxPendingCgroup {
			clear(r.pendingCgroup) // flows long resolved or gone, mostly
		}
		r.pendingCgroup[k] = id
		return 0, false
	}
	delete(r.pendingCgroup, k)
	if id == 0 {
		id = first // the socket has gone since: its first lookup's cgroup
	}
	return id, true
}

// cgroupOf returns the owner number of cgroup id, registering it, or
// Unresolved when CgroupOwner names nothing there (the root cgroup), or
// too many are registered.
func (r *Resolver) cgroupOf(id uint64) flow.Owner {
	p, ok := r.cgroupOwner(id)
	if !ok {
		return flow.Unresolved
	}
	p.CgroupID = id
	o, _ := r.owners.InternCgroup(p)
	return o
}

// youngFlow is a flow Resolve found an owner for, to be checked again.
type youngFlow struct {
	key    flow.Key
	inode  uint64 // its socket's, or the listener's while provisional
	cookie uint64 // its socket's; 0 while provisional or from the tables
	owner  flow.Owner
	left   int  // Recheck calls to go
	stop   bool // this Recheck found it closed: keep its owner, follow no more
	// provisional: a connection not accepted yet, owned by the
	// listener's process.
	provisional bool
}

// recheckPasses is how many Recheck calls look at a flow again after
// Resolve found its owner, provisionalPasses how many look for the
// accepted socket of a provisional one (hogs calls Recheck at most once a
// second: a server accepting a minute late keeps the listener's process);
// maxYoung bounds how many flows they follow.
const (
	recheckPasses     = 3
	provisionalPasses = 60
	maxYoung          = 4096
)

// Recheck looks again at the flows Resolve found owners for during its
// last recheckPasses calls (hogs calls it at most once a second), and
// calls changed for each whose socket has another owner now (changed
// reports whether the flow still exists; if not, it is not followed any
// more). A socket is
// often resolved while its first holder still has it: a forking server
// accepts a connection, forks, and only then closes its copy, so the
// connection is the child's although the parent held it first. Checking
// that the holder still has the socket costs one readlink per flow; when
// it does not, one lookup tells a closed socket (the flow keeps its owner)
// from one handed on, and only for those are the processes scanned again.
// A socket SocketClosed named costs nothing: neither lookup nor scan.
//
// A provisional flow (Provisional) is looked up once per call, for up to
// provisionalPasses calls, until its accepted socket shows up: then the
// process holding that socket owns it (changed is called if that is
// another process than the listener's). One closed before it was accepted
// stays the listener's.
func (r *Resolver) Recheck(changed func(flow.Key, flow.Owner) bool) error {
	if len(r.young) == 0 {
		return nil
	}
	var wanted map[uint64]wantedSocket
	want := func(y *youngFlow) {
		if wanted == nil {
			wanted = map[uint64]wantedSocket{}
		}
		wanted[y.inode] = wantedSocket{key: y.key, cookie: y.cookie}
	}
	tablesRead := false
	lookup := func(k flow.Key) (DiagSocket, error) {
		if r.diag == nil && !tablesRead {
			if err := r.readTables(); err != nil {
				return DiagSocket{}, err
			}
			tablesRead = true
		}
		return r.lookup(k)
	}
	for i := range r.young {
		y := &r.young[i]
		y.left--
		if r.isClosed(y.key, y.cookie) {
			y.stop = true // closed: the flow keeps its last owner
			continue
		}
		if y.provisional {
			// Accepted yet? One lookup per pass.
			s, err := lookup(y.key)
			switch {
			case err != nil:
				y.stop = true
				continue
			case s.Inode != 0:
				y.inode, y.cookie, y.left = s.Inode, s.Cookie, recheckPasses
				y.provisional = false
				delete(r.provisional, y.key)
				r.noteCookie(s)
				want(y) // find the accepting process
				continue
			case !s.AwaitingAccept():
				y.stop = true // closed unaccepted: the listener's for good
				continue
			case s.Listener != 0:
				y.inode = s.Listener
			}
		}
		if h, ok := r.inodeOwner[y.inode]; ok {
			if at, held := r.fs.SocketAt(h.id.pid, int(h.fd)); held && at == y.inode {
				continue
			}
			delete(r.inodeOwner, y.inode) // handed on, or closed
		}
		if !y.provisional {
			// Closed, most likely (a short connection): ask the kernel
			// before scanning every process for a socket that no longer
			// exists.
			if s, err := lookup(y.key); err != nil || s.Inode != y.inode {
				y.stop = true // gone: the flow keeps its last owner
				continue
			}
		}
		want(y)
	}
	if len(wanted) > 0 {
		if err := r.scanFDs(wanted); err != nil {
			return err
		}
	}
	keep := r.young[:0]
	for _, y := range r.young {
		h, ok := r.inodeOwner[y.inode]
		if y.stop || !ok {
			// Closed, or found nowhere: the flow keeps its last owner.
			delete(r.provisional, y.key)
			continue
		}
		owner := flow.Unresolved
		if r.only == nil || r.only[h.id.pid] {
			owner = r.ownerOf(h.id)
		}
		if owner != y.owner {
			if !changed(y.key, owner) {
				delete(r.provisional, y.key)
				continue
			}
			y.owner = owner
		}
		if y.left > 0 {
			keep = append(keep, y)
		} else {
			delete(r.provisional, y.key) // never accepted: the listener's
		}
	}
	clear(r.young[len(keep):])
	r.young = keep
	return nil
}

// Provisional reports whether flow k's owner is the process listening
// where the connection arrived, while the connection waits to be
// accepted: Recheck moves it to the accepting process.
func (r *Resolver) Provisional(k flow.Key) bool { return r.provisional[k] }

// SocketClosed records that the socket of a connection has closed (a
// socket-destroy event): its flow is not searched for any more. cookie is
// the socket's (0: whatever socket had these ends), so that a new
// connection reusing the ends is not mistaken for it. Safe to call from
// another goroutine.
func (r *Resolver) SocketClosed(proto uint8, local, remote netip.AddrPort, cookie uint64) {
	if remote.Port() == 0 {
		return // an unconnected socket: its flows are looked up by bind
	}
	k := unmappedConn(proto, local, remote)
	r.closedMu.Lock()
	defer r.closedMu.Unlock()
	if len(r.closed) >= maxClosed {
		clear(r.closed) // the oldest are of flows long resolved or gone
	}
	r.closed[k] = cookie
	if inode, ok := r.cookieInode[cookie]; ok && cookie != 0 {
		delete(r.cookieInode, cookie)
		if len(r.dead) >= maxClosed {
			clear(r.dead) // not drained for long: the index rereads more
		}
		r.dead[inode] = true
	}
}

// noteCookie remembers which inode socket s's cookie names, for
// SocketClosed.
func (r *Resolver) noteCookie(s DiagSocket) {
	if s.Cookie == 0 || s.Inode == 0 {
		return
	}
	r.closedMu.Lock()
	defer r.closedMu.Unlock()
	if len(r.cookieInode) >= maxClosed {
		clear(r.cookieInode) // the oldest are of sockets long closed
	}
	r.cookieInode[s.Cookie] = s.Inode
}

// takeDead returns the inodes of sockets SocketClosed found closed since
// the last call, or nil.
func (r *Resolver) takeDead() map[uint64]bool {
	r.closedMu.Lock()
	defer r.closedMu.Unlock()
	if len(r.dead) == 0 {
		return nil
	}
	d := r.dead
	r.dead = map[uint64]bool{}
	return d
}

// maxClosed bounds the closed sockets remembered.
const maxClosed = 1 << 16

// isClosed reports whether SocketClosed named flow k's socket: the one
// with this cookie, when both are known.
func (r *Resolver) isClosed(k flow.Key, cookie uint64) bool {
	r.closedMu.Lock()
	defer r.closedMu.Unlock()
	if len(r.closed) == 0 {
		return false
	}
	c, ok := r.closed[unmappedConn(k.Proto, k.Local, k.Remote)]
	return ok && (c == 0 || cookie == 0 || c == cookie)
}

func unmappedConn(proto uint8, local, remote netip.AddrPort) connKey {
	return connKey{proto, netip.AddrPortFrom(local.Addr().Unmap(), local.Port()), netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())}
}

// lookup finds what is known of flow k's socket: through sock_diag, or in
// the last table read.
func (r *Resolver) lookup(k flow.Key) (DiagSocket, error) {
	if r.diag == nil {
		return r.tableLookup(k), nil
	}
	r.lookups.Add(1)
	s, err := r.diag.Lookup(k.Proto, k.Local, k.Remote)
	if errors.Is(err, ErrSockDiagUnsupported) {
		// This kernel cannot answer: read the tables from now on.
		r.diag = nil
		if err := r.readTables(); err != nil {
			return DiagSocket{}, err
		}
		return r.tableLookup(k), nil
	}
	return s, err
}

// tableLookup finds the socket of flow k in the last table read, as
// SockDiag.Lookup does through the kernel (without cookie and cgroup).
func (r *Resolver) tableLookup(k flow.Key) DiagSocket {
	c := unmappedConn(k.Proto, k.Local, k.Remote)
	row := r.conns[c]
	if row.inode != 0 {
		return DiagSocket{Inode: row.inode, State: row.state}
	}
	bound := r.boundAt(k.Proto, c.local)
	if k.Proto == ProtoUDP {
		// Unconnected UDP: a socket bound to the local address, or to a
		// wildcard address on the local port.
		if bound != 0 {
			return DiagSocket{Inode: bound, State: TCPClose}
		}
		return DiagSocket{State: row.state}
	}
	return DiagSocket{State: row.state, Listener: bound}
}

// boundAt finds the listening (TCP) or unconnected (UDP) socket bound to
// local, or to a wildcard address on its port, in the last table read.
func (r *Resolver) boundAt(proto uint8, local netip.AddrPort) uint64 {
	if inode := r.binds[bindKey{proto, local}]; inode != 0 {
		return inode
	}
	port := local.Port()
	if local.Addr().Is4() {
		if inode := r.binds[bindKey{proto, netip.AddrPortFrom(netip.IPv4Unspecified(), port)}]; inode != 0 {
			return inode
		}
	}
	return r.binds[bindKey{proto, netip.AddrPortFrom(netip.IPv6Unspecified(), port)}]
}

// readTables rebuilds the socket indexes from the four tables.
func (r *Resolver) readTables() error {
	clear(r.conns)
	clear(r.binds)
	r.reads.Add(1)
	add := func(s Socket) {
		c := unmappedConn(s.Proto, s.Local, s.Remote)
		if c.remote.Port() != 0 {
			// Rows without an inode (TIME_WAIT, not accepted yet) are
			// kept too: the connection is there, its listener owns it.
			if s.Inode != 0 || r.conns[c].inode == 0 {
				r.conns[c] = connRow{inode: s.Inode, state: s.State}
			}
			return
		}
		if s.Inode == 0 || (s.Proto == ProtoTCP && s.State != TCPListen) {
			return // a TCP socket bound but neither listening nor connected
		}
		// Listening or unconnected. An IPv4-mapped or :: bind serves
		// IPv4 too; Unmap made the mapped ones plain IPv4 already.
		r.binds[bindKey{s.Proto, c.local}] = s.Inode
	}
	for _, table := range [...]string{"tcp", "tcp6", "udp", "udp6"} {
		_, err := r.tables.SocketTable(table, 0, add)
		if err != nil && !errors.Is(err, ErrNoProcess) && !errors.Is(err, fs.ErrNotExist) {
			// (A kernel without IPv6 has no tcp6/udp6: not an error.)
			return err
		}
	}
	return nil
}

// maxIndexedInodes bounds the inode → process index; past it the index
// starts over (inodes of closed sockets otherwise pile up in it).
const maxIndexedInodes = 1 << 20

// holder is where an fd scan saw a socket.
type holder struct {
	id   procID
	fd   int32
	pass uint32 // the scan that saw it
}

// maxRecent is how many recent owners scanFDs tries before the others;
// maxProbe the most tasks created since its last listing of /proc it
// looks at one by one instead of listing /proc again.
// maxHot is how many recent owners have their last socket's descriptor read
// first.
const (
	maxRecent = 16
	maxProbe  = 64
	maxHot    = 4
)

// wantedSocket is a socket scanFDs looks for: a flow it belongs to (or
// whose listener it is), and its cookie (0: unknown), to ask the kernel
// whether it still exists.
type wantedSocket struct {
	key    flow.Key
	cookie uint64
}

// scanFDs walks /proc/PID/fd adding every socket it sees to the inode →
// process index, until it has found all the wanted inodes, in the order
// a new socket is likeliest found in:
//
//  1. for each of the latest owners, the descriptor its last socket was
//     at (one readlink: a client opening connections one after another
//     gets the same number back);
//  2. the processes that owned the latest resolved flows;
//  3. the tasks created since /proc was last listed (/proc/loadavg's last
//     PID), newest first, walked before asking whose they are (a thread
//     shares its process's descriptors; a short-lived process's socket is
//     gone a few system calls later), those with many descriptors left to
//     4;
//  4. every process of the index (procIndex), those in hogs's network
//     namespace first, newest first, the descriptors of big ones from the
//     index's cache; then, for a socket still there but not found, the
//     big ones again reading every link (a descriptor number reused).
//
// Before every walk but the first it asks the kernel whether any wanted
// socket still exists (a sock_diag lookup, microseconds; a socket-destroy
// event, nothing): a millisecond connection is often closed by the time
// its lookup runs, and walking on would find nothing. Such a scan is
// counted as in vain (Stats).
func (r *Resolver) scanFDs(wanted map[uint64]wantedSocket) error {
	r.scans.Add(1)
	if len(r.inodeOwner) > maxIndexedInodes {
		clear(r.inodeOwner)
	}
	// Sockets closed since the last scan: the descriptor that held each
	// is read again at the next walk of its process (it may be a new
	// socket under the same number now).
	for inode := range r.takeDead() {
		if h, ok := r.inodeOwner[inode]; ok {
			r.index.forget(h.id.pid, int(h.fd))
			delete(r.inodeOwner, inode)
		}
	}
	missing := len(wanted)
	r.scanPass++
	pass := r.scanPass
	found := func(inode uint64) bool {
		h, ok := r.inodeOwner[inode]
		return ok && h.pass == pass
	}
	// alive reports whether a wanted socket not found yet still exists.
	alive := func() bool {
		for inode, w := range wanted {
			if found(inode) || r.isClosed(w.key, w.cookie) {
				continue
			}
			if r.diag == nil {
				return true // the tables cost more than they would save
			}
			s, err := r.lookup(w.key)
			if err == nil && (s.Inode == inode || s.Listener == inode) {
				return true
			}
		}
		return false
	}
	scan := func(id procID, full bool) {
		links, err := r.index.walk(id.pid, id.start, !full, func(fd int, inode uint64, cached bool) {
			if inode == 0 {
				return
			}
			if _, ok := wanted[inode]; cached && !ok {
				return // seen by an earlier walk, in inodeOwner since
			}
			old, seen := r.inodeOwner[inode]
			if seen && old.pass == pass {
				// Held by several processes (a socket being handed on):
				// the first seen in this walk keeps it. The walk goes
				// newest first, so a child beats the parent that passed
				// it on.
				return
			}
			if _, ok := wanted[inode]; ok {
				missing--
			}
			r.inodeOwner[inode] = holder{id: id, fd: int32(fd), pass: pass}
		})
		r.links.Add(uint64(links))
		// Errors: the process is gone, or it is another user's and hogs
		// lacks cap_sys_ptrace/cap_dac_read_search: its flows stay
		// unresolved.
		_ = err
	}
	// Before each walk but the first: is any wanted socket still there?
	walks := 0
	gone := func() bool {
		walks++
		if walks > 1 && !alive() {
			r.vain.Add(1)
			return true
		}
		return false
	}
	// big are the processes walked trusting their cache, for the second
	// pass.
	var big []procID
	tried := make(map[int]bool, len(r.recent))
	// Recent owners that exited are forgotten once this scan ends.
	var stale []procID
	defer func() {
		if len(stale) > 0 {
			r.recent = slices.DeleteFunc(r.recent, func(x recentOwner) bool { return slices.Contains(stale, x.id) })
		}
	}()
	// First one readlink per recent owner, at the descriptor its last
	// socket was at: a process that opens and closes connections one
	// after another gets the same number back for the next (the lowest
	// free one), and a millisecond connection is gone before a whole walk
	// ends. Its start time is checked after: the PID could name another
	// process by now.
	for _, x := range r.recent[:min(len(r.recent), maxHot)] {
		inode, ok := r.fs.SocketAt(x.id.pid, int(x.fd))
		r.links.Add(1)
		if _, want := wanted[inode]; !ok || !want || found(inode) {
			continue
		}
		if start, err := r.fs.StartTime(x.id.pid); err == nil && start == x.id.start {
			r.inodeOwner[inode] = holder{id: x.id, fd: x.fd, pass: pass}
			missing--
		}
	}
	for _, x := range r.recent {
		id := x.id
		if missing == 0 {
			return nil
		}
		tried[id.pid] = true
		start, err := r.fs.StartTime(id.pid)
		if err != nil || start != id.start {
			stale = append(stale, id)
			continue
		}
		if gone() {
			return nil
		}
		if r.index.big(id.pid) {
			big = append(big, id)
		}
		scan(id, false)
	}
	if missing == 0 {
		return nil
	}
	// The tasks created since the last listing, newest first, without
	// listing /proc: a new connection often comes from a new process.
	// Threads share their process's descriptors, so the newest task finds
	// a new process's socket; it is then its process's (Tgid).
	last, lastErr := r.fs.LastPID()
	if from, to, ok := r.index.newPIDs(last, lastErr); ok && to-from <= maxProbe {
		for tid := to; tid > from && missing > 0; tid-- {
			if tried[tid] {
				continue
			}
			tried[tid] = true
			if gone() {
				return nil
			}
			// The walk first, who it is after: a short-lived process's
			// socket may be gone a few system calls later. A process with
			// many descriptors is left to the walk below, which knows
			// them.
			type hit struct {
				fd    int32
				inode uint64
			}
			var hits []hit
			links, err := r.fs.walkFDsUpTo(tid, bigProcess, nil, func(fd int, inode uint64, _ bool) {
				if _, ok := wanted[inode]; ok && !found(inode) {
					hits = append(hits, hit{int32(fd), inode})
				}
			})
			r.links.Add(uint64(links))
			if err != nil || len(hits) == 0 {
				continue
			}
			tgid, err := r.fs.Tgid(tid)
			if err != nil {
				continue
			}
			start, err := r.fs.StartTime(tgid)
			if err != nil {
				continue
			}
			tried[tgid] = true
			for _, h := range hits {
				r.inodeOwner[h.inode] = holder{id: procID{tgid, start}, fd: h.fd, pass: pass}
				missing--
			}
		}
	}
	if missing == 0 {
		return nil
	}
	listed, err := r.index.refreshAt(last, lastErr)
	if listed {
		r.listings.Add(1)
	}
	if err != nil {
		return err
	}
	for _, pid := range r.index.order {
		if missing == 0 {
			return nil
		}
		if tried[pid] || r.scanPIDs != nil && !r.scanPIDs(pid) {
			continue
		}
		start, err := r.fs.StartTime(pid)
		if err != nil {
			r.index.drop(pid)
			continue // vanished, or unreadable
		}
		if gone() {
			return nil
		}
		if r.index.big(pid) {
			big = append(big, procID{pid, start})
		}
		scan(procID{pid, start}, false)
	}
	for _, id := range big {
		// The second pass: a socket under a descriptor number reused
		// since the cache read it.
		if missing == 0 {
			return nil
		}
		if gone() {
			return nil
		}
		scan(id, true)
	}
	if missing > 0 && !alive() {
		r.vain.Add(1)
	}
	return nil
}

// recentOwner is a process that owned a flow lately, and the descriptor
// its socket was at.
type recentOwner struct {
	id procID
	fd int32
}

// noteRecent moves id to the front of the recent owners, with fd the
// descriptor its latest socket was found at.
func (r *Resolver) noteRecent(id procID, fd int32) {
	r.recent = slices.DeleteFunc(r.recent, func(x recentOwner) bool { return x.id == id })
	r.recent = slices.Insert(r.recent, 0, recentOwner{id, fd})
	if len(r.recent) > maxRecent {
		r.recent = r.recent[:maxRecent]
	}
}

// ownerOf returns the owner number of a process, registering it.
func (r *Resolver) ownerOf(id procID) flow.Owner {
	if o, ok := r.owners.Find(id.pid, id.start); ok {
		return o
	}
	p, err := r.fs.Process(id.pid)
	if err != nil || p.StartTime != id.start {
		return flow.Unresolved // gone, or the PID was reused meanwhile
	}
	return r.owners.Intern(flow.Process{PID: p.PID, StartTime: p.StartTime, Name: p.Name, Cmdline: p.Cmdline,
		UID: p.UID, User: r.users.Name(p.UID), NSPID: p.NSPID})
}

// ResolverStats counts the resolver's work, for the bug-hunt output.
type ResolverStats struct {
	TableReads, SockDiagLookups, FDScans uint64
	// ScansInVain counts fd scans that stopped, or ended, without their
	// socket because it had closed meanwhile (the issue's "fd scans for a
	// closed socket"); a socket known closed before is not scanned for.
	ScansInVain uint64
	// FDLinks counts the descriptor links read; ProcListings the
	// listings of /proc.
	FDLinks, ProcListings uint64
}

// Stats returns the resolver's counters. It may be called while another
// goroutine resolves.
func (r *Resolver) Stats() ResolverStats {
	return ResolverStats{TableReads: r.reads.Load(), SockDiagLookups: r.lookups.Load(), FDScans: r.scans.Load(),
		ScansInVain: r.vain.Load(), FDLinks: r.links.Load(), ProcListings: r.listings.Load()}
}

// Alive reports whether process p still runs (its PID has not been reused
// since): the monitor folds the rows of exited processes. A cgroup's row
// is no process: false.
func (r *Resolver) Alive(p flow.Process) bool {
	if p.IsCgroup() {
		return false
	}
	start, err := r.fs.StartTime(p.PID)
	return err == nil && start == p.StartTime
}

// Owners returns the registry the Resolver numbers processes in.
func (r *Resolver) Owners() *flow.Owners { return r.owners }

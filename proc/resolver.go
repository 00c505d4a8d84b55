package proc

import (
	"errors"
	"io/fs"
	"net/netip"
	"slices"
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
// Resolve and Recheck are meant for one goroutine; Stats may be called
// concurrently with them.
type Resolver struct {
	fs     FS
	diag   *SockDiag // nil: look sockets up in the /proc/net tables
	tables SocketTableReader
	users  Users
	only   map[int]bool // -P: attribute only to these PIDs

	// Rebuilt on every table read.
	conns map[connKey]uint64
	binds map[bindKey]uint64

	// inode → the process and descriptor it was last seen at, added to by
	// every fd scan and checked (one readlink) before it is trusted: a
	// socket handed on (accept, then fork and close) moves to another
	// process.
	inodeOwner map[uint64]holder
	scanPass   uint32
	pidBuf     []int
	// recent are the processes that owned the latest resolved flows, most
	// recent first: the next new socket is most likely theirs.
	recent []procID
	// young are the flows resolved lately, which Recheck looks at again.
	young []youngFlow

	owners *flow.Owners

	// Counters, read by Stats from other goroutines.
	scans, reads, lookups atomic.Uint64
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
}

// NewResolver returns a Resolver reading cfg.FS.
func NewResolver(cfg ResolverConfig) *Resolver {
	r := &Resolver{
		fs:         cfg.FS,
		diag:       cfg.SockDiag,
		tables:     SocketTableReader{FS: cfg.FS},
		users:      Users{PasswdPath: cfg.PasswdPath},
		conns:      map[connKey]uint64{},
		binds:      map[bindKey]uint64{},
		inodeOwner: map[uint64]holder{},
		owners:     cfg.Owners,
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
	inodes := make([]uint64, len(keys))
	var wanted map[uint64]bool
	for i, k := range keys {
		inode, err := r.lookupInode(k)
		if err != nil {
			return err
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
				wanted = map[uint64]bool{}
			}
			wanted[inode] = true
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
		if owners[i] != flow.Unresolved {
			r.noteRecent(id)
			if len(r.young) < maxYoung {
				r.young = append(r.young, youngFlow{key: keys[i], inode: inode, owner: owners[i], left: recheckPasses})
			}
		}
		if owners[i] == flow.Unresolved {
			// The process the index names is gone (or its PID reused):
			// forget it, so the next attempt scans for the socket's new
			// holder (a daemon's child that inherited it, say).
			delete(r.inodeOwner, inode)
		}
	}
	return nil
}

// youngFlow is a flow Resolve found an owner for, to be checked again.
type youngFlow struct {
	key   flow.Key
	inode uint64
	owner flow.Owner
	left  int // Recheck calls to go
}

// recheckPasses is how many Recheck calls look at a flow again after
// Resolve found its owner; maxYoung bounds how many flows they follow.
const (
	recheckPasses = 3
	maxYoung      = 4096
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
func (r *Resolver) Recheck(changed func(flow.Key, flow.Owner) bool) error {
	if len(r.young) == 0 {
		return nil
	}
	var wanted map[uint64]bool
	tablesRead := false
	for i := range r.young {
		y := &r.young[i]
		y.left--
		if h, ok := r.inodeOwner[y.inode]; ok {
			if at, held := r.fs.SocketAt(h.id.pid, int(h.fd)); held && at == y.inode {
				continue
			}
			delete(r.inodeOwner, y.inode) // handed on, or closed
		}
		// Closed, most likely (a short connection): ask the kernel before
		// scanning every process for a socket that no longer exists.
		if r.diag == nil && !tablesRead {
			if err := r.readTables(); err != nil {
				return err
			}
			tablesRead = true
		}
		if inode, err := r.lookupInode(y.key); err != nil || inode != y.inode {
			y.left = 0 // gone: the flow keeps its last owner
			continue
		}
		if wanted == nil {
			wanted = map[uint64]bool{}
		}
		wanted[y.inode] = true
	}
	if len(wanted) > 0 {
		if err := r.scanFDs(wanted); err != nil {
			return err
		}
	}
	keep := r.young[:0]
	for _, y := range r.young {
		h, ok := r.inodeOwner[y.inode]
		if !ok {
			continue // closed, or found nowhere: the flow keeps its last owner
		}
		owner := flow.Unresolved
		if r.only == nil || r.only[h.id.pid] {
			owner = r.ownerOf(h.id)
		}
		if owner != y.owner {
			if !changed(y.key, owner) {
				continue
			}
			y.owner = owner
		}
		if y.left > 0 {
			keep = append(keep, y)
		}
	}
	clear(r.young[len(keep):])
	r.young = keep
	return nil
}

// lookupInode finds the inode of flow k's socket, 0 if it has none.
func (r *Resolver) lookupInode(k flow.Key) (uint64, error) {
	if r.diag == nil {
		return r.inodeOf(k), nil
	}
	r.lookups.Add(1)
	inode, _, err := r.diag.Lookup(k.Proto, k.Local, k.Remote)
	if errors.Is(err, ErrSockDiagUnsupported) {
		// This kernel cannot answer: read the tables from now on.
		r.diag = nil
		if err := r.readTables(); err != nil {
			return 0, err
		}
		return r.inodeOf(k), nil
	}
	return inode, err
}

// inodeOf finds the socket of flow k in the last table read; 0 if none.
func (r *Resolver) inodeOf(k flow.Key) uint64 {
	local := netip.AddrPortFrom(k.Local.Addr().Unmap(), k.Local.Port())
	remote := netip.AddrPortFrom(k.Remote.Addr().Unmap(), k.Remote.Port())
	if inode := r.conns[connKey{k.Proto, local, remote}]; inode != 0 {
		return inode
	}
	// A TCP flow belongs to its connected socket only: before accept()
	// that socket has no inode yet, and the listener's owner need not be
	// the process that will accept (forking servers), so the flow stays
	// unresolved and is retried.
	if k.Proto != ProtoUDP {
		return 0
	}
	// Unconnected UDP: a socket bound to the local address, or to a
	// wildcard address on the local port.
	if inode := r.binds[bindKey{k.Proto, local}]; inode != 0 {
		return inode
	}
	port := local.Port()
	if local.Addr().Is4() {
		if inode := r.binds[bindKey{k.Proto, netip.AddrPortFrom(netip.IPv4Unspecified(), port)}]; inode != 0 {
			return inode
		}
	}
	return r.binds[bindKey{k.Proto, netip.AddrPortFrom(netip.IPv6Unspecified(), port)}]
}

// readTables rebuilds the socket indexes from the four tables.
func (r *Resolver) readTables() error {
	clear(r.conns)
	clear(r.binds)
	r.reads.Add(1)
	add := func(s Socket) {
		if s.Inode == 0 {
			return // TIME_WAIT, or not accepted yet: no process holds it
		}
		local := netip.AddrPortFrom(s.Local.Addr().Unmap(), s.Local.Port())
		remote := netip.AddrPortFrom(s.Remote.Addr().Unmap(), s.Remote.Port())
		if remote.Port() != 0 {
			r.conns[connKey{s.Proto, local, remote}] = s.Inode
			return
		}
		// Listening or unconnected. An IPv4-mapped or :: bind serves
		// IPv4 too; Unmap made the mapped ones plain IPv4 already.
		r.binds[bindKey{s.Proto, local}] = s.Inode
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

// maxRecent is how many recent owners scanFDs tries before the others.
const maxRecent = 16

// scanFDs walks /proc/PID/fd adding every socket it sees to the inode →
// process index, until it has found all the wanted inodes: first the
// processes that owned the latest resolved flows (a client or server that
// made one connection usually makes the next), then every other process,
// newest first (a new connection often comes with a new process). Either
// way the walk stops long before it reads processes that hold thousands of
// idle sockets, unless the socket is theirs.
func (r *Resolver) scanFDs(wanted map[uint64]bool) error {
	r.scans.Add(1)
	if len(r.inodeOwner) > maxIndexedInodes {
		clear(r.inodeOwner)
	}
	missing := len(wanted)
	r.scanPass++
	pass := r.scanPass
	scan := func(id procID) {
		err := r.fs.SocketInodes(id.pid, func(fd int, inode uint64) {
			old, seen := r.inodeOwner[inode]
			if seen && old.pass == pass {
				// Held by several processes (a socket being handed on):
				// the first seen in this walk keeps it. The walk goes
				// newest first, so a child beats the parent that passed
				// it on.
				return
			}
			if wanted[inode] {
				missing--
			}
			r.inodeOwner[inode] = holder{id: id, fd: int32(fd), pass: pass}
		})
		// Errors: the process is gone, or it is another user's and hogs
		// lacks cap_sys_ptrace/cap_dac_read_search: its flows stay
		// unresolved.
		_ = err
	}
	tried := make(map[int]bool, len(r.recent))
	for _, id := range r.recent {
		if missing == 0 {
			return nil
		}
		tried[id.pid] = true
		if start, err := r.fs.StartTime(id.pid); err == nil && start == id.start {
			scan(id)
		}
	}
	if missing == 0 {
		return nil
	}
	pids, err := r.fs.PIDs(r.pidBuf[:0])
	if err != nil {
		return err
	}
	r.pidBuf = pids
	for i := len(pids) - 1; i >= 0 && missing > 0; i-- {
		pid := pids[i]
		if tried[pid] {
			continue
		}
		start, err := r.fs.StartTime(pid)
		if err != nil {
			continue // vanished, or unreadable
		}
		scan(procID{pid, start})
	}
	return nil
}

// noteRecent moves id to the front of the recent owners.
func (r *Resolver) noteRecent(id procID) {
	if len(r.recent) > 0 && r.recent[0] == id {
		return
	}
	r.recent = slices.DeleteFunc(r.recent, func(x procID) bool { return x == id })
	r.recent = slices.Insert(r.recent, 0, id)
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
		UID: p.UID, User: r.users.Name(p.UID)})
}

// ResolverStats counts the resolver's work, for the bug-hunt output.
type ResolverStats struct {
	TableReads, SockDiagLookups, FDScans uint64
}

// Stats returns the resolver's counters. It may be called while another
// goroutine resolves.
func (r *Resolver) Stats() ResolverStats {
	return ResolverStats{TableReads: r.reads.Load(), SockDiagLookups: r.lookups.Load(), FDScans: r.scans.Load()}
}

// Alive reports whether process p still runs (its PID has not been reused
// since): the monitor folds the rows of exited processes.
func (r *Resolver) Alive(p flow.Process) bool {
	start, err := r.fs.StartTime(p.PID)
	return err == nil && start == p.StartTime
}

// Owners returns the registry the Resolver numbers processes in.
func (r *Resolver) Owners() *flow.Owners { return r.owners }

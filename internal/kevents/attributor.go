package kevents

import (
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/proc"

	"golang.org/x/sys/unix"
)

// records finds what the programs recorded: the kernel's maps, or a fake.
type records interface {
	// flow looks up a flow key (flowKeySize bytes).
	flow(key []byte, r *record) bool
	// port looks up a port key (portKeySize bytes).
	port(key []byte, r *record) bool
	Close() error
}

// Config sets up an Attributor.
type Config struct {
	// Fallback resolves the flows the kernel has no record of (sockets
	// opened before hogs started, protocols and hooks not covered) and
	// confirms accepted connections; nil: none.
	Fallback monitor.Attributor
	// Owners numbers the processes found; share it with Fallback.
	Owners *flow.Owners
	// FS reads what is shown about a process that still runs.
	FS proc.FS
	// PasswdPath is the passwd file for user names; "" means /etc/passwd.
	PasswdPath string
	// NetNS is the inode of the network namespace that flow keys with
	// NetNS 0 are in (0: hogs's own). A key's nonzero NetNS is taken as
	// its namespace's inode.
	NetNS uint32
	// Linger is how long a closed TCP connection's record is trusted
	// after the close (0: DefaultLinger): its packets are counted a little
	// after they were sent.
	Linger time.Duration
	// BTF is the kernel's BTF file ("": /sys/kernel/btf/vmlinux).
	BTF string
}

// DefaultLinger is how long a closed connection's record is used by
// default: the table resolves new flows within a refresh or two.
const DefaultLinger = 5 * time.Second

// maxProvisional bounds the accepted connections waiting for the
// fallback's confirmation; past it, new ones keep the listener's owner.
const maxProvisional = 4096

// confirmPasses is how many Recheck calls ask the fallback about a
// connection attributed to its listener's owner, while it is open.
const confirmPasses = 5

// Attributor finds flows' owners in the kernel's socket records first and
// asks the fallback for the rest (see the package documentation).
// Resolve and Recheck are meant for one goroutine (the monitor's
// resolver); Stats may be called from others.
type Attributor struct {
	rec      records
	fallback monitor.Attributor
	owners   *flow.Owners
	fs       proc.FS
	users    proc.Users
	netns    uint32
	linger   uint64
	now      func() uint64 // CLOCK_MONOTONIC ns, as the programs stamp

	key         [flowKeySize]byte
	missKeys    []flow.Key
	missOwners  []flow.Owner
	missAt      []int
	provisional []provisionalFlow
	confirmKeys []flow.Key
	confirmOut  []flow.Owner

	hits, misses atomic.Uint64
}

// provisionalFlow is an accepted connection attributed to its listener's
// owner, which the fallback may name better while the socket is open.
type provisionalFlow struct {
	key   flow.Key
	owner flow.Owner
	left  int
}

var _ monitor.Attributor = (*Attributor)(nil)

// newAttributor returns an Attributor over rec.
func newAttributor(cfg Config, rec records) (*Attributor, error) {
	a := &Attributor{
		rec:      rec,
		fallback: cfg.Fallback,
		owners:   cfg.Owners,
		fs:       cfg.FS,
		users:    proc.Users{PasswdPath: cfg.PasswdPath},
		netns:    cfg.NetNS,
		linger:   uint64(cfg.Linger),
		now:      monotonicNow,
	}
	if a.owners == nil {
		a.owners = flow.NewOwners()
	}
	if a.fs.Root == "" {
		a.fs = proc.NewFS(proc.DefaultRoot)
	}
	if a.linger == 0 {
		a.linger = uint64(DefaultLinger)
	}
	if a.netns == 0 {
		ino, err := netNSInode("/proc/self/ns/net")
		if err != nil {
			return nil, err
		}
		a.netns = ino
	}
	return a, nil
}

// netNSInode is the inode of a network namespace file (/proc/PID/ns/net,
// or a bind mount such as /run/netns/NAME).
func netNSInode(path string) (uint32, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return uint32(fi.Sys().(*syscall.Stat_t).Ino), nil
}

func monotonicNow() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return uint64(ts.Nano())
}

// Close detaches the programs and frees their maps. Call it after the
// monitor stopped using the Attributor.
func (a *Attributor) Close() error { return a.rec.Close() }

// Resolve writes the owner of each key: the kernel's record of its socket,
// else what the fallback finds, else flow.Unresolved.
func (a *Attributor) Resolve(keys []flow.Key, owners []flow.Owner) error {
	a.missKeys, a.missAt = a.missKeys[:0], a.missAt[:0]
	var r record
	for i, k := range keys {
		if a.find(k, &r) {
			owners[i] = a.intern(&r)
			a.hits.Add(1)
			if r.Flags&recordPassive != 0 && r.Closed == 0 && a.fallback != nil && len(a.provisional) < maxProvisional {
				a.provisional = append(a.provisional, provisionalFlow{key: k, owner: owners[i], left: confirmPasses})
			}
			continue
		}
		a.misses.Add(1)
		owners[i] = flow.Unresolved
		a.missKeys = append(a.missKeys, k)
		a.missAt = append(a.missAt, i)
	}
	if len(a.missKeys) == 0 || a.fallback == nil {
		return nil
	}
	a.missOwners = zeroed(a.missOwners, len(a.missKeys))
	err := a.fallback.Resolve(a.missKeys, a.missOwners)
	for j, i := range a.missAt {
		owners[i] = a.missOwners[j]
	}
	return err
}

// find looks k up in the records: TCP by both ends (as an IPv4 socket
// and as an IPv6 one seeing IPv4 mapped), UDP by local port. A TCP record
// closed longer than the linger ago is stale.
func (a *Attributor) find(k flow.Key, r *record) bool {
	netns := k.NetNS
	if netns == 0 {
		netns = a.netns
	}
	switch k.Proto {
	case flow.TCP:
		for _, family := range [2]uint8{afInet, afInet6} {
			if !flowKey(a.key[:], netns, flow.TCP, family, k.Local, k.Remote) || !a.rec.flow(a.key[:], r) {
				continue
			}
			if r.Closed == 0 || a.now()-r.Closed <= a.linger {
				return true
			}
		}
	case flow.UDP:
		portKey(a.key[:], netns, flow.UDP, k.Local.Port())
		return a.rec.port(a.key[:portKeySize], r)
	}
	return false
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's start time.
const clockTicks = 100

// intern returns the owner number of the record's process: the one
// registered already, else what /proc shows of it while it runs, else
// what the record says (a process that has exited).
func (a *Attributor) intern(r *record) flow.Owner {
	pid := int(r.TGID)
	start := r.StartNS / (uint64(time.Second) / clockTicks)
	if id, ok := a.owners.Find(pid, start); ok {
		return id
	}
	if p, err := a.fs.Process(pid); err == nil && p.StartTime == start {
		return a.owners.Intern(flow.Process{PID: pid, StartTime: start, Name: p.Name, Cmdline: p.Cmdline,
			UID: p.UID, User: a.users.Name(p.UID), NSPID: p.NSPID})
	}
	return a.owners.Intern(flow.Process{PID: pid, StartTime: start, Name: r.CommName(), UID: r.UID, User: a.users.Name(r.UID)})
}

// Recheck runs the fallback's Recheck, then asks the fallback about the
// accepted connections attributed to their listener's owner lately: a
// forking server's child, or a process the socket was passed to, owns
// it once /proc shows it.
func (a *Attributor) Recheck(changed func(flow.Key, flow.Owner) bool) error {
	if a.fallback == nil {
		return nil
	}
	err := a.fallback.Recheck(changed)
	if len(a.provisional) == 0 {
		return err
	}
	// A connection closed since is not asked about: /proc cannot show
	// its socket any more, and asking costs the fallback a search.
	var r record
	open := a.provisional[:0]
	for _, p := range a.provisional {
		if a.find(p.key, &r) && r.Closed == 0 {
			open = append(open, p)
		}
	}
	a.provisional = open
	if len(a.provisional) == 0 {
		return err
	}
	a.confirmKeys = a.confirmKeys[:0]
	for _, p := range a.provisional {
		a.confirmKeys = append(a.confirmKeys, p.key)
	}
	a.confirmOut = zeroed(a.confirmOut, len(a.confirmKeys))
	if ferr := a.fallback.Resolve(a.confirmKeys, a.confirmOut); ferr != nil && err == nil {
		err = ferr
	}
	kept := a.provisional[:0]
	for i, p := range a.provisional {
		o := a.confirmOut[i]
		switch {
		case o != flow.Unresolved && o != p.owner:
			changed(p.key, o)
		case o == flow.Unresolved && p.left > 1:
			p.left--
			kept = append(kept, p)
		}
	}
	a.provisional = kept
	return err
}

// Alive reports whether process p still runs (the fallback's answer, or
// its start time in /proc).
func (a *Attributor) Alive(p flow.Process) bool {
	if a.fallback != nil {
		return a.fallback.Alive(p)
	}
	start, err := a.fs.StartTime(p.PID)
	return err == nil && start == p.StartTime
}

// Stats names the attributor ("kernel", "kernel+" the fallback's name)
// with the fallback's counts: its own map lookups are not socket lookups
// in that sense (see Counts).
func (a *Attributor) Stats() monitor.AttributionStats {
	s := monitor.AttributionStats{Attributor: "kernel"}
	if a.fallback != nil {
		s = a.fallback.Stats()
		s.Attributor = "kernel+" + s.Attributor
	}
	return s
}

// Counts returns how many flows the kernel's records resolved (hits) and
// how many went to the fallback (misses).
func (a *Attributor) Counts() (hits, misses uint64) { return a.hits.Load(), a.misses.Load() }

// zeroed returns s resized to n unresolved owners, reusing its array.
func zeroed(s []flow.Owner, n int) []flow.Owner {
	s = slices.Grow(s[:0], n)[:n]
	clear(s)
	return s
}

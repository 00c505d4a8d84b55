package proc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
)

// procIndex is what the Resolver remembers of the processes between fd
// scans, so that a scan neither lists nor re-reads everything:
//
//   - the processes, each with its start time (the PID and start time name
//     a process across PID reuse), ordered newest first. /proc is listed
//     again only when the last PID the kernel handed out (/proc/loadavg)
//     has moved since the last listing, and only processes new to the
//     listing have their stat read; a process that vanished is dropped
//     when the listing misses it or a walk of it fails.
//   - per process, its descriptors as last seen: descriptor number → the
//     socket inode its link named (0: not a socket).
//
// Descriptor numbers are reused (close(5) and the next socket() is 5
// again), so a cached descriptor may name another socket now. The cache
// is therefore trusted only where that is cheap to make safe:
//
//   - A small process (at most bigProcess descriptors at its last walk) has
//     every link read at every walk, as if there were no cache.
//   - A big one (a server holding thousands of connections) has only the
//     links of descriptors it did not have at its last walk read, and of
//     those whose cached socket is known closed (the Resolver learns a
//     socket's cookie when it looks it up, and the socket-destroy events
//     name closed sockets by cookie): a descriptor closed and reopened as
//     a new socket in between is read again as long as the old socket was
//     one hogs looked up and saw destroyed.
//   - Any other reuse (a socket hogs never looked up, a file, replaced by
//     a new socket under the same number) is caught by a second pass:
//     when a walk of every process did not find a socket that still
//     exists (sock_diag still reports it), the big processes are walked
//     again reading every link. So the cache never loses a socket; at
//     worst it costs what a walk without it costs.
//
// A process whose start time differs from its entry's at a walk is a new
// process under a reused PID: its cache is dropped.
//
// Memory: at most maxProcFDs cached descriptors per process and
// maxCachedFDs over all (about 32 bytes each in the map: 8 MiB at most);
// descriptors past either bound are simply read at every walk. Processes:
// one entry per PID listed (the kernel's pid_max bounds them).
//
// Not safe for concurrent use: the Resolver's goroutine owns it.
type procIndex struct {
	fs     FS
	procs  map[int]*indexedProc
	order  []int // PIDs, newest process first
	listed bool
	// lastPID is the last PID handed out when /proc was last listed (0:
	// unknown, list every time).
	lastPID int
	pidBuf  []int
	cached  int // descriptors cached over all processes
	gen     uint32
	// self is the network namespace hogs looks sockets up in (0:
	// unknown); stale asks the next refresh to list /proc whatever
	// LastPID says.
	self  uint64
	stale bool
	// maxProc and maxTotal bound the descriptors cached per process and
	// over all (maxProcFDs, maxCachedFDs; smaller in tests).
	maxProc, maxTotal int
}

// indexedProc is one process in the index.
type indexedProc struct {
	start uint64
	fds   map[int32]cachedFD
	// nfds is how many descriptors its last walk saw.
	nfds int
	// listed is the listing generation that last showed it.
	listed uint32
	// netns is its network namespace's inode (0: unknown); nsReads how
	// many times it was read (a process may still be between fork and
	// setns, as under ip netns exec, at its first listing).
	netns   uint64
	nsReads uint8
}

// cachedFD is a descriptor as last read: its socket's inode (0: not a
// socket), and the walk that last saw it.
type cachedFD struct {
	inode uint64
	gen   uint32
}

// bigProcess: a process with more descriptors than this at its last walk
// has its cached descriptors trusted (see procIndex).
const bigProcess = 128

// maxProcFDs and maxCachedFDs bound the descriptors cached per process
// and over all processes.
const (
	maxProcFDs   = 1 << 16
	maxCachedFDs = 1 << 18
)

func newProcIndex(fsys FS) *procIndex {
	self, _ := fsys.NetNS(0)
	return &procIndex{fs: fsys, procs: map[int]*indexedProc{}, self: self, maxProc: maxProcFDs, maxTotal: maxCachedFDs}
}

// nsReadsMax is how many listings read a process's network namespace.
const nsReadsMax = 3

// refresh brings the process list up to date: listed again only if a PID
// was handed out since the last listing, stat read only for processes new
// to it. It reports whether it listed /proc.
func (ix *procIndex) refresh() (bool, error) {
	last, err := ix.fs.LastPID()
	return ix.refreshAt(last, err)
}

// newPIDs returns the range of PIDs handed out since the last listing,
// (from, to], given the last PID handed out now; ok is false when that is
// not known (no listing yet, no loadavg, the PIDs wrapped around).
func (ix *procIndex) newPIDs(last int, lastErr error) (from, to int, ok bool) {
	if !ix.listed || ix.lastPID == 0 || lastErr != nil || last < ix.lastPID {
		return 0, 0, false
	}
	return ix.lastPID, last, true
}

// refreshAt is refresh with LastPID's answer read already.
func (ix *procIndex) refreshAt(last int, lastErr error) (bool, error) {
	if ix.listed && !ix.stale && lastErr == nil && last == ix.lastPID {
		return false, nil
	}
	ix.stale = false
	pids, err := ix.fs.PIDs(ix.pidBuf[:0])
	if err != nil {
		return true, err
	}
	ix.pidBuf = pids
	if lastErr != nil {
		last = 0
	}
	ix.listed, ix.lastPID = true, last
	ix.gen++
	for _, pid := range pids {
		p, ok := ix.procs[pid]
		if !ok {
			start, err := ix.fs.StartTime(pid)
			if err != nil {
				continue // vanished, or unreadable
			}
			p = &indexedProc{start: start}
			ix.procs[pid] = p
		}
		p.listed = ix.gen
		if ix.self != 0 && p.nsReads < nsReadsMax {
			p.nsReads++
			p.netns, _ = ix.fs.NetNS(pid)
		}
	}
	for pid, p := range ix.procs {
		if p.listed != ix.gen {
			ix.cached -= len(p.fds)
			delete(ix.procs, pid) // gone: no need to list again for it
		}
	}
	ix.order = ix.order[:0]
	for pid := range ix.procs {
		ix.order = append(ix.order, pid)
	}
	// Processes in hogs's network namespace first (the sockets it looks
	// up are there, and most are held by processes there), newest first.
	slices.SortFunc(ix.order, func(a, b int) int {
		pa, pb := ix.procs[a], ix.procs[b]
		if oa, ob := ix.other(pa), ix.other(pb); oa != ob {
			if ob {
				return -1
			}
			return 1
		}
		if pa.start != pb.start {
			if pa.start > pb.start {
				return -1
			}
			return 1
		}
		return b - a
	})
	return true, nil
}

// other reports whether p is known to be in another network namespace
// than hogs.
func (ix *procIndex) other(p *indexedProc) bool {
	return ix.self != 0 && p.netns != 0 && p.netns != ix.self
}

// drop forgets process pid; the next refresh lists /proc again (it may
// be there under another start time).
func (ix *procIndex) drop(pid int) {
	if p, ok := ix.procs[pid]; ok {
		ix.cached -= len(p.fds)
		delete(ix.procs, pid)
		ix.stale = true
	}
}

// big reports whether process pid had more than bigProcess descriptors at
// its last walk.
func (ix *procIndex) big(pid int) bool {
	p, ok := ix.procs[pid]
	return ok && p.count() > bigProcess
}

// walk reads process pid's descriptors, calling fn for each with its
// socket inode (0: not a socket) and whether it came from the cache.
// With trust, a big process's cached descriptors are believed; without
// it every link is read. start is the process's start time now; a walk of
// a process under a reused PID starts its cache over. It returns the
// links read.
func (ix *procIndex) walk(pid int, start uint64, trust bool, fn func(fd int, inode uint64, cached bool)) (int, error) {
	p, ok := ix.procs[pid]
	if !ok || p.start != start {
		if ok {
			ix.drop(pid)
		}
		p = &indexedProc{start: start, listed: ix.gen}
		ix.procs[pid] = p
	}
	ix.gen++
	gen := ix.gen
	var known func(fd int) (uint64, bool)
	if trust && p.count() > bigProcess && len(p.fds) > 0 {
		known = func(fd int) (uint64, bool) {
			c, ok := p.fds[int32(fd)]
			if !ok {
				return 0, false
			}
			p.fds[int32(fd)] = cachedFD{c.inode, gen}
			return c.inode, true
		}
	}
	n := 0
	links, err := ix.fs.walkFDs(pid, known, func(fd int, inode uint64, cached bool) {
		n++
		if !cached {
			if _, had := p.fds[int32(fd)]; had || (len(p.fds) < ix.maxProc && ix.cached < ix.maxTotal) {
				if p.fds == nil {
					p.fds = map[int32]cachedFD{}
				}
				if !had {
					ix.cached++
				}
				p.fds[int32(fd)] = cachedFD{inode, gen}
			}
		}
		fn(fd, inode, cached)
	})
	if err != nil {
		ix.drop(pid)
		return links, err
	}
	// Descriptors closed since: gone from the listing.
	for fd, c := range p.fds {
		if c.gen != gen {
			delete(p.fds, fd)
			ix.cached--
		}
	}
	p.nfds = n
	return links, nil
}

// forget drops descriptor fd of process pid from the cache: its socket
// closed, so the next walk reads what the number holds now.
func (ix *procIndex) forget(pid, fd int) {
	p, ok := ix.procs[pid]
	if !ok {
		return
	}
	if _, ok := p.fds[int32(fd)]; ok {
		delete(p.fds, int32(fd))
		ix.cached--
	}
}

// count is the descriptors of the last walk (0: never walked).
func (p *indexedProc) count() int { return p.nfds }

// NetNS returns the inode of process pid's network namespace (pid 0: the
// reading process's own, ROOT/self), from the ROOT/PID/ns/net link.
func (fsys FS) NetNS(pid int) (uint64, error) {
	path := fsys.Root + "/self/ns/net"
	if pid != 0 {
		if err := checkPID(pid); err != nil {
			return 0, err
		}
		path = fsys.pidPath(pid, "ns/net")
	}
	target, err := os.Readlink(path)
	if err != nil {
		return 0, processError(pid, err)
	}
	const prefix, suffix = "net:[", "]"
	if len(target) < len(prefix)+len(suffix)+1 || target[:len(prefix)] != prefix || target[len(target)-1:] != suffix {
		return 0, fmt.Errorf("%w: %s -> %q", ErrMalformed, path, target)
	}
	ino, ok := parseDecimal(target[len(prefix):len(target)-1], 1<<64-1)
	if !ok {
		return 0, fmt.Errorf("%w: %s -> %q", ErrMalformed, path, target)
	}
	return ino, nil
}

// LastPID returns the PID the kernel handed out last in the proc root's
// PID namespace: the last field of ROOT/loadavg. It moves whenever a
// process or thread is created, so an unchanged value means the list of
// processes can only have shrunk.
func (fsys FS) LastPID() (int, error) {
	f, err := os.Open(fsys.Root + "/loadavg")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var buf [128]byte
	n, err := io.ReadFull(f, buf[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, err
	}
	pid, ok := parseLastPID(buf[:n])
	if !ok {
		return 0, fmt.Errorf("%w: loadavg %q", ErrMalformed, buf[:n])
	}
	return pid, nil
}

// parseLastPID reads the last field of a loadavg line ("0.10 0.20 0.30
// 1/96 6595"): 5 fields, the 4th running/total, the 5th a PID.
func parseLastPID(b []byte) (int, bool) {
	fields := bytes.Fields(b)
	if len(fields) != 5 || bytes.Count(fields[3], []byte("/")) != 1 {
		return 0, false
	}
	return parsePID(string(fields[4]))
}

package netns

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Namespace is a network namespace found by a Scan.
type Namespace struct {
	// Inode identifies the namespace (its nsfs inode number).
	Inode uint32
	// Self marks the namespace the Scanner was created in.
	Self bool
	// Mount is a bind mount of it ("/run/netns/NAME"), "" if none.
	Mount string
	// PID is the lowest PID of a process in it; 0 if none was seen.
	PID int
	// Processes counts the processes seen in it.
	Processes int
}

// Name is the namespace's bind-mount name (the file name under
// /run/netns or Docker's directory), "" if it has none.
func (n Namespace) Name() string {
	for i := len(n.Mount) - 1; i >= 0; i-- {
		if n.Mount[i] == '/' {
			return n.Mount[i+1:]
		}
	}
	return n.Mount
}

// ScanStats counts what the last Scan read.
type ScanStats struct {
	// Processes is how many processes' namespace links were known.
	Processes int
	// Denied counts processes whose link could not be read (another
	// user's, without CAP_SYS_PTRACE): their namespaces may be missing.
	Denied int
	// Full tells whether every process's link was read again.
	Full bool
}

// Config sets up a Scanner. Empty fields take the defaults.
type Config struct {
	// ProcRoot is the proc file system ("/proc").
	ProcRoot string
	// MountDirs hold namespace bind mounts (DefaultMountDirs).
	MountDirs []string
	// FullEvery is how often every process's link is read again (30 s;
	// RequestFull asks for one sooner).
	FullEvery time.Duration
	// Now is the clock for FullEvery (nil: time.Now).
	Now func() time.Time
}

// DefaultMountDirs are where iproute2 and Docker bind-mount namespaces.
var DefaultMountDirs = []string{"/run/netns", "/run/docker/netns"}

// Scanner finds the host's network namespaces. Scan, Open and Peers are
// serialised by the Scanner; Close ends it.
type Scanner struct {
	procRoot  string
	mountDirs []string
	fullEvery time.Duration
	now       func() time.Time
	self      uint32

	mu       sync.Mutex
	lastFull time.Time
	// wantFull: RequestFull asked for a full pass.
	wantFull bool
	pidNS    map[int]uint32 // PID → namespace inode, as last read
	denied   map[int]bool   // PIDs whose link could not be read
	seen     map[int]bool   // scratch: PIDs listed in this pass
	current  map[uint32]*Namespace
	handles  map[uint32]int   // open namespace fds
	nsids    map[uint32]int32 // namespace → id in the RTNL's namespace (Peers)
	stats    ScanStats
	closed   bool
	// listed: the processes were listed when the last PID given out was
	// listedPID (lastPID).
	listed    bool
	listedPID int
	loadavg   *ProcFile // PROCROOT/loadavg, for lastPID
	// mounts is what each mount directory held at its last reading.
	mounts map[string]*mountDir
}

// mountDir is a mount directory as last read: while its modification
// time, size and inode stay the same, its entries are the same files.
type mountDir struct {
	mtime, ctime unix.Timespec
	size, ino    int64
	entries      []mountEntry
}

// matches reports whether st is the directory's stat when it was read
// (false for md nil: never read).
func (md *mountDir) matches(st *unix.Stat_t) bool {
	return md != nil && md.mtime == st.Mtim && md.ctime == st.Ctim && md.size == st.Size && md.ino == int64(st.Ino)
}

// mountEntry is a file in a mount directory; inode 0: not a namespace
// mount when last looked at (looked at again at every scan).
type mountEntry struct {
	path  string
	inode uint32
}

// trustMountsAfter is how old a mount directory's modification time must
// be for its last reading to be reused: file times are coarse, and two
// changes within one tick leave the time as the first set it.
const trustMountsAfter = time.Second

// NewScanner returns a Scanner whose Self namespace is the calling
// thread's.
func NewScanner(cfg Config) (*Scanner, error) {
	s := &Scanner{
		procRoot:  cfg.ProcRoot,
		mountDirs: cfg.MountDirs,
		fullEvery: cfg.FullEvery,
		now:       cfg.Now,
		pidNS:     map[int]uint32{},
		denied:    map[int]bool{},
		seen:      map[int]bool{},
		current:   map[uint32]*Namespace{},
		handles:   map[uint32]int{},
		nsids:     map[uint32]int32{},
	}
	if s.procRoot == "" {
		s.procRoot = "/proc"
	}
	if s.mountDirs == nil {
		s.mountDirs = DefaultMountDirs
	}
	if s.fullEvery <= 0 {
		s.fullEvery = 30 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.loadavg = &ProcFile{Path: s.procRoot + "/loadavg"}
	self, err := readNSLink(s.procRoot + "/thread-self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("netns: this thread's network namespace: %w", err)
	}
	s.self = self
	return s, nil
}

// Self is the inode of the Scanner's own namespace.
func (s *Scanner) Self() uint32 { return s.self }

// Stats describes the last Scan.
func (s *Scanner) Stats() ScanStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Scan appends the namespaces that exist now to buf[:0], ordered by inode,
// and closes the handles of namespaces gone since the last Scan.
func (s *Scanner) Scan(buf []Namespace) ([]Namespace, error) { return s.scan(buf, true) }

// ScanKnown is a Scan that does not look for processes made since the
// last one (a full pass when due still reads them all): it finds
// namespaces by their mounts, and lists the processes again, to drop
// those gone, only when a mount directory changed or the first process of
// a namespace is gone. A namespace only new processes are in is not
// found. It is the cheap periodic scan: listing /proc costs about 3 µs a
// process with a cold cache, reading a new process's link as much again
// where processes come and go by the hundred (a build); NetNSOf reads a
// process's link when it is asked about.
func (s *Scanner) ScanKnown(buf []Namespace) ([]Namespace, error) { return s.scan(buf, false) }

func (s *Scanner) scan(buf []Namespace, discover bool) ([]Namespace, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return buf[:0], errClosed
	}
	now := s.now()
	since := now.Sub(s.lastFull)
	full := s.lastFull.IsZero() || since >= s.fullEvery || (s.wantFull && since >= minFullGap)
	if full {
		s.lastFull, s.wantFull = now, false
	}
	if full || discover {
		// No process made since the last listing (the last PID given out
		// is the same): the listing would find no process it does not
		// know. Those that left, or joined another namespace, are seen by
		// the next full scan, as those that joined one are anyway.
		last, lastOK := s.lastPID()
		if full || !lastOK || !s.listed || last != s.listedPID {
			if err := s.readProcesses(full, true); err != nil {
				s.listed = false
				return buf[:0], err
			}
			s.listed, s.listedPID = lastOK, last
		}
	} else if s.mountsMoved() || s.firstGone() {
		// New processes are left for a Scan: listedPID stays.
		if err := s.readProcesses(false, false); err != nil {
			return buf[:0], err
		}
	}
	for _, ns := range s.current {
		*ns = Namespace{Inode: ns.Inode}
	}
	found := make(map[uint32]bool, len(s.current))
	get := func(inode uint32) *Namespace {
		found[inode] = true
		ns := s.current[inode]
		if ns == nil {
			ns = &Namespace{Inode: inode}
			s.current[inode] = ns
		}
		ns.Self = inode == s.self
		return ns
	}
	get(s.self)
	for pid, inode := range s.pidNS {
		ns := get(inode)
		ns.Processes++
		if ns.PID == 0 || pid < ns.PID {
			ns.PID = pid
		}
	}
	for _, dir := range s.mountDirs {
		s.readMounts(dir, get, full, now)
	}
	for inode := range s.current {
		if !found[inode] {
			delete(s.current, inode)
			delete(s.nsids, inode)
			if fd, ok := s.handles[inode]; ok {
				unix.Close(fd)
				delete(s.handles, inode)
			}
		}
	}
	buf = buf[:0]
	for _, ns := range s.current {
		buf = append(buf, *ns)
	}
	slices.SortFunc(buf, func(a, b Namespace) int { return int(int64(a.Inode) - int64(b.Inode)) })
	s.stats = ScanStats{Processes: len(s.pidNS), Denied: len(s.denied), Full: full}
	return buf, nil
}

var errClosed = errors.New("netns: scanner closed")

// minFullGap bounds how often RequestFull makes a Scan read every link:
// a full pass costs about a millisecond per 300 processes.
const minFullGap = time.Second

// RequestFull makes the next Scan (at least minFullGap after the last
// full one) read every process's link again: for when a namespace may
// have appeared that the incremental scans cannot see (one a process
// already seen moved into, found when a flow or a device names a
// namespace not known).
func (s *Scanner) RequestFull() {
	s.mu.Lock()
	s.wantFull = true
	s.mu.Unlock()
}

// lastPID is the last PID the kernel gave out in the PID namespace of
// the proc root, from the loadavg file's last field ("0.00 0.01 0.05
// 1/123 4567"); false if it cannot be read. A process made in a child PID
// namespace takes a PID here too.
func (s *Scanner) lastPID() (int, bool) {
	b, ok := s.loadavg.Read()
	if !ok {
		return 0, false
	}
	return ParseLastPID(b)
}

// ParseLastPID reads the last field of a /proc/loadavg line.
func ParseLastPID(b []byte) (int, bool) {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	i := len(b)
	for i > 0 && b[i-1] >= '0' && b[i-1] <= '9' {
		i--
	}
	if i == len(b) || len(b)-i > 10 || (i > 0 && b[i-1] != ' ') {
		return 0, false
	}
	pid, err := strconv.Atoi(string(b[i:]))
	if err != nil || pid < 0 {
		return 0, false
	}
	return pid, true
}

// readProcesses updates pidNS from PROCROOT/PID/ns/net: new PIDs when
// discover (else they are noted unread), every PID when full; PIDs gone
// are dropped.
func (s *Scanner) readProcesses(full, discover bool) error {
	dir, err := os.Open(s.procRoot)
	if err != nil {
		return fmt.Errorf("netns: listing processes: %w", err)
	}
	defer dir.Close()
	clear(s.seen)
	for {
		names, rerr := dir.Readdirnames(256)
		for _, name := range names {
			pid, err := strconv.Atoi(name)
			if err != nil || pid <= 0 {
				continue
			}
			s.seen[pid] = true
			if _, known := s.pidNS[pid]; known && !full {
				continue
			}
			if s.denied[pid] && !full {
				continue
			}
			if discover || full {
				s.readProcess(pid, name)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("netns: listing processes: %w", rerr)
		}
	}
	for pid := range s.pidNS {
		if !s.seen[pid] {
			delete(s.pidNS, pid)
		}
	}
	for pid := range s.denied {
		if !s.seen[pid] {
			delete(s.denied, pid)
		}
	}
	return nil
}

// firstGone reports whether the lowest known PID of a namespace other
// than the Scanner's, and not mounted, is gone (kill with no signal: no path walk), a sign
// that its processes may all have left; a reused PID is caught by the
// next full pass.
func (s *Scanner) firstGone() bool {
	for _, ns := range s.current {
		// A mounted one lives on anyway; its unmounting moves the
		// directory.
		if ns.Self || ns.PID <= 0 || ns.Mount != "" {
			continue
		}
		if !s.exists(ns.PID) {
			return true
		}
	}
	return false
}

// exists reports whether process pid is there: a signal-less kill for the
// proc file system of the Scanner's own PID namespace (no path walk), a
// stat of its directory for another root (a fixture in tests).
func (s *Scanner) exists(pid int) bool {
	if s.procRoot == "/proc" {
		return unix.Kill(pid, 0) != unix.ESRCH
	}
	return unix.Access(s.procRoot+"/"+strconv.Itoa(pid), unix.F_OK) == nil
}

// mountsMoved reports whether a mount directory's stat differs from when
// it was last read (readMounts reads it again then).
func (s *Scanner) mountsMoved() bool {
	for _, dir := range s.mountDirs {
		var st unix.Stat_t
		err := unix.Stat(dir, &st)
		md := s.mounts[dir]
		switch {
		case err != nil:
			if md != nil {
				return true
			}
		case !md.matches(&st):
			return true
		}
	}
	return false
}

// readProcess reads process pid's link (name: pid in decimal).
func (s *Scanner) readProcess(pid int, name string) {
	inode, err := readNSLink(s.procRoot + "/" + name + "/ns/net")
	switch {
	case err == nil:
		s.pidNS[pid] = inode
		delete(s.denied, pid)
	case errors.Is(err, fs.ErrPermission):
		s.denied[pid] = true
		delete(s.pidNS, pid)
	default: // exited, or a kernel thread's missing link
		delete(s.pidNS, pid)
	}
}

// readMounts adds the namespaces bind-mounted in dir. Files that are not
// nsfs mounts (a half-made `ip netns add`) are passed over; a missing
// directory is no namespace. The directory is read again only at a full
// scan or when it changed (one stat otherwise, and a look at the files
// that were not mounts yet): a scan with nothing new costs no syscall per
// namespace.
func (s *Scanner) readMounts(dir string, get func(uint32) *Namespace, full bool, now time.Time) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		delete(s.mounts, dir)
		return
	}
	if s.mounts == nil {
		s.mounts = map[string]*mountDir{}
	}
	md := s.mounts[dir]
	mtime := time.Unix(st.Mtim.Unix())
	if full || !md.matches(&st) || now.Sub(mtime) < trustMountsAfter {
		entries, err := os.ReadDir(dir)
		if err != nil {
			delete(s.mounts, dir)
			return
		}
		md = &mountDir{mtime: st.Mtim, ctime: st.Ctim, size: st.Size, ino: int64(st.Ino), entries: make([]mountEntry, 0, len(entries))}
		for _, e := range entries {
			md.entries = append(md.entries, mountEntry{path: dir + "/" + e.Name()})
		}
		s.mounts[dir] = md
	}
	for i := range md.entries {
		e := &md.entries[i]
		if e.inode == 0 {
			e.inode = nsMount(e.path)
		}
		if e.inode == 0 {
			continue
		}
		if ns := get(e.inode); ns.Mount == "" {
			ns.Mount = e.path
		}
	}
}

// nsMount is the inode of the namespace mounted at path, 0 if none.
func nsMount(path string) uint32 {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil || sfs.Type != unix.NSFS_MAGIC {
		return 0
	}
	inode, err := InodeOf(path)
	if err != nil {
		return 0
	}
	return inode
}

// readNSLink reads a namespace link ("net:[4026531840]") and returns the
// inode.
func readNSLink(path string) (uint32, error) {
	target, err := os.Readlink(path)
	if err != nil {
		return 0, err
	}
	inode, ok := ParseNSLink(target)
	if !ok {
		return 0, fmt.Errorf("netns: %s links to %q, not a network namespace", path, target)
	}
	return inode, nil
}

// ParseNSLink parses the target of a /proc/PID/ns/net link,
// "net:[INODE]".
func ParseNSLink(s string) (uint32, bool) {
	const prefix = "net:["
	if len(s) < len(prefix)+2 || s[:len(prefix)] != prefix || s[len(s)-1] != ']' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[len(prefix):len(s)-1], 10, 32)
	if err != nil || n == 0 || s[len(prefix)] == '+' || s[len(prefix)] == '0' {
		return 0, false
	}
	return uint32(n), true
}

// Open returns a handle on namespace inode, found by the last Scan: an fd
// the Scanner owns (do not close it) until a Scan no longer finds the
// namespace or the Scanner is closed.
func (s *Scanner) Open(inode uint32) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openLocked(inode)
}

func (s *Scanner) openLocked(inode uint32) (int, error) {
	if s.closed {
		return -1, errClosed
	}
	if fd, ok := s.handles[inode]; ok {
		return fd, nil
	}
	ns, ok := s.current[inode]
	if !ok {
		return -1, fmt.Errorf("netns: namespace %d not found by the last scan", inode)
	}
	var paths []string
	if ns.Mount != "" {
		paths = append(paths, ns.Mount)
	}
	if ns.PID != 0 {
		paths = append(paths, s.procRoot+"/"+strconv.Itoa(ns.PID)+"/ns/net")
	}
	if ns.Self {
		paths = append(paths, s.procRoot+"/thread-self/ns/net")
	}
	var errs []error
	for _, p := range paths {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Ino != uint64(inode) {
			unix.Close(fd) // the process moved or its PID was reused
			errs = append(errs, fmt.Errorf("%s is no longer namespace %d", p, inode))
			continue
		}
		s.handles[inode] = fd
		return fd, nil
	}
	return -1, fmt.Errorf("netns: opening namespace %d: %w", inode, errors.Join(errs...))
}

// Close closes every handle; the Scanner cannot be used afterwards.
func (s *Scanner) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for inode, fd := range s.handles {
		unix.Close(fd)
		delete(s.handles, inode)
	}
	s.loadavg.Close()
	s.closed = true
	return nil
}

// NetNSOf returns the namespace process pid was in when a Scan last read
// it (to restrict a walk of processes to one namespace's), reading it now
// for a process no Scan has read; false if it cannot be read.
func (s *Scanner) NetNSOf(pid int) (uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inode, ok := s.pidNS[pid]; ok || s.closed || pid <= 0 {
		return inode, ok
	}
	inode, err := readNSLink(s.procRoot + "/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return 0, false
	}
	// Kept: a listing drops it if the process is gone; the next Scan
	// counts its namespace.
	s.pidNS[pid] = inode
	return inode, true
}

// Run runs f inside namespace inode (found by the last Scan) with Do.
func (s *Scanner) Run(inode uint32, f func() error) error {
	fd, err := s.Open(inode)
	if err != nil {
		return err
	}
	return Do(fd, f)
}

// InodeOf returns the inode of the namespace a file refers to: a bind
// mount ("/run/netns/NAME") or a /proc/PID/ns/net link.
func InodeOf(path string) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	if st.Ino == 0 || st.Ino > 1<<32-1 {
		return 0, fmt.Errorf("netns: %s has inode %d, not a namespace's", path, st.Ino)
	}
	return uint32(st.Ino), nil
}

// ProcFile is a /proc file (a sysctl, loadavg) kept open and read from its
// start at each Read: opening it, the path walk, is most of the cost of
// reading one. Not safe for concurrent use.
type ProcFile struct {
	Path string
	fd   int // 0: not open
	buf  [128]byte
}

// Read returns the file's first 128 bytes (valid until the next Read);
// false if it cannot be read, and then it is opened again next time.
func (f *ProcFile) Read() ([]byte, bool) {
	if f.fd <= 0 {
		fd, err := unix.Open(f.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, false
		}
		f.fd = fd
	}
	n, err := unix.Pread(f.fd, f.buf[:], 0)
	if err != nil || n <= 0 {
		f.Close()
		return nil, false
	}
	return f.buf[:n], true
}

// Close closes the file.
func (f *ProcFile) Close() {
	if f.fd > 0 {
		unix.Close(f.fd)
		f.fd = 0
	}
}

// Package proc reads the kernel's socket tables and process table under an
// injectable proc root, to map a TCP/UDP socket to the process that owns it.
//
// The chain is: a flow's addresses and ports → a row of /proc/net/{tcp,tcp6,
// udp,udp6} ([FS.SocketTable]) → its socket inode → the process whose
// /proc/PID/fd holds "socket:[INODE]" ([FS.SocketInodes]) → what to show
// about that process ([FS.Process]).
//
// Contract: the parsers never panic on any input; malformed lines are
// skipped and counted; parsing a socket table allocates nothing per line.
// Everything is read relative to [FS.Root], so tests run against fixture
// trees under testdata/ and production against "/proc".
package proc

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"syscall"
)

// ErrNoProcess reports that a process does not exist (any more): its
// /proc/PID entry, or a file in it, vanished (ENOENT/ESRCH), or the PID is
// not positive.
var ErrNoProcess = errors.New("proc: no such process")

// ErrUnknownTable reports a socket table name other than "tcp", "tcp6",
// "udp" and "udp6".
var ErrUnknownTable = errors.New("proc: unknown socket table")

// ErrMalformed reports a /proc file whose content could not be parsed.
var ErrMalformed = errors.New("proc: malformed file")

// FS is a proc file system rooted at Root ("/proc" in production, a fixture
// tree under testdata/ in tests). The zero value is not useful; FS holds no
// other state and is safe for concurrent use.
type FS struct {
	// Root is the directory holding net/ and the numeric PID directories.
	Root string
}

// DefaultRoot is where Linux mounts the proc file system.
const DefaultRoot = "/proc"

// NewFS returns an FS rooted at root; an empty root means [DefaultRoot].
func NewFS(root string) FS {
	if root == "" {
		root = DefaultRoot
	}
	return FS{Root: root}
}

// pidPath returns ROOT/PID/name (ROOT/PID for an empty name).
func (fsys FS) pidPath(pid int, name string) string {
	p := fsys.Root + "/" + strconv.Itoa(pid)
	if name != "" {
		p += "/" + name
	}
	return p
}

// processError classifies an error met while reading a file of process pid:
// a vanished process (ENOENT, ESRCH) wraps ErrNoProcess as well as the
// original error; anything else (EACCES, EPERM: fs.ErrPermission) is
// wrapped as is.
func processError(pid int, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%w: pid %d: %w", ErrNoProcess, pid, err)
	}
	return fmt.Errorf("proc: pid %d: %w", pid, err)
}

// checkPID rejects PIDs that cannot name a process.
func checkPID(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("%w: invalid pid %d", ErrNoProcess, pid)
	}
	return nil
}

// dirBatch is how many directory entries are read per getdents round.
const dirBatch = 256

// PIDs appends the numeric entries of the proc root (the thread-group
// leaders: one per process) to buf[:0], in ascending order, and returns it.
// Pass the previous result back as buf to reuse its storage.
func (fsys FS) PIDs(buf []int) ([]int, error) {
	buf = buf[:0]
	dir, err := os.Open(fsys.Root)
	if err != nil {
		return buf, fmt.Errorf("proc: list processes: %w", err)
	}
	defer dir.Close()
	for {
		names, err := dir.Readdirnames(dirBatch)
		for _, name := range names {
			if pid, ok := parsePID(name); ok {
				buf = append(buf, pid)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, fmt.Errorf("proc: list processes: %w", err)
		}
	}
	slices.Sort(buf)
	return buf, nil
}

// parsePID accepts a positive decimal number without sign or leading zero
// that fits an int32 (Linux PIDs are at most 2^22).
func parsePID(s string) (int, bool) {
	if len(s) == 0 || len(s) > 10 || s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 1<<31-1 {
		return 0, false
	}
	return n, true
}

package proc

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// SocketInodes walks ROOT/PID/fd of one process and calls fn with the number
// and the inode of each descriptor that is a socket (link target "socket:[INODE]"); other
// descriptors (files, pipes, anon inodes) and entries not named by a
// descriptor number are passed over. A socket
// duplicated over several descriptors is reported once per descriptor.
//
// A vanished process (ENOENT/ESRCH) returns an error wrapping ErrNoProcess;
// a process whose descriptors may not be read (another user's, without
// CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH) returns an error wrapping
// fs.ErrPermission. fn may have been called before an error. A descriptor
// closed during the walk is passed over.
func (fsys FS) SocketInodes(pid int, fn func(fd int, inode uint64)) error {
	_, err := fsys.walkFDs(pid, nil, func(fd int, inode uint64, _ bool) {
		if inode != 0 {
			fn(fd, inode)
		}
	})
	return err
}

// walkFDs lists ROOT/PID/fd and calls fn for every descriptor, with the
// inode of its socket (0: not a socket). For a descriptor known reports
// as known (cached: true) the link is not read and fn gets that inode,
// with cached true; known may be nil. It returns how many links it read.
// Errors are as for SocketInodes.
func (fsys FS) walkFDs(pid int, known func(fd int) (uint64, bool), fn func(fd int, inode uint64, cached bool)) (links int, err error) {
	return fsys.walkFDsUpTo(pid, 0, known, fn)
}

// errTooManyFDs: walkFDsUpTo met more descriptors than its limit.
var errTooManyFDs = errors.New("proc: more descriptors than asked for")

// walkFDsUpTo is walkFDs, but with limit > 0 a process whose first
// directory read shows more than limit descriptors is not walked: it
// returns errTooManyFDs having read no link.
func (fsys FS) walkFDsUpTo(pid, limit int, known func(fd int) (uint64, bool), fn func(fd int, inode uint64, cached bool)) (links int, err error) {
	if err := checkPID(pid); err != nil {
		return 0, err
	}
	// Links are read relative to the open directory (readlinkat): one path
	// lookup for the directory, not one per descriptor.
	fdPath := fsys.pidPath(pid, "fd")
	fdDir, err := os.OpenRoot(fdPath)
	if err != nil {
		return 0, processError(pid, err)
	}
	defer fdDir.Close()
	dir, err := fdDir.Open(".")
	if err != nil {
		return 0, processError(pid, err)
	}
	defer dir.Close()
	for first := true; ; first = false {
		names, rerr := dir.Readdirnames(dirBatch)
		if first && limit > 0 && len(names) > limit {
			return 0, errTooManyFDs
		}
		for _, name := range names {
			fd, ok := parseDecimal(name, 1<<31-1)
			if !ok {
				continue // not a descriptor (only in fixture trees)
			}
			if known != nil {
				if inode, ok := known(int(fd)); ok {
					fn(int(fd), inode, true)
					continue
				}
			}
			links++
			target, err := fdDir.Readlink(name)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // closed since the directory was read
				}
				return links, processError(pid, fmt.Errorf("%s: %w", fdPath, err))
			}
			inode, _ := parseSocketLink(target)
			fn(int(fd), inode, false)
		}
		if rerr == io.EOF {
			return links, nil
		}
		if rerr != nil {
			return links, processError(pid, rerr)
		}
	}
}

// parseSocketLink returns the inode of a "socket:[INODE]" link target.
func parseSocketLink(target string) (uint64, bool) {
	const prefix, suffix = "socket:[", "]"
	if len(target) < len(prefix)+len(suffix)+1 ||
		target[:len(prefix)] != prefix || target[len(target)-1:] != suffix {
		return 0, false
	}
	return parseDecimal(target[len(prefix):len(target)-1], 1<<64-1)
}

// SocketAt returns the inode of the socket open as descriptor fd of process
// pid, and false when that descriptor is not a socket, is closed, or the
// process is gone or unreadable: one readlink, to check that a process
// still holds a socket it was seen with.
func (fsys FS) SocketAt(pid, fd int) (uint64, bool) {
	if checkPID(pid) != nil || fd < 0 {
		return 0, false
	}
	target, err := os.Readlink(fsys.pidPath(pid, "fd/"+strconv.Itoa(fd)))
	if err != nil {
		return 0, false
	}
	return parseSocketLink(target)
}

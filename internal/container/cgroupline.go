package container

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// ErrNoProcess reports that a process's cgroup file is gone: the process
// exited (or the PID never existed).
var ErrNoProcess = errors.New("container: no such process")

// maxCgroupFile bounds what is read of one /proc/PID/cgroup (a v1 host
// has a dozen short lines).
const maxCgroupFile = 64 << 10

// CgroupLine is one line of /proc/PID/cgroup: "HIERARCHY:CONTROLLERS:PATH".
// The cgroup v2 line is "0::PATH" (Hierarchy 0, no controllers).
type CgroupLine struct {
	Hierarchy   int
	Controllers string // comma-separated; "name=systemd" for a named v1 hierarchy
	Path        string
}

// V2 reports whether l is the unified (cgroup v2) hierarchy's line.
func (l CgroupLine) V2() bool { return l.Hierarchy == 0 && l.Controllers == "" }

// ParseCgroupLine parses one line (without its newline). The path is
// everything after the second colon, so paths holding colons survive. A
// line that does not have that shape, a hierarchy that is not a small
// decimal number, or a path not starting with "/" is rejected.
func ParseCgroupLine(b []byte) (CgroupLine, bool) {
	i := bytes.IndexByte(b, ':')
	if i <= 0 || i > 9 {
		return CgroupLine{}, false
	}
	h := 0
	for _, c := range b[:i] {
		if c < '0' || c > '9' {
			return CgroupLine{}, false
		}
		h = h*10 + int(c-'0')
	}
	rest := b[i+1:]
	j := bytes.IndexByte(rest, ':')
	if j < 0 {
		return CgroupLine{}, false
	}
	path := rest[j+1:]
	if len(path) == 0 || path[0] != '/' {
		return CgroupLine{}, false
	}
	return CgroupLine{Hierarchy: h, Controllers: string(rest[:j]), Path: string(path)}, true
}

// ParseCgroupFile parses the lines of a /proc/PID/cgroup file, skipping
// lines ParseCgroupLine rejects.
func ParseCgroupFile(b []byte) []CgroupLine {
	var out []CgroupLine
	for line := range bytes.Lines(b) {
		if l, ok := ParseCgroupLine(bytes.TrimSuffix(line, []byte("\n"))); ok {
			out = append(out, l)
		}
	}
	return out
}

// readCgroupFile reads PROCROOT/PID/cgroup.
func readCgroupFile(procRoot string, pid int) ([]CgroupLine, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("%w: invalid pid %d", ErrNoProcess, pid)
	}
	path := procRoot + "/" + strconv.Itoa(pid) + "/cgroup"
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return nil, fmt.Errorf("%w: pid %d: %w", ErrNoProcess, pid, err)
		}
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, maxCgroupFile)
	n, err := readFull(f, buf)
	if err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil, fmt.Errorf("%w: pid %d: %w", ErrNoProcess, pid, err)
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return ParseCgroupFile(buf[:n]), nil
}

// readFull reads until buf is full or the end of the file; the end is not
// an error.
func readFull(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, err
}

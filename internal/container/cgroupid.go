package container

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrNoCgroup2 reports that no cgroup2 file system is mounted (a host
// with cgroup v1 only): cgroup ids cannot be mapped to paths.
var ErrNoCgroup2 = errors.New("container: no cgroup2 file system mounted (cgroup v1 only?): sockets cannot be labelled by their cgroup id")

// MaxCgroups bounds the directories one walk of the cgroup2 mount records.
const MaxCgroups = 1 << 16

// walkEvery is the least time between walks made on a miss.
const walkEvery = time.Second

// Cgroup2Mount finds the cgroup2 mount point in a mountinfo file
// (/proc/self/mountinfo): the first mount of file system type "cgroup2".
func Cgroup2Mount(mountinfo []byte) (string, bool) {
	for line := range bytes.Lines(mountinfo) {
		if mp, fstype, ok := parseMountinfoLine(bytes.TrimSuffix(line, []byte("\n"))); ok && fstype == "cgroup2" {
			return mp, true
		}
	}
	return "", false
}

// parseMountinfoLine returns the mount point (field 5, octal escapes
// undone) and the file system type (the first field after " - ") of a
// mountinfo line.
func parseMountinfoLine(line []byte) (mountPoint, fstype string, ok bool) {
	sep := bytes.Index(line, []byte(" - "))
	if sep < 0 {
		return "", "", false
	}
	fields := bytes.Fields(line[:sep])
	post := bytes.Fields(line[sep+3:])
	if len(fields) < 5 || len(post) < 1 {
		return "", "", false
	}
	mp, ok := unescapeOctal(fields[4])
	if !ok || len(mp) == 0 || mp[0] != '/' {
		return "", "", false
	}
	return mp, string(post[0]), true
}

// unescapeOctal undoes the kernel's \NNN escapes of space, tab, newline
// and backslash in mountinfo paths.
func unescapeOctal(b []byte) (string, bool) {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		if i+3 >= len(b) {
			return "", false
		}
		v := 0
		for _, c := range b[i+1 : i+4] {
			if c < '0' || c > '7' {
				return "", false
			}
			v = v*8 + int(c-'0')
		}
		if v > 0xff {
			return "", false
		}
		out = append(out, byte(v))
		i += 3
	}
	return string(out), true
}

// FindCgroup2 reads mountinfo (e.g. "/proc/self/mountinfo") and returns
// the cgroup2 mount point, or an error wrapping ErrNoCgroup2.
func FindCgroup2(mountinfo string) (string, error) {
	b, err := os.ReadFile(mountinfo)
	if err != nil {
		return "", fmt.Errorf("finding the cgroup2 mount: %w", err)
	}
	mp, ok := Cgroup2Mount(b)
	if !ok {
		return "", fmt.Errorf("%w (looked in %s)", ErrNoCgroup2, mountinfo)
	}
	return mp, nil
}

// CgroupIDs maps cgroup v2 ids to cgroup paths (relative to the mount,
// "/" for the root). It is safe for concurrent use.
type CgroupIDs struct {
	mount string
	now   func() time.Time
	max   int

	mu        sync.Mutex
	paths     map[uint64]string
	walks     missGate
	truncated bool // the last walk stopped at max
}

// NewCgroupIDs maps the ids of the cgroup2 file system mounted at mount.
// now is the clock limiting walks (nil: time.Now).
func NewCgroupIDs(mount string, now func() time.Time) *CgroupIDs {
	if now == nil {
		now = time.Now
	}
	return &CgroupIDs{mount: filepath.Clean(mount), now: now, max: MaxCgroups, paths: map[uint64]string{}}
}

// Path returns the path of cgroup id. A miss walks the mount again unless
// it was walked less than a second ago; a cgroup that was removed is
// forgotten at the next walk.
func (c *CgroupIDs) Path(id uint64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.paths[id]; ok {
		return p, true
	}
	if !c.walks.open(c.now(), walkEvery) {
		return "", false
	}
	if err := c.walkLocked(); err != nil {
		return "", false
	}
	p, ok := c.paths[id]
	return p, ok
}

// Walk walks the mount now (Path does so on a miss) and reports a mount
// that cannot be read, or more than MaxCgroups cgroups (the rest are not
// mapped).
func (c *CgroupIDs) Walk() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.walks.last = c.now()
	if err := c.walkLocked(); err != nil {
		return err
	}
	if c.truncated {
		return fmt.Errorf("container: more than %d cgroups under %s: only the first %d are mapped", c.max, c.mount, c.max)
	}
	return nil
}

var errFull = errors.New("full")

func (c *CgroupIDs) walkLocked() error {
	clear(c.paths)
	c.truncated = false
	err := filepath.WalkDir(c.mount, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == c.mount {
				return err
			}
			return nil // a cgroup removed while walking
		}
		if !d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		if len(c.paths) >= c.max {
			c.truncated = true
			return errFull
		}
		rel := path[len(c.mount):]
		if c.mount == "/" {
			rel = path
		}
		if rel == "" {
			rel = "/"
		}
		c.paths[st.Ino] = rel
		return nil
	})
	if err != nil && err != errFull {
		return fmt.Errorf("container: walking the cgroup2 mount %s: %w", c.mount, err)
	}
	return nil
}

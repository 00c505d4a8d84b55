package proc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// Process is what hogs shows about a process.
type Process struct {
	// PID is the process (thread-group) id.
	PID int
	// Name is argv[0] from /proc/PID/cmdline, raw (the full path as nethogs
	// shows it, or whatever the process wrote over its argv); the comm from
	// /proc/PID/stat (at most 15 bytes, or a kernel worker's longer name)
	// when argv[0] is empty, as for kernel threads and zombies.
	Name string
	// Comm is the command name from /proc/PID/stat (between the first '('
	// and the last ')'), raw: the executable's base name cut to 15 bytes,
	// or whatever the process set with prctl(PR_SET_NAME).
	Comm string
	// Cmdline is argv: /proc/PID/cmdline split at NULs, the NUL that ends
	// the last argument not producing an empty one. Empty for kernel
	// threads and zombies. Raw bytes: may hold invalid UTF-8 or control
	// characters.
	Cmdline []string
	// UID is the real uid, from the "Uid:" line of /proc/PID/status.
	UID uint32
	// StartTime is field 22 of /proc/PID/stat, clock ticks since boot: with
	// PID, it identifies a process across PID reuse.
	StartTime uint64
	// NSPID is the PID in the process's own PID namespace (a container's):
	// the last number of the "NSpid:" line of /proc/PID/status, which
	// lists the PID in each namespace from the reader's down. 0 when the
	// line is missing (kernels before 4.1) or malformed.
	NSPID int
}

// Process reads what hogs shows about process pid. All three files are read
// relative to one open ROOT/PID directory, which stays bound to the process
// it was opened for: if the PID is reused in between, the reads fail
// instead of mixing two processes.
//
// A vanished process returns an error wrapping ErrNoProcess; an unreadable
// one wraps fs.ErrPermission; a stat or status file that does not parse
// wraps ErrMalformed.
func (fsys FS) Process(pid int) (Process, error) {
	if err := checkPID(pid); err != nil {
		return Process{}, err
	}
	dir, err := os.OpenRoot(fsys.pidPath(pid, ""))
	if err != nil {
		return Process{}, processError(pid, err)
	}
	defer dir.Close()

	stat, err := dir.ReadFile("stat")
	if err != nil {
		return Process{}, processError(pid, err)
	}
	comm, startTime, ok := parseStat(stat)
	if !ok {
		return Process{}, fmt.Errorf("%w: pid %d: stat %q", ErrMalformed, pid, stat)
	}
	status, err := dir.ReadFile("status")
	if err != nil {
		return Process{}, processError(pid, err)
	}
	uid, ok := parseStatusUID(status)
	nspid := parseStatusNSPID(status)
	if !ok {
		return Process{}, fmt.Errorf("%w: pid %d: status has no Uid line", ErrMalformed, pid)
	}
	cmdline, err := dir.ReadFile("cmdline")
	if err != nil {
		return Process{}, processError(pid, err)
	}
	p := Process{PID: pid, Comm: string(comm), Cmdline: parseCmdline(cmdline), UID: uid, StartTime: startTime, NSPID: nspid}
	p.Name = p.Comm
	if len(p.Cmdline) > 0 && p.Cmdline[0] != "" {
		p.Name = p.Cmdline[0]
	}
	return p, nil
}

// statBufferSize holds a whole /proc/PID/stat line: 52 fields of at most
// 20 digits and a comm of at most 64 bytes.
const statBufferSize = 2048

// StartTime reads only field 22 of ROOT/PID/stat, the start time in clock
// ticks since boot: a cheap check that a PID still names the same process.
// Errors are as for [FS.Process].
func (fsys FS) StartTime(pid int) (uint64, error) {
	if err := checkPID(pid); err != nil {
		return 0, err
	}
	f, err := os.Open(fsys.pidPath(pid, "stat"))
	if err != nil {
		return 0, processError(pid, err)
	}
	defer f.Close()
	var buf [statBufferSize]byte
	n, err := io.ReadFull(f, buf[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, processError(pid, err)
	}
	_, startTime, ok := parseStat(buf[:n])
	if !ok {
		return 0, fmt.Errorf("%w: pid %d: stat %q", ErrMalformed, pid, buf[:n])
	}
	return startTime, nil
}

// statStartTimeField is the 1-based number of the start time field.
const statStartTimeField = 22

// parseStat parses a /proc/PID/stat line: "PID (COMM) STATE PPID ...". The
// comm may contain spaces and parentheses, so it runs from the first '(' to
// the last ')'; numbered fields follow it, STATE being field 3. It returns
// the comm (a subslice of b) and field 22, the start time.
func parseStat(b []byte) (comm []byte, startTime uint64, ok bool) {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return nil, 0, false
	}
	if _, ok := parseDecimal(bytes.TrimSpace(b[:open]), 1<<31-1); !ok {
		return nil, 0, false
	}
	comm = b[open+1 : closing]
	rest := b[closing+1:]
	pos := 0
	for field := 3; field <= statStartTimeField; field++ {
		var f []byte
		f, pos = nextField(rest, pos)
		if len(f) == 0 {
			return nil, 0, false
		}
		if field == statStartTimeField {
			startTime, ok = parseDecimal(f, 1<<64-1)
			if !ok {
				return nil, 0, false
			}
		}
	}
	return comm, startTime, true
}

// statusLine returns the rest of the first line of a /proc/PID/status
// file that starts with key, and whether there is one.
func statusLine(b []byte, key string) ([]byte, bool) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			return rest, true
		}
	}
	return nil, false
}

// parseStatusUID returns the real uid, the first number of the "Uid:" line
// of a /proc/PID/status file ("Uid:\treal\teffective\tsaved\tfs").
func parseStatusUID(b []byte) (uint32, bool) {
	line, ok := statusLine(b, "Uid:")
	if !ok {
		return 0, false
	}
	f, _ := nextField(line, 0)
	uid, ok := parseDecimal(f, 1<<32-1)
	return uint32(uid), ok
}

// parseStatusTgid returns the thread group (process) id from the "Tgid:"
// line of a /proc/TID/status file.
func parseStatusTgid(b []byte) (int, bool) {
	line, ok := statusLine(b, "Tgid:")
	if !ok {
		return 0, false
	}
	f, _ := nextField(line, 0)
	tgid, ok := parseDecimal(f, 1<<31-1)
	return int(tgid), ok && tgid > 0
}

// parseStatusNSPID returns the last number of the "NSpid:" line of a
// /proc/PID/status file ("NSpid:\t4242\t7": PID 4242 here, 7 in the
// container's namespace), 0 when there is no such line or a field is not
// a PID.
func parseStatusNSPID(b []byte) int {
	line, _ := statusLine(b, "NSpid:")
	last := 0
	for pos := 0; ; {
		var f []byte
		f, pos = nextField(line, pos)
		if len(f) == 0 {
			return last
		}
		v, ok := parseDecimal(f, 1<<31-1)
		if !ok || v == 0 {
			return 0
		}
		last = int(v)
	}
}

// Tgid returns the process (thread group) that task tid belongs to: tid
// itself for a process, its process for a thread. /proc lists only
// processes, but ROOT/TID answers for any task.
func (fsys FS) Tgid(tid int) (int, error) {
	if err := checkPID(tid); err != nil {
		return 0, err
	}
	status, err := os.ReadFile(fsys.pidPath(tid, "status"))
	if err != nil {
		return 0, processError(tid, err)
	}
	tgid, ok := parseStatusTgid(status)
	if !ok {
		return 0, fmt.Errorf("%w: pid %d: status has no Tgid line", ErrMalformed, tid)
	}
	return tgid, nil
}

// parseCmdline splits a /proc/PID/cmdline file at NULs. The NUL ending the
// last argument does not produce an empty argument, but any other NUL
// does (a real empty argument, or a process padding its rewritten argv
// with NULs); a last argument without its NUL (a process that rewrote its
// argv) is kept. The strings share one allocation.
func parseCmdline(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	if s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	args := make([]string, 0, bytes.Count(b, []byte{0})+1)
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			return append(args, s)
		}
		args = append(args, s[:i])
		s = s[i+1:]
	}
}

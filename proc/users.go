package proc

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// DefaultPasswdPath is the user database [Users] reads in production.
const DefaultPasswdPath = "/etc/passwd"

// Users maps uids to user names from a passwd(5) file, caching them. The
// zero value reads DefaultPasswdPath. Only the file is consulted (no NSS:
// LDAP or systemd-homed users show as numbers). Not safe for concurrent
// use.
type Users struct {
	// PasswdPath is the passwd file; "" means DefaultPasswdPath.
	PasswdPath string

	names    map[uint32]string // from the file as last loaded
	numbers  map[uint32]string // decimal fallbacks handed out since
	loaded   bool
	modTime  time.Time // of the file as last loaded
	fileSize int64
}

// Name returns the user name of uid: the first passwd entry with that uid,
// or the uid in decimal when there is none (or no readable file). A uid
// not found makes Name check whether the file changed since it was read
// (one stat) and reread it if so, so users added later are found.
func (u *Users) Name(uid uint32) string {
	if name, ok := u.names[uid]; ok {
		return name
	}
	u.reloadIfChanged()
	if name, ok := u.names[uid]; ok {
		return name
	}
	if name, ok := u.numbers[uid]; ok {
		return name
	}
	if u.numbers == nil {
		u.numbers = make(map[uint32]string)
	}
	name := strconv.FormatUint(uint64(uid), 10)
	u.numbers[uid] = name
	return name
}

// reloadIfChanged rereads the passwd file if it was never read or its
// modification time or size changed.
func (u *Users) reloadIfChanged() {
	path := u.PasswdPath
	if path == "" {
		path = DefaultPasswdPath
	}
	info, err := os.Stat(path)
	if err != nil { // no file (any more): no names
		if u.loaded {
			u.names, u.numbers, u.loaded = nil, nil, false
		}
		return
	}
	if u.loaded && info.ModTime().Equal(u.modTime) && info.Size() == u.fileSize {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	u.names, u.numbers = parsePasswd(b), nil
	u.loaded, u.modTime, u.fileSize = true, info.ModTime(), info.Size()
}

// parsePasswd maps uids to names from passwd(5) lines
// "name:password:uid:gid:gecos:home:shell"; the first entry of a uid wins.
// Comments, NIS "+"/"-" lines and lines without a name or a numeric uid
// are skipped.
func parsePasswd(b []byte) map[uint32]string {
	names := make(map[uint32]string)
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) == 0 || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 {
			continue
		}
		_, rest, ok = bytes.Cut(rest, []byte(":")) // password
		if !ok {
			continue
		}
		uidField, _, _ := bytes.Cut(rest, []byte(":"))
		uid, ok := parseDecimal(uidField, 1<<32-1)
		if !ok {
			continue
		}
		if _, seen := names[uint32(uid)]; !seen {
			names[uint32(uid)] = string(name)
		}
	}
	return names
}

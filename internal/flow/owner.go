package flow

// Owner is who a flow's traffic belongs to: a number the owner registry
// (Owners) hands out. Unresolved is a flow no owner has been found for
// (yet); its traffic shows in the unknown rows.
type Owner uint64

// Unresolved marks a flow that no process has been found for (yet).
const Unresolved Owner = 0

// Process is what hogs shows about an owner: a process, the programs
// whose exited processes were folded into one row (Exited), or a systemd
// service or container whose process could not be found (Cgroup).
type Process struct {
	PID int
	// StartTime is the process's start in clock ticks since boot (field
	// 22 of /proc/PID/stat): with PID it tells a process from a later one
	// that reuses its PID.
	StartTime uint64
	Name      string   // argv[0], or comm when the command line is empty
	Cmdline   []string // full argv
	UID       uint32
	User      string
	// Exited marks a folded row: the traffic of this program's processes
	// that have exited (PID 0, no command line).
	Exited bool
	// Cgroup marks a cgroup's row: the cgroup v2 path (relative to the
	// mount) of a service or container that owns sockets whose process
	// hogs could not find. Name says what it is ("ssh.service"); PID and
	// UID are 0. CgroupID is the cgroup's id (its directory's inode).
	Cgroup   string
	CgroupID uint64
	// Forwarded marks the row of traffic the host only routes
	// (Owners.Forwarded); it is also Exited, so it is never folded.
	Forwarded bool
}

// IsCgroup reports whether p is a cgroup's row, not a process.
func (p Process) IsCgroup() bool { return p.Cgroup != "" }

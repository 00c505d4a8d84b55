package flow

// Owner is who a flow's traffic belongs to: a number the owner registry
// (Owners) hands out. Unresolved is a flow no owner has been found for
// (yet); its traffic shows in the unknown rows.
type Owner uint64

// Unresolved marks a flow that no process has been found for (yet).
const Unresolved Owner = 0

// Process is what hogs shows about an owner: a process, or the programs
// whose exited processes were folded into one row (Exited).
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
}

package flow

// Owner is who a flow's traffic belongs to: a number the owner registry
// (Owners) hands out. Unresolved is a flow no owner has been found for
// (yet); its traffic shows in the unknown rows.
type Owner uint64

// Unresolved marks a flow that no process has been found for (yet).
const Unresolved Owner = 0

// Process is what hogs shows about an owner: a process, the programs
// whose exited processes were folded into one row (Exited), or the cgroup
// (a systemd service or scope, a container) of sockets whose process
// could not be found (Cgroup).
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
	// mount) of a service, scope, container or other cgroup that owns
	// sockets whose process hogs could not find. Name says what it is
	// ("ssh.service", "session-3.scope"); PID and
	// UID are 0. CgroupID is the cgroup's id (its directory's inode).
	Cgroup   string
	CgroupID uint64
	// Forwarded marks the row of traffic the host only routes
	// (Owners.Forwarded); it is also Exited, so it is never folded.
	Forwarded bool
	// NSPID is the PID as the process's own PID namespace numbers it (a
	// container's: the last field of NSpid in /proc/PID/status); 0 when
	// not known. Equal to PID for a process in the monitor's namespace.
	NSPID int
	// Label is the container, pod or systemd service the process (or the
	// cgroup's row) belongs to: the zero Label for none.
	Label Label
}

// Label is what a process's cgroup tells about it: the container or
// Kubernetes pod it runs in, or for a host process its systemd service.
// Strings are raw (from files and cgroup paths): sanitize before printing.
type Label struct {
	// Runtime is "docker", "containerd", "cri-o", "podman", "cri" (a
	// Kubernetes container whose runtime the path does not tell),
	// "systemd" for a service, "" for none.
	Runtime string
	// ID is the container's full ID, or the service's unit name.
	ID string
	// Name is the container's name where a file tells it (else its short
	// ID), or the service's unit name.
	Name string
	// PodUID, Pod and Namespace describe the Kubernetes pod the container
	// is in (Pod and Namespace where kubelet's files tell them).
	PodUID, Pod, Namespace string
}

// LabelSystemd is the Runtime of a Label naming a systemd service.
const LabelSystemd = "systemd"

// IsZero reports whether l names nothing.
func (l Label) IsZero() bool {
	return l.Runtime == "" && l.ID == "" && l.Name == "" && l.PodUID == "" && l.Pod == "" && l.Namespace == ""
}

// Container reports whether l names a container or a pod, not a service.
func (l Label) Container() bool { return l.Runtime != "" && l.Runtime != LabelSystemd }

// Service is the systemd unit l names, "" for a container or none.
func (l Label) Service() string {
	if l.Runtime == LabelSystemd {
		return l.ID
	}
	return ""
}

// Key tells labels apart: the container ID (a pod's own cgroup: its UID),
// the unit name; "" for none.
func (l Label) Key() string {
	if l.ID == "" && l.PodUID != "" {
		return "pod:" + l.PodUID
	}
	return l.ID
}

// IsCgroup reports whether p is a cgroup's row, not a process.
func (p Process) IsCgroup() bool { return p.Cgroup != "" }

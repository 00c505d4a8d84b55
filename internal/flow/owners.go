package flow

import "sync"

// Owners numbers the processes that own flows and remembers what to show
// about each, for as long as hogs shows it: an attributor interns a
// process when it finds one owning a socket, the views look the number up,
// and the monitor folds the processes that exited long ago into one row
// per program (Fold), so the registry holds what is live plus at most
// MaxFolded folded rows. A PID reused by a new process (another start
// time) gets a new number, so it never inherits an old process's name or
// totals.
//
// A cgroup owner (InternCgroup: a service, scope or container whose sockets' processes
// hogs cannot see) is keyed by cgroup id, apart from the processes. It is
// already a row for many processes, so it never exits and is never
// folded: it stays while it has traffic to show, and is forgotten
// (Forget) once none is left. At most MaxCgroups are registered at once.
// Safe for concurrent use.
type Owners struct {
	mu       sync.Mutex
	byID     map[Owner]Process
	byProc   map[procKey]Owner
	byCgroup map[uint64]Owner
	folded   map[foldKey]Owner // program and container → its exited row
	last     Owner
	// forwarded is the owner of forwarded traffic (Forwarded), 0 until
	// asked for.
	forwarded Owner
	// label, if set, labels a process when it is registered.
	label func(pid int) Label
}

// foldKey is what a folded row stands for: a program, in one container
// or service (so a container's totals stay with it when its processes
// exit).
type foldKey struct{ name, label string }

type procKey struct {
	pid   int
	start uint64
}

// MaxFolded bounds the folded rows: past it, exited processes of further
// programs share one row named OtherExited.
const MaxFolded = 64

// OtherExited is the name of the folded row shared by the programs past
// MaxFolded.
const OtherExited = "other exited"

// MaxCgroups bounds the cgroup owners registered at once: past it, flows
// of further cgroups stay unresolved.
const MaxCgroups = 256

// NewOwners returns an empty registry.
func NewOwners() *Owners {
	return &Owners{byID: map[Owner]Process{}, byProc: map[procKey]Owner{}, byCgroup: map[uint64]Owner{}, folded: map[foldKey]Owner{}}
}

// NewLabelledOwners returns an empty registry that labels each process
// once, when it is registered (Intern), with label(PID) unless the
// Process carries a Label already: every attributor sharing the registry
// gets labels without knowing about them. label reads files (the
// process's cgroup), so it is called outside the registry's lock, and
// never on the per-packet path (processes are registered when a new flow
// is resolved). It may be called for a process that exits meanwhile (it
// then returns the zero Label), and twice for one process that two
// attributors register at the same moment (one result is kept).
func NewLabelledOwners(label func(pid int) Label) *Owners {
	o := NewOwners()
	o.label = label
	return o
}

// Find returns the number of the process with this PID and start time, if
// it is registered.
func (o *Owners) Find(pid int, start uint64) (Owner, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id, ok := o.byProc[procKey{pid, start}]
	return id, ok
}

// Intern returns the number of process p (by PID and start time),
// registering it with what p says about it if it is new.
func (o *Owners) Intern(p Process) Owner {
	k := procKey{p.PID, p.StartTime}
	if o.label != nil && p.PID > 0 && p.Label.IsZero() {
		if id, ok := o.Find(p.PID, p.StartTime); ok {
			return id
		}
		p.Label = o.label(p.PID)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if id, ok := o.byProc[k]; ok {
		return id
	}
	o.last++
	o.byID[o.last] = p
	o.byProc[k] = o.last
	return o.last
}

// InternCgroup returns the number of the cgroup owner p (by p.CgroupID;
// p.Cgroup must be set), registering it if it is new; false when
// MaxCgroups are registered already.
func (o *Owners) InternCgroup(p Process) (Owner, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id, ok := o.byCgroup[p.CgroupID]; ok {
		return id, true
	}
	if len(o.byCgroup) >= MaxCgroups || !p.IsCgroup() {
		return Unresolved, false
	}
	o.last++
	o.byID[o.last] = p
	o.byCgroup[p.CgroupID] = o.last
	return o.last, true
}

// Lookup returns what to show about an owner; false for Unresolved and
// for numbers never handed out.
func (o *Owners) Lookup(id Owner) (Process, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.byID[id]
	return p, ok
}

// Len is the number of owners registered, folded rows included.
func (o *Owners) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.byID)
}

// Each calls fn for every registered owner, folded rows included, in no
// particular order; fn must not call back into o.
func (o *Owners) Each(fn func(Owner, Process)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, p := range o.byID {
		fn(id, p)
	}
}

// Forget drops a process or cgroup owner that has no traffic to keep
// (its flows left the table, or were never attributed to it). Folded rows
// stay.
func (o *Owners) Forget(id Owner) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.byID[id]
	switch {
	case !ok || p.Exited:
	case p.IsCgroup():
		delete(o.byID, id)
		delete(o.byCgroup, p.CgroupID)
	default:
		delete(o.byID, id)
		delete(o.byProc, procKey{p.PID, p.StartTime})
	}
}

// Fold forgets process owner id and returns the owner of its program's
// folded row in its container or service (created on first use, carrying
// the Label), which takes over its traffic: the caller moves the totals. It returns id itself, unchanged, for a folded
// row, a cgroup owner or an unknown number.
func (o *Owners) Fold(id Owner) Owner {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.byID[id]
	if !ok || p.Exited || p.IsCgroup() {
		return id
	}
	delete(o.byID, id)
	delete(o.byProc, procKey{p.PID, p.StartTime})
	fk := foldKey{p.Name, p.Label.Key()}
	label := p.Label
	into, ok := o.folded[fk]
	if !ok && len(o.folded) >= MaxFolded {
		fk, label = foldKey{name: OtherExited}, Label{}
		into, ok = o.folded[fk]
	}
	if !ok {
		o.last++
		into = o.last
		o.folded[fk] = into
		o.byID[into] = Process{Name: fk.name, UID: p.UID, User: p.User, Exited: true, Label: label}
	}
	return into
}

// ForwardedName is the name of the row of traffic the host only routes.
const ForwardedName = "forwarded"

// Forwarded returns the owner of the traffic the host only routes (no
// socket on the machine has it), registering it on first use: one row,
// Process.Forwarded set, never folded or forgotten.
func (o *Owners) Forwarded() Owner {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.forwarded == 0 {
		o.last++
		o.forwarded = o.last
		o.byID[o.last] = Process{Name: ForwardedName, Exited: true, Forwarded: true}
	}
	return o.forwarded
}

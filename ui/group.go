package ui

import "hogs/internal/flow"

// Grouping is what one row of the process list stands for: a process
// (nethogs's table), or every process of a program, a user or a container
// or service, with their totals summed (the c key cycles them).
type Grouping uint8

// The groupings, in the c key's order.
const (
	GroupProcess Grouping = iota
	GroupProgram          // the program's base name
	GroupUser             // the real uid
	// GroupContainer groups by container or systemd service (flow.Label);
	// a Kubernetes pod's containers are one group (they share one
	// network namespace), and host processes in neither are one group.
	GroupContainer
	groupingCount
)

// Next is the grouping after g in the c key's cycle.
func (g Grouping) Next() Grouping { return (g + 1) % groupingCount }

// String is the grouping's name as the footer shows it.
func (g Grouping) String() string {
	switch g {
	case GroupProgram:
		return "program"
	case GroupUser:
		return "user"
	case GroupContainer:
		return "container"
	}
	return "process"
}

// title is the header of a grouped list's name column.
func (g Grouping) title() string {
	switch g {
	case GroupUser:
		return "USER"
	case GroupContainer:
		return "CONTAINER"
	}
	return "PROGRAM"
}

// HostGroup names the container group of processes in no container and
// no service.
const HostGroup = "(host)"

// rowsOf is the process list st shows: snap's rows, or with a grouping
// one row per group (built in sc's storage: valid until the next call).
func (sc *renderScratch) rowsOf(snap *View, st *ViewState) []Row {
	if st.Group == GroupProcess || !containersBuilt {
		return snap.Rows
	}
	return sc.group(snap.Rows, st.Group)
}

// appendLabel appends what the CONTAINER column shows of a label,
// sanitized: a Kubernetes pod's NAMESPACE/POD where known, else the
// container's name (or short ID) or the service's unit name.
func (sc *renderScratch) appendLabel(b []byte, l *flow.Label) []byte {
	if !containersBuilt {
		return b
	}
	if l.Pod == "" {
		if l.ID == "" && l.PodUID != "" {
			return sc.display(append(b, "pod "...), l.PodUID)
		}
		return sc.display(b, l.Name)
	}
	if l.Namespace != "" {
		b = sc.display(b, l.Namespace)
		b = append(b, '/')
	}
	return sc.display(b, l.Pod)
}

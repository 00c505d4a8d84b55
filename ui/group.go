package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"hogs/internal/flow"
)

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
	if st.Group == GroupProcess {
		return snap.Rows
	}
	return sc.group(snap.Rows, st.Group)
}

// groupKey is the part of a row that tells its group, without
// allocating: the base name of a program; a uid; a pod's UID, a
// container's ID or a unit's name. A row that is no process
// of the grouping's kind (an unknown row; a cgroup's row by user) is a
// group of its own, told by its name.
func groupKey(r *Row, by Grouping) (own bool, key string, uid uint32) {
	switch {
	case r.Pseudo:
		return true, r.Name, 0
	case by == GroupProgram:
		return false, baseName(r.Name), 0
	case by == GroupUser && r.IsCgroup():
		return true, r.Name, 0
	case by == GroupUser:
		return false, "", r.UID
	}
	if r.Label.PodUID != "" {
		return false, r.Label.PodUID, 0
	}
	return false, r.Label.ID, 0
}

func compareGroups(a, b *Row, by Grouping) int {
	ao, ak, au := groupKey(a, by)
	bo, bk, bu := groupKey(b, by)
	if ao != bo {
		if ao {
			return 1
		}
		return -1
	}
	return cmp.Or(cmp.Compare(au, bu), strings.Compare(ak, bk))
}

// group merges rows into one row per group of by, in sc's storage: the
// totals, rates and intervals added, the flows of all members listed
// (the connections screen shows them), Procs counting the members. A
// group row's RowID is its grouping and key, so the selection stays on
// it across refreshes. It allocates only while sc's storage grows.
func (sc *renderScratch) group(rows []Row, by Grouping) []Row {
	n := len(rows)
	sc.gidx = slices.Grow(sc.gidx[:0], n)[:n]
	for i := range sc.gidx {
		sc.gidx[i] = int32(i)
	}
	slices.SortFunc(sc.gidx, func(a, b int32) int {
		return cmp.Or(compareGroups(&rows[a], &rows[b], by), cmp.Compare(a, b))
	})
	out := sc.grouped[:0]
	flows := sc.gflows[:0]
	for k := 0; k < n; {
		first := &rows[sc.gidx[k]]
		own, key, uid := groupKey(first, by)
		if own {
			out = append(out, *first)
			k++
			continue
		}
		g := Row{Group: by, GroupKey: key}
		g.Process.UID = uid
		switch by {
		case GroupProgram:
			g.Name = key
		case GroupUser:
			g.Name, g.User = first.User, first.User
		case GroupContainer:
			// Name only sorts (n); appendGroupName draws the label.
			g.Label, g.Name = first.Label, cmp.Or(first.Label.Pod, first.Label.Name, first.Label.PodUID, HostGroup)
			if first.Label.PodUID != "" {
				// The pod's, not one container's.
				g.Label.ID, g.Label.Name, g.Label.Runtime = "", "", first.Label.Runtime
			}
		}
		start := len(flows)
		for ; k < n; k++ {
			r := &rows[sc.gidx[k]]
			if o, kk, u := groupKey(r, by); o || kk != key || u != uid {
				break
			}
			g.Procs++
			if g.Device == "" {
				g.Device = r.Device
			}
			if g.User == "" && by == GroupUser {
				g.Name, g.User = r.User, r.User
			}
			g.Sent, g.Recv = g.Sent.Add(r.Sent), g.Recv.Add(r.Recv)
			g.SentRate += r.SentRate
			g.RecvRate += r.RecvRate
			g.SentInterval, g.RecvInterval = g.SentInterval.Add(r.SentInterval), g.RecvInterval.Add(r.RecvInterval)
			g.FlowCount += r.FlowCount
			flows = append(flows, r.Flows...)
		}
		g.Flows = flows[start:len(flows):len(flows)]
		out = append(out, g)
	}
	sc.grouped, sc.gflows = out, flows
	return out
}

// appendGroupName appends what a group row's name column shows: the
// program, the user (or uid), the container's, pod's or service's name.
func (sc *renderScratch) appendGroupName(b []byte, r *Row) []byte {
	switch {
	case r.Group == GroupUser && r.User == "":
		return strconv.AppendUint(b, uint64(r.UID), 10)
	case r.Group == GroupContainer && r.Label.IsZero():
		return append(b, HostGroup...)
	case r.Group == GroupContainer:
		return sc.appendLabel(b, &r.Label)
	}
	return sc.display(b, r.Name)
}

// appendLabel appends what the CONTAINER column shows of a label,
// sanitized: a Kubernetes pod's NAMESPACE/POD where known, else the
// container's name (or short ID) or the service's unit name.
func (sc *renderScratch) appendLabel(b []byte, l *flow.Label) []byte {
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

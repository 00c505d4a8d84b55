//go:build !hogs_small

package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// containersBuilt: the table shows containers and services (the
// CONTAINER column, the filter, JSON's container and service), and the c
// key groups rows. The small build labels nothing and, for its size
// budget, leaves all of it out.
const containersBuilt = true

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
		out = append(out, Row{})
		g := &out[len(out)-1]
		if own {
			*g = *first
			k++
			continue
		}
		g.Group, g.GroupKey, g.UID = by, key, uid
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

// helpGroup is the help overlay's line for the c key.
const helpGroup = `c               group rows by process, program, user,
                container or service (totals per group)
`

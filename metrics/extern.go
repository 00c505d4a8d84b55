package metrics

import (
	"cmp"
	"slices"
	"time"

	"hogs/ui"
)

// monotonic turns a count that should only grow (the capture's, the
// attributor's) into one that does: a value below the previous one is
// taken as a restart from zero, and counts on from there.
type monotonic struct{ prev, total uint64 }

func (m *monotonic) set(v uint64) {
	if v >= m.prev {
		m.total += v - m.prev
	} else {
		m.total += v
	}
	m.prev = v
}

// externCounters are the counters the view and Stats carry as running
// totals: per device, per capture source, evictions, attribution lookups.
type externCounters struct {
	maxDevices int
	devices    map[string]*deviceState
	// otherDevice counts the devices past maxDevices.
	otherDevice struct{ packets, bytes uint64 }
	sources     map[sourceKey]*sourceState
	evicted     monotonic
	created     monotonic
	lookups     map[string]*monotonic
	attributor  string
	flows       int
	refreshed   time.Time
	haveStats   bool
}

type deviceState struct {
	name           string
	packets, bytes monotonic
	seen           time.Time
	folded         bool // counted in otherDevice
}

type sourceKey struct{ source, mode string }

type sourceState struct {
	key               sourceKey
	received, dropped monotonic
}

func newExternCounters(maxDevices int) externCounters {
	return externCounters{maxDevices: maxDevices, devices: map[string]*deviceState{},
		sources: map[sourceKey]*sourceState{}, lookups: map[string]*monotonic{}}
}

// deviceForget is how long a device missing from the views keeps its
// series (a veth of a container that stopped, say).
const deviceForget = 10 * time.Minute

func (x *externCounters) addView(v *ui.View) {
	x.refreshed = v.Time
	x.evicted.set(v.Evictions)
	x.flows = 0
	for i := range v.Rows {
		x.flows += len(v.Rows[i].Flows)
	}
	// Devices may appear in several sources: their counts add up.
	type sum struct{ packets, bytes uint64 }
	var sums map[string]sum
	for _, c := range v.Capture {
		k := sourceKey{labelValue(c.Source), labelValue(c.Mode)}
		s := x.sources[k]
		if s == nil {
			s = &sourceState{key: k}
			x.sources[k] = s
		}
		s.received.set(c.Received)
		s.dropped.set(c.Dropped)
		for _, d := range c.Devices {
			if sums == nil {
				sums = map[string]sum{}
			}
			name := labelValue(d.Name)
			t := sums[name]
			sums[name] = sum{t.packets + d.Packets, t.bytes + d.Bytes}
		}
	}
	shown := 0
	for _, d := range x.devices {
		if !d.folded {
			shown++
		}
	}
	for name, t := range sums {
		d := x.devices[name]
		if d == nil {
			d = &deviceState{name: name, folded: shown >= x.maxDevices}
			if !d.folded {
				shown++
			}
			x.devices[name] = d
		}
		p, b := d.packets.total, d.bytes.total
		d.packets.set(t.packets)
		d.bytes.set(t.bytes)
		if d.folded {
			x.otherDevice.packets += d.packets.total - p
			x.otherDevice.bytes += d.bytes.total - b
		}
		d.seen = v.Time
	}
	for name, d := range x.devices {
		if v.Time.Sub(d.seen) > deviceForget {
			delete(x.devices, name)
		}
	}
}

func (x *externCounters) addStats(s *Stats) {
	x.haveStats = true
	x.attributor = labelValue(s.Attributor)
	x.created.set(s.FlowsCreated)
	for _, l := range s.Lookups {
		name := labelValue(l.Method)
		m := x.lookups[name]
		if m == nil {
			if len(x.lookups) >= 32 { // methods are a handful of constants
				continue
			}
			m = &monotonic{}
			x.lookups[name] = m
		}
		m.set(l.Count)
	}
}

// sortedDevices lists the devices with series of their own, by name.
func (x *externCounters) sortedDevices(dst []*deviceState) []*deviceState {
	for _, d := range x.devices {
		if !d.folded {
			dst = append(dst, d)
		}
	}
	slices.SortFunc(dst, func(a, b *deviceState) int { return cmp.Compare(a.name, b.name) })
	return dst
}

package rawcap

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Hardware types (ARPHRD_* in <linux/if_arp.h>) that Device methods tell
// apart. They are spelled out here so that this file builds everywhere.
const (
	arphrdEther    = 1      // ARPHRD_ETHER: Ethernet, and Ethernet-like virtual devices
	arphrdPPP      = 512    // ARPHRD_PPP
	arphrdLoopback = 772    // ARPHRD_LOOPBACK
	arphrdNone     = 0xfffe // ARPHRD_NONE: no link header (tun, wireguard)
)

// ethernetHeaderLen is the length of an Ethernet header without VLAN tags.
const ethernetHeaderLen = 14

// Device is one network interface as the kernel reports it.
type Device struct {
	// Index is the interface index (ifindex), unique within the network
	// namespace.
	Index int
	// Name is the interface name, such as "eth0".
	Name string
	// Up is whether the interface is administratively up (IFF_UP).
	Up bool
	// Loopback is whether the interface is a loopback device (IFF_LOOPBACK).
	Loopback bool
	// HWType is the hardware type, an ARPHRD_* number: 1 Ethernet,
	// 772 loopback, 65534 none (tun, wireguard), 512 PPP, ...
	HWType uint16
	// Kind is the driver kind of a virtual device (IFLA_INFO_KIND): "vlan",
	// "bridge", "bond", "veth", "tun", "wireguard", ...; "" for plain NICs
	// and lo.
	Kind string
	// Master is the ifindex of the device this one is enslaved to
	// (IFLA_MASTER: a bridge port's bridge, a bond slave's bond), 0 if
	// none.
	Master int
	// Link is the ifindex of the device this one is stacked on (IFLA_LINK):
	// a VLAN's or macvlan's parent. It is 0 when there is none, when
	// IFLA_LINK names the device itself (plain NICs), when the parent lives
	// in another network namespace, and for devices whose IFLA_LINK names a
	// peer rather than a parent (veth, vxcan, netkit).
	Link int
	// PeerElsewhere marks the host side of a veth (vxcan, netkit) whose
	// peer lives in another network namespace (IFLA_LINK_NETNSID): a
	// namespace boundary (see Selection.Boundaries).
	PeerElsewhere bool
	// Addrs are the device's IPv4 and IPv6 addresses with their prefix
	// lengths (IFA_LOCAL, else IFA_ADDRESS), in the kernel's order.
	Addrs []netip.Prefix
}

// LinkHeaderLen is the number of link-layer header bytes that the
// device's own counters include in a packet's length and that a SOCK_DGRAM
// packet socket strips: 14 for Ethernet (ARPHRD_ETHER), 0 for everything
// else. Loopback frames carry a 14-byte Ethernet header inside the kernel,
// but lo counts them without it, and so does hogs: hogs counts bytes as the
// interface counters (ip -s link) do.
func (d Device) LinkHeaderLen() int {
	if d.HWType == arphrdEther {
		return ethernetHeaderLen
	}
	return 0
}

// LinkDescription returns the line nethogs prints when it starts capturing
// on the device. The mapping, by hardware type:
//
//   - ARPHRD_ETHER (1), ARPHRD_LOOPBACK (772): "Ethernet link detected"
//   - ARPHRD_PPP (512): "PPP link detected"
//   - ARPHRD_NONE (65534), and any other device of kind "tun": "Linux Cooked
//     Socket link detected" (tun, wireguard: no link header, where libpcap
//     would fall back to a cooked capture)
//   - anything else: "No PPP or Ethernet link: N", N the ARPHRD number
//
// A tap device (kind "tun", ARPHRD_ETHER) is an Ethernet link.
func (d Device) LinkDescription() string {
	switch {
	case d.HWType == arphrdEther || d.HWType == arphrdLoopback:
		return "Ethernet link detected"
	case d.HWType == arphrdPPP:
		return "PPP link detected"
	case d.HWType == arphrdNone || d.Kind == "tun":
		return "Linux Cooked Socket link detected"
	}
	return "No PPP or Ethernet link: " + strconv.Itoa(int(d.HWType))
}

// clone returns a copy of d that shares no memory with it.
func (d Device) clone() Device {
	d.Addrs = slices.Clone(d.Addrs)
	return d
}

// Selection is what the user asked to monitor, with nethogs's semantics.
type Selection struct {
	// Names are exact interface names to monitor. Empty selects the default
	// set: every device that is up and not loopback.
	Names []string
	// All (-a) adds loopback devices and devices that are down to the
	// default set. It has no effect when Names are given.
	All bool
	// Boundaries counts the packets of a selected device whose peer is in
	// another namespace (Device.PeerElsewhere) there, even when it is a
	// bridge port whose bridge is selected: the caller gives them the
	// peer's namespace (package nsattr) and leaves the bridge's copy of
	// them out (a container's traffic counts once, at its boundary).
	Boundaries bool
}

// selects reports whether the selection picks d on its own merits (before
// the no-double-counting rules). names is s.Names as a set.
func (s Selection) selects(d Device, names map[string]bool) bool {
	if len(s.Names) > 0 {
		return names[d.Name]
	}
	return s.All || (d.Up && !d.Loopback)
}

// Resolve checks that every named device exists in devs. An unknown name
// gives an error that names it and lists the devices that exist, for
// example
//
//	unknown device "eth9"; devices: eth0, lo, wlan0
//
// It is meant for start-up: devices that appear later are picked up by Plan.
func (s Selection) Resolve(devs []Device) error {
	existing := make([]string, 0, len(devs))
	for _, d := range devs {
		existing = append(existing, d.Name)
	}
	slices.Sort(existing)
	existing = slices.Compact(existing)

	var unknown []string
	for _, name := range s.Names {
		quoted := strconv.Quote(name)
		if _, found := slices.BinarySearch(existing, name); !found && !slices.Contains(unknown, quoted) {
			unknown = append(unknown, quoted)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	list := strings.Join(existing, ", ")
	if list == "" {
		list = "(none)"
	}
	noun := "device"
	if len(unknown) > 1 {
		noun = "devices"
	}
	return fmt.Errorf("unknown %s %s; devices: %s", noun, strings.Join(unknown, ", "), list)
}

// Plan says, per device, whether packets seen there are counted. It is
// immutable once built and safe for concurrent readers.
//
// A device is selected when the Selection names it (by exact name, even if
// it is down or loopback) or, when no names are given, when it is up and
// not loopback; All (-a) adds loopback and down devices to that default
// set.
//
// No packet is counted twice. A packet crosses every device of a stack — a
// bridge and its ports, a bond and its slaves, a VLAN device and its parent
// — and is counted on the upper device when that is selected:
//
//   - A selected device with a selected device above it in its chain of
//     masters (its Master, its Master's Master, ...) is not counted
//     (Count=false): a bridge port's or bond slave's traffic is counted on
//     the bridge or bond.
//   - A selected device that is the Link parent of a selected VLAN device
//     (or the parent of such a parent, for stacked VLANs) counts only
//     untagged packets (CountTagged=false): tagged ones are counted on the
//     VLAN device.
//
// Only selected devices count: naming just a bridge port (eth0, not br0)
// counts everything on eth0. A device that vanishes is simply no longer in
// the plan; a new device that matches the selection is in the next plan
// built.
type Plan struct {
	devices []Device    // sorted by Index, one per index
	entries []PlanEntry // entries[i] describes devices[i]
	// dense maps an ifindex below denseIndexLimit to 1 + its position in
	// entries; 0 means no such device.
	dense []int32
	// sparse maps an ifindex of denseIndexLimit or more to its position in
	// entries.
	sparse map[int]int32
	// counted names the devices whose packets count, in index order.
	counted []string
}

// denseIndexLimit bounds the directly indexed part of a Plan's table:
// interface indexes at or above it (namespaces with heavy interface churn
// reach them) are looked up in a map.
const denseIndexLimit = 1 << 16

// PlanEntry is what a Plan says about one device.
type PlanEntry struct {
	// Name is the device's name.
	Name string
	// Count is whether packets seen on the device are counted. It is false
	// for devices that are not selected, and for selected ones whose traffic
	// is counted on a selected master.
	Count bool
	// CountTagged is whether packets that carry a VLAN tag on this device
	// are counted. It is false when Count is, and for a device whose tagged
	// traffic is counted on a selected VLAN device stacked on it.
	CountTagged bool
	// LinkHeaderLen is Device.LinkHeaderLen: the link-layer header bytes a
	// SOCK_DGRAM packet socket strips from frames on this device.
	LinkHeaderLen int
	// Selected is whether the Selection picks the device (before the
	// no-double-counting rules).
	Selected bool
	// Boundary marks a namespace boundary (Selection.Boundaries): a
	// selected bridge port whose peer is in another namespace.
	Boundary bool
	// NetNS is the namespace the frames of a boundary belong to, as
	// Live.SetPeers gave it (Frame.NetNS; their direction is turned
	// round: what the host side receives, that namespace sent); 0 for
	// every other device, and for a boundary whose namespace is not
	// known yet.
	NetNS uint32
}

// Plan builds the plan for devs (see Plan for the rules). devs may be in
// any order; when two share an ifindex the first is used.
func (s Selection) Plan(devs []Device) *Plan {
	devices := make([]Device, 0, len(devs))
	for _, d := range devs {
		devices = append(devices, d.clone())
	}
	slices.SortStableFunc(devices, func(a, b Device) int { return cmp.Compare(a.Index, b.Index) })
	devices = slices.CompactFunc(devices, func(a, b Device) bool { return a.Index == b.Index })

	position := make(map[int]int, len(devices)) // ifindex → position in devices
	for i, d := range devices {
		position[d.Index] = i
	}
	names := make(map[string]bool, len(s.Names))
	for _, name := range s.Names {
		names[name] = true
	}

	p := &Plan{devices: devices, entries: make([]PlanEntry, len(devices))}
	for i, d := range devices {
		selected := s.selects(d, names)
		p.entries[i] = PlanEntry{
			Name:          d.Name,
			Count:         selected,
			CountTagged:   selected,
			LinkHeaderLen: d.LinkHeaderLen(),
			Selected:      selected,
		}
	}

	// Bridge ports and bond slaves: counted on a selected master instead;
	// with Boundaries, a port whose peer is in another namespace counts
	// there.
	for i, d := range devices {
		if !p.entries[i].Selected {
			continue
		}
		if s.Boundaries && d.PeerElsewhere && d.Master != 0 {
			p.entries[i].Boundary = true
			continue
		}
		// Each step climbs one level; a chain longer than the device count
		// has a cycle, which the kernel does not allow but a table might.
		master := d.Master
		for steps := 0; master != 0 && steps < len(devices); steps++ {
			m, ok := position[master]
			if !ok {
				break
			}
			if p.entries[m].Selected {
				p.entries[i].Count = false
				p.entries[i].CountTagged = false
				break
			}
			master = devices[m].Master
		}
	}

	// VLAN parents: their tagged traffic is counted on the selected VLAN
	// device. Stacked VLANs (QinQ) pass it down to every parent below.
	for i, d := range devices {
		if d.Kind != "vlan" || !p.entries[i].Selected {
			continue
		}
		parent := d.Link
		for steps := 0; parent != 0 && steps < len(devices); steps++ {
			pi, ok := position[parent]
			if !ok {
				break
			}
			p.entries[pi].CountTagged = false
			if devices[pi].Kind != "vlan" {
				break
			}
			parent = devices[pi].Link
		}
	}

	// The lookup table.
	maxDense := -1
	for _, d := range devices {
		if d.Index >= 0 && d.Index < denseIndexLimit {
			maxDense = max(maxDense, d.Index)
		}
	}
	p.dense = make([]int32, maxDense+1)
	for i, d := range devices {
		if d.Index >= 0 && d.Index < denseIndexLimit {
			p.dense[d.Index] = int32(i + 1)
			continue
		}
		if p.sparse == nil {
			p.sparse = make(map[int]int32)
		}
		p.sparse[d.Index] = int32(i)
	}
	for i := range p.entries {
		if p.entries[i].Count {
			p.counted = append(p.counted, p.entries[i].Name)
		}
	}
	return p
}

// Counted names the devices whose packets count, in index order: the
// plan's own slice, made once (a view shows it at every refresh), which
// the caller must not modify.
func (p *Plan) Counted() []string {
	if p == nil {
		return nil
	}
	return p.counted
}

// Lookup returns the plan's entry for the device with the given ifindex,
// and false when the plan has no such device (one that appeared after the
// plan was built, or none at all). It does not allocate; a nil Plan has no
// devices.
func (p *Plan) Lookup(ifindex int) (PlanEntry, bool) {
	if e := p.entry(ifindex); e != nil {
		return *e, true
	}
	return PlanEntry{}, false
}

// withPeers returns a copy of p whose boundaries carry the namespaces of
// peers (ifindex → namespace; others' NetNS is 0).
func (p *Plan) withPeers(peers map[int]uint32) *Plan {
	if p == nil {
		return nil
	}
	q := *p
	q.entries = slices.Clone(p.entries)
	for i := range q.entries {
		q.entries[i].NetNS = 0
		if q.entries[i].Boundary {
			q.entries[i].NetNS = peers[q.devices[i].Index]
		}
	}
	return &q
}

// entry is Lookup without the copy: a pointer into the plan, which never
// changes once built; nil when the plan has no such device.
func (p *Plan) entry(ifindex int) *PlanEntry {
	if p == nil {
		return nil
	}
	if uint(ifindex) < uint(len(p.dense)) {
		if pos := p.dense[ifindex]; pos != 0 {
			return &p.entries[pos-1]
		}
		return nil
	}
	if pos, ok := p.sparse[ifindex]; ok {
		return &p.entries[pos]
	}
	return nil
}

// Devices returns a copy of the devices the plan was built from, sorted by
// Index.
func (p *Plan) Devices() []Device {
	if p == nil {
		return nil
	}
	devs := make([]Device, len(p.devices))
	for i, d := range p.devices {
		devs[i] = d.clone()
	}
	return devs
}

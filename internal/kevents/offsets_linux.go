//go:build linux && !hogs_small

package kevents

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// offsets are where the programs read the kernel's structures, taken from
// the running kernel's BTF at load time: the programs are assembled for
// this kernel, so no compiled object has to match its layout.
type offsets struct {
	skProtocol   int32 // struct sock: sk_protocol (u16)
	skFamily     int32 // __sk_common.skc_family (u16)
	inetSport    int32 // struct inet_sock: inet_sport, local port, network order (u16)
	skDport      int32 // __sk_common.skc_dport: remote port, network order (u16)
	skDaddr      int32 // __sk_common.skc_daddr (IPv4)
	skRcvSaddr   int32 // __sk_common.skc_rcv_saddr (IPv4)
	skV6Daddr    int32 // __sk_common.skc_v6_daddr
	skV6RcvSaddr int32 // __sk_common.skc_v6_rcv_saddr
	skNet        int32 // __sk_common.skc_net.net: struct net *
	netInum      int32 // struct net: ns.inum, the namespace's inode number
	groupLeader  int32 // struct task_struct: group_leader
	startBoot    int32 // struct task_struct: start_boottime (ns since boot)
}

// kernelOffsets reads the offsets from spec (the kernel's BTF).
func kernelOffsets(spec *btf.Spec) (offsets, error) {
	var o offsets
	var errs []error
	field := func(dst *int32, typ string, path ...string) {
		off, err := fieldOffset(spec, typ, path...)
		if err != nil {
			errs = append(errs, err)
		}
		*dst = int32(off)
	}
	field(&o.skProtocol, "sock", "sk_protocol")
	field(&o.skFamily, "sock", "__sk_common", "skc_family")
	// Not skc_num: closing a socket releases its port (skc_num = 0)
	// before the state changes to CLOSE; inet_sport stays.
	field(&o.inetSport, "inet_sock", "inet_sport")
	field(&o.skDport, "sock", "__sk_common", "skc_dport")
	field(&o.skDaddr, "sock", "__sk_common", "skc_daddr")
	field(&o.skRcvSaddr, "sock", "__sk_common", "skc_rcv_saddr")
	field(&o.skV6Daddr, "sock", "__sk_common", "skc_v6_daddr")
	field(&o.skV6RcvSaddr, "sock", "__sk_common", "skc_v6_rcv_saddr")
	field(&o.skNet, "sock", "__sk_common", "skc_net", "net")
	field(&o.netInum, "net", "ns", "inum")
	field(&o.groupLeader, "task_struct", "group_leader")
	field(&o.startBoot, "task_struct", "start_boottime")
	return o, errors.Join(errs...)
}

// fieldOffset returns the byte offset of the member reached by path in
// struct typ. Members of anonymous structs and unions are found as if
// they were typ's own, as C sees them.
func fieldOffset(spec *btf.Spec, typ string, path ...string) (uint32, error) {
	var s *btf.Struct
	if err := spec.TypeByName(typ, &s); err != nil {
		return 0, fmt.Errorf("kernel BTF: struct %s: %w", typ, err)
	}
	var t btf.Type = s
	var off uint32
	for _, name := range path {
		m, at, ok := findMember(t, name)
		if !ok {
			return 0, fmt.Errorf("kernel BTF: struct %s has no member %v", typ, path)
		}
		if m.BitfieldSize != 0 || at%8 != 0 {
			return 0, fmt.Errorf("kernel BTF: %s.%v is a bit field", typ, path)
		}
		off += uint32(at / 8)
		t = m.Type
	}
	return off, nil
}

// findMember looks for member name in a struct or union, descending into
// anonymous members; at is its offset in bits from the start of t.
func findMember(t btf.Type, name string) (m btf.Member, at btf.Bits, ok bool) {
	var members []btf.Member
	switch c := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	default:
		return btf.Member{}, 0, false
	}
	for _, m := range members {
		if m.Name == name {
			return m, m.Offset, true
		}
	}
	for _, m := range members {
		if m.Name != "" {
			continue
		}
		if inner, at, ok := findMember(m.Type, name); ok {
			return inner, m.Offset + at, true
		}
	}
	return btf.Member{}, 0, false
}

package conntrack

import (
	"errors"
	"net/netip"
	"testing"

	"hogs/internal/flow"
)

// fakeTable is a conntrack table holding entries, found by either
// direction as the kernel finds them; err, when set, is every answer.
type fakeTable struct {
	entries []Entry
	err     error
	asked   []Tuple
}

func (f *fakeTable) Get(t Tuple) (Entry, error) {
	f.asked = append(f.asked, t)
	if f.err != nil {
		return Entry{}, f.err
	}
	for _, e := range f.entries {
		if e.Orig == t || e.Reply == t {
			return e, nil
		}
	}
	return Entry{}, ErrNotFound
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func tu(proto uint8, src, dst string) Tuple { return Tuple{Proto: proto, Src: ap(src), Dst: ap(dst)} }

func key(proto uint8, local, remote string) flow.Key {
	return flow.Key{Proto: proto, Local: ap(local), Remote: ap(remote), NetNS: labNS}
}

// TestClassify: the rule of the package comment, case by case, in the
// lab's addresses (host 192.168.90.1 / 10.90.1.1, container 10.90.1.2,
// remotes elsewhere).
func TestClassify(t *testing.T) {
	masq := Entry{Orig: tu(6, "10.90.1.2:5000", "8.8.8.8:443"), Reply: tu(6, "8.8.8.8:443", "192.168.90.1:5000"), Status: StatusSrcNAT | StatusConfirmed}
	masqPort := Entry{Orig: tu(17, "10.90.1.2:53", "8.8.8.8:53"), Reply: tu(17, "8.8.8.8:53", "192.168.90.1:1024"), Status: StatusSrcNAT}
	dnat := Entry{Orig: tu(6, "8.8.4.4:40000", "192.168.90.1:8080"), Reply: tu(6, "10.90.1.2:80", "8.8.4.4:40000"), Status: StatusDstNAT}
	routed := Entry{Orig: tu(6, "192.168.90.2:40000", "10.91.2.2:22"), Reply: tu(6, "10.91.2.2:22", "192.168.90.2:40000")}
	// A machine on a LAN behind the host, masqueraded: the host only
	// routes (and translates) it.
	lanMasq := Entry{Orig: tu(6, "10.91.2.2:6000", "8.8.8.8:443"), Reply: tu(6, "8.8.8.8:443", "192.168.90.1:6000"), Status: StatusSrcNAT}
	hostOwn := Entry{Orig: tu(6, "192.168.90.1:7000", "8.8.8.8:443"), Reply: tu(6, "8.8.8.8:443", "192.168.90.1:7000")}
	// Hairpin: the container reaches its own port forward on the host's
	// address, masqueraded back.
	hairpin := Entry{Orig: tu(6, "10.90.1.2:7100", "192.168.90.1:8080"), Reply: tu(6, "10.90.1.2:80", "10.90.1.1:7100"), Status: StatusSrcNAT | StatusDstNAT}
	v6 := Entry{Orig: tu(6, "[fd90:1::2]:5000", "[2001:db8::1]:443"), Reply: tu(6, "[2001:db8::1]:443", "[fd90:2::1]:5000"), Status: StatusSrcNAT}
	all := []Entry{masq, masqPort, dnat, routed, lanMasq, hostOwn, hairpin, v6}

	for _, tc := range []struct {
		name  string
		k     flow.Key
		want  Class
		asked int // lookups made
	}{
		{"masquerade out, seen on the uplink", key(6, "192.168.90.1:5000", "8.8.8.8:443"), CountedElsewhere, 1},
		{"masquerade with the port remapped", key(17, "192.168.90.1:1024", "8.8.8.8:53"), CountedElsewhere, 1},
		{"port forward in, seen on the uplink", key(6, "192.168.90.1:8080", "8.8.4.4:40000"), CountedElsewhere, 1},
		{"port forward, key the other way round", key(6, "8.8.4.4:40000", "192.168.90.1:8080"), CountedElsewhere, 2},
		{"routed remote to remote", key(6, "10.91.2.2:22", "192.168.90.2:40000"), Forwarded, 1},
		{"routed, key the other way round", key(6, "192.168.90.2:40000", "10.91.2.2:22"), Forwarded, 1},
		{"a LAN machine masqueraded out", key(6, "192.168.90.1:6000", "8.8.8.8:443"), Forwarded, 1},
		{"the host's own flow", key(6, "192.168.90.1:7000", "8.8.8.8:443"), Local, 1},
		{"hairpin through the port forward", key(6, "10.90.1.1:7100", "10.90.1.2:80"), CountedElsewhere, 1},
		{"IPv6 masquerade", key(6, "[fd90:2::1]:5000", "[2001:db8::1]:443"), CountedElsewhere, 1},
		{"IPv4 key mapped into IPv6", key(6, "[::ffff:192.168.90.1]:5000", "[::ffff:8.8.8.8]:443"), CountedElsewhere, 1},
		{"no entry: container routed without NAT", key(6, "10.90.1.2:5555", "8.8.8.8:443"), CountedElsewhere, 2},
		{"no entry: remote to remote", key(17, "9.9.9.9:53", "8.8.8.8:53"), Forwarded, 2},
		{"no entry: host address", key(17, "192.168.90.1:53", "8.8.8.8:53"), Local, 2},
		{"not TCP or UDP: no lookup", flow.Key{Proto: 1, Local: ap("192.168.90.1:0"), Remote: ap("8.8.8.8:0"), NetNS: labNS}, Local, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := &fakeTable{entries: all}
			got, err := labClassifier(table).Classify(tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Classify(%v) = %s, want %s", tc.k, got, tc.want)
			}
			if len(table.asked) != tc.asked {
				t.Errorf("%d lookups %v, want %d", len(table.asked), table.asked, tc.asked)
			}
		})
	}
}

// TestClassifyWithoutTable: no table, or a table that refuses, leaves
// the addresses to decide and says why.
func TestClassifyWithoutTable(t *testing.T) {
	uplink := key(6, "192.168.90.1:5000", "8.8.8.8:443") // a masqueraded copy
	none := NewClassifier(Config{Table: func(uint32) Getter { return nil }, IsLocal: member(labHost), IsContainer: member(labContainer)})
	if got, err := none.Classify(uplink); got != Local || err != nil {
		t.Errorf("no table: %s, %v; want local, no error", got, err)
	}
	refused := labClassifier(&fakeTable{err: KernelError(errnoEPERM)})
	got, err := refused.Classify(uplink)
	if got != Local || !errors.Is(err, KernelError(errnoEPERM)) {
		t.Errorf("refused: %s, %v; want local and the kernel's refusal", got, err)
	}
	if got, _ := refused.Classify(key(6, "10.90.1.2:1", "8.8.8.8:443")); got != CountedElsewhere {
		t.Errorf("refused, container address in the key: %s, want counted elsewhere", got)
	}
}

// TestClassifyNamespace: tables and predicates are those of the key's
// namespace.
func TestClassifyNamespace(t *testing.T) {
	var tables, locals []uint32
	c := NewClassifier(Config{
		Table: func(ns uint32) Getter {
			tables = append(tables, ns)
			return &fakeTable{}
		},
		IsLocal:     func(ns uint32, _ netip.Addr) bool { locals = append(locals, ns); return false },
		IsContainer: func(ns uint32, a netip.Addr) bool { return ns == 7 && a == netip.MustParseAddr("10.0.0.7") },
	})
	k := flow.Key{Proto: 6, Local: ap("10.0.0.7:1"), Remote: ap("10.0.0.8:2"), NetNS: 7}
	if got, _ := c.Classify(k); got != CountedElsewhere {
		t.Errorf("in namespace 7: %s", got)
	}
	k.NetNS = 9
	if got, _ := c.Classify(k); got != Forwarded {
		t.Errorf("in namespace 9: %s", got)
	}
	if len(tables) != 2 || tables[0] != 7 || tables[1] != 9 || locals[0] != 7 || locals[len(locals)-1] != 9 {
		t.Errorf("tables asked for %v, predicates for %v", tables, locals)
	}
	for c, s := range map[Class]string{Local: "local", CountedElsewhere: "counted elsewhere", Forwarded: "forwarded", 9: "class?"} {
		if c.String() != s {
			t.Errorf("Class(%d) = %q, want %q", c, c.String(), s)
		}
	}
}

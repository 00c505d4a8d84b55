package netlab

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrStopping refuses new namespaces and processes once Cleanup has begun.
var ErrStopping = errors.New("the lab is cleaning up")

// Lab records every namespace and process it creates, so that Cleanup
// (deferred, on a signal, at a deadline, or from t.Cleanup) removes them
// on every exit path.
type Lab struct {
	mu       sync.Mutex
	stopping bool
	procs    map[*Proc]struct{}
	netns    map[string]struct{}
}

// NewLab returns a Lab that has created nothing yet.
func NewLab() *Lab {
	return &Lab{procs: map[*Proc]struct{}{}, netns: map[string]struct{}{}}
}

// RandomName is prefix-XXXXXXXX, eight random hex digits.
func RandomName(prefix string) string { return fmt.Sprintf("%s-%08x", prefix, rand.Uint32()) }

// AddNetns creates namespace name (ip netns add) and records it.
func (l *Lab) AddNetns(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return ErrStopping
	}
	if _, err := RunIP("", "netns", "add", name); err != nil {
		return err
	}
	l.netns[name] = struct{}{}
	return nil
}

// DelNetns deletes namespace name if this Lab created it and it is still
// there; its processes must be gone or going.
func (l *Lab) DelNetns(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.delNetnsLocked(name)
}

func (l *Lab) delNetnsLocked(name string) error {
	if _, ok := l.netns[name]; !ok {
		return nil
	}
	delete(l.netns, name)
	_, err := RunIP("", "netns", "delete", name)
	return err
}

// Owns reports whether namespace name is one this Lab created.
func (l *Lab) Owns(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.netns[name]
	return ok
}

// Cleanup kills every process still running and deletes every namespace
// still present; afterwards the Lab creates nothing. It returns what
// failed.
func (l *Lab) Cleanup() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopping = true
	for p := range l.procs {
		p.Cmd.Process.Kill()
	}
	if len(l.procs) > 0 {
		time.Sleep(300 * time.Millisecond) // let them die before their namespace goes
	}
	var errs []error
	for name := range l.netns {
		errs = append(errs, l.delNetnsLocked(name))
	}
	return errors.Join(errs...)
}

// Pair is two namespaces joined by a veth pair: vA in A, vB in B.
type Pair struct{ A, B string }

// PairConfig describes a pair: the name prefix of its namespaces, the IPv4
// addresses (/24) and MAC addresses of vA and vB, extra sysctls for each
// side, and whether lo comes up in both.
type PairConfig struct {
	Prefix             string
	AddrA, AddrB       string
	MACA, MACB         string
	SysctlsA, SysctlsB []string
	LoopbackUp         bool
}

// NewPair creates namespaces PREFIX-a-XXXXXXXX and PREFIX-b-XXXXXXXX and a
// veth pair between them that carries only the traffic sent over it: IPv6
// off (no link-local address, DAD, router or MLD traffic), no IGMP
// reports, multicast off, static ARP entries both ways. On error what it
// made is removed.
func (l *Lab) NewPair(cfg PairConfig) (p Pair, err error) {
	suffix := RandomName("")[1:]
	p = Pair{A: cfg.Prefix + "-a-" + suffix, B: cfg.Prefix + "-b-" + suffix}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.RemovePair(p))
		}
	}()
	quiet := []string{
		"net.ipv6.conf.all.disable_ipv6=1",
		"net.ipv6.conf.default.disable_ipv6=1",
		"net.ipv4.igmp_link_local_mcast_reports=0",
	}
	for _, side := range []struct {
		ns    string
		extra []string
	}{{p.A, cfg.SysctlsA}, {p.B, cfg.SysctlsB}} {
		if err := l.AddNetns(side.ns); err != nil {
			return p, err
		}
		for _, s := range append(quiet, side.extra...) {
			if err := SetSysctl(side.ns, s); err != nil {
				return p, err
			}
		}
	}
	steps := [][]string{
		{"", "link", "add", "vA", "netns", p.A, "address", cfg.MACA, "type", "veth", "peer", "name", "vB", "netns", p.B, "address", cfg.MACB},
		{p.A, "addr", "add", cfg.AddrA + "/24", "dev", "vA"},
		{p.B, "addr", "add", cfg.AddrB + "/24", "dev", "vB"},
		{p.A, "neigh", "add", cfg.AddrB, "lladdr", cfg.MACB, "dev", "vA", "nud", "permanent"},
		{p.B, "neigh", "add", cfg.AddrA, "lladdr", cfg.MACA, "dev", "vB", "nud", "permanent"},
		{p.A, "link", "set", "vA", "multicast", "off", "up"},
		{p.B, "link", "set", "vB", "multicast", "off", "up"},
	}
	if cfg.LoopbackUp {
		steps = append(steps, []string{p.A, "link", "set", "lo", "up"}, []string{p.B, "link", "set", "lo", "up"})
	}
	for _, s := range steps {
		if _, err := RunIP(s[0], s[1:]...); err != nil {
			return p, err
		}
	}
	return p, nil
}

// RemovePair deletes the pair's namespaces.
func (l *Lab) RemovePair(p Pair) error {
	return errors.Join(l.DelNetns(p.A), l.DelNetns(p.B))
}

// SetSysctl sets KEY=VALUE (net.ipv4.ip_forward=1) inside namespace ns.
// /proc/sys/net belongs to the namespace of the thread that opens it, so
// the file is written from inside (InNetns); no sysctl program is needed.
func SetSysctl(ns, setting string) error {
	key, value, ok := strings.Cut(setting, "=")
	if !ok {
		return fmt.Errorf("sysctl %q: want KEY=VALUE", setting)
	}
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	var werr error
	if err := InNetns(ns, func() { werr = os.WriteFile(path, []byte(value), 0o644) }); err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("sysctl %s in %s: %w", setting, ns, werr)
	}
	return nil
}

// Package vethlab is the test bench the live benchmarks share: network
// namespaces joined by a quiet veth pair, a registry that removes every
// namespace and process they create on any exit path, the interface
// counters of a device, and a process's CPU time and memory from /proc.
// It is for the benchmark programs under bench/, which run as root.
package vethlab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrStopping refuses new namespaces and processes once cleanup has begun.
var ErrStopping = errors.New("harness is stopping")

// Registry tracks every namespace and process a harness creates, so that
// Cleanup (deferred, on a signal, or at a deadline) removes them on every
// exit path. Creating and cleaning up hold the same lock: nothing is
// created behind the back of a cleanup.
type Registry struct {
	name     string // the harness's name, in messages
	mu       sync.Mutex
	stopping bool
	procs    map[*exec.Cmd]struct{}
	netns    map[string]struct{}
}

// NewRegistry returns an empty registry for the harness called name.
func NewRegistry(name string) *Registry {
	return &Registry{name: name, procs: map[*exec.Cmd]struct{}{}, netns: map[string]struct{}{}}
}

// Start starts cmd and records it.
func (r *Registry) Start(cmd *exec.Cmd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return ErrStopping
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	r.procs[cmd] = struct{}{}
	return nil
}

// Exited forgets cmd, which has been waited for.
func (r *Registry) Exited(cmd *exec.Cmd) {
	r.mu.Lock()
	delete(r.procs, cmd)
	r.mu.Unlock()
}

// AddNetns creates namespace name and records it.
func (r *Registry) AddNetns(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return ErrStopping
	}
	if _, err := IP("", "netns", "add", name); err != nil {
		return err
	}
	r.netns[name] = struct{}{}
	return nil
}

// DelNetns removes namespace name (its processes must be gone or going).
func (r *Registry) DelNetns(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delNetnsLocked(name)
}

func (r *Registry) delNetnsLocked(name string) error {
	if _, ok := r.netns[name]; !ok {
		return nil
	}
	delete(r.netns, name)
	_, err := IP("", "netns", "delete", name)
	return err
}

// Owns reports whether namespace name is one this registry created.
func (r *Registry) Owns(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.netns[name]
	return ok
}

// Cleanup kills every process still running (SIGKILL, by its own PID) and
// deletes every namespace still present; afterwards nothing new starts.
func (r *Registry) Cleanup() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopping = true
	for cmd := range r.procs {
		cmd.Process.Kill()
	}
	if len(r.procs) > 0 {
		time.Sleep(300 * time.Millisecond) // let them die before their namespace goes
	}
	for name := range r.netns {
		if err := r.delNetnsLocked(name); err != nil {
			fmt.Fprintf(os.Stderr, "%s: cleanup: %v\n", r.name, err)
		}
	}
}

// IP runs `ip [-n NS] args...`.
func IP(ns string, args ...string) (string, error) {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// InNetns runs a short command inside namespace ns and returns its output.
func InNetns(ns string, argv ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip netns exec %s %s: %v: %s", ns, strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Sysctl sets key=value inside namespace ns.
func Sysctl(ns, setting string) error {
	_, err := InNetns(ns, "sysctl", "-q", "-w", setting)
	return err
}

// Pair is two fresh namespaces joined by a quiet veth pair: vA in A, vB
// in B.
type Pair struct{ A, B string }

// PairConfig describes a pair: the name prefix of its namespaces, the
// addresses (/24) and MAC addresses of vA and vB, and extra sysctls for
// each side.
type PairConfig struct {
	Prefix             string
	AddrA, AddrB       string
	MACA, MACB         string
	SysctlsA, SysctlsB []string
}

// NewPair creates A and B with random names and a veth pair between them
// that carries only the generated traffic: IPv6 off (no link-local
// address, DAD, router or MLD traffic), no IGMP reports, multicast off,
// static ARP entries both ways.
func (r *Registry) NewPair(cfg PairConfig) (p Pair, err error) {
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	p = Pair{A: cfg.Prefix + "-a-" + suffix, B: cfg.Prefix + "-b-" + suffix}
	defer func() {
		if err != nil {
			r.RemovePair(p)
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
		if err := r.AddNetns(side.ns); err != nil {
			return p, err
		}
		for _, s := range append(quiet, side.extra...) {
			if err := Sysctl(side.ns, s); err != nil {
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
		{p.A, "link", "set", "lo", "up"},
		{p.B, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if _, err := IP(s[0], s[1:]...); err != nil {
			return p, err
		}
	}
	return p, nil
}

// RemovePair deletes the pair's namespaces.
func (r *Registry) RemovePair(p Pair) {
	for _, ns := range []string{p.A, p.B} {
		if err := r.DelNetns(ns); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", r.name, err)
		}
	}
}

// Counters are a device's kernel counters (ip -s -j link show).
type Counters struct {
	RxPackets, RxBytes, TxPackets, TxBytes uint64
}

// Sub returns c - d.
func (c Counters) Sub(d Counters) Counters {
	return Counters{c.RxPackets - d.RxPackets, c.RxBytes - d.RxBytes, c.TxPackets - d.TxPackets, c.TxBytes - d.TxBytes}
}

// Bytes is the bytes both ways.
func (c Counters) Bytes() uint64 { return c.RxBytes + c.TxBytes }

// Packets is the packets both ways.
func (c Counters) Packets() uint64 { return c.RxPackets + c.TxPackets }

// ReadCounters reads device dev's counters in namespace ns.
func ReadCounters(ns, dev string) (Counters, error) {
	out, err := IP(ns, "-s", "-j", "link", "show", "dev", dev)
	if err != nil {
		return Counters{}, err
	}
	return ParseCounters([]byte(out))
}

// ParseCounters reads the output of `ip -s -j link show dev DEV`.
func ParseCounters(js []byte) (Counters, error) {
	var links []struct {
		Stats64 *struct {
			Rx, Tx struct{ Bytes, Packets uint64 }
		} `json:"stats64"`
	}
	if err := json.Unmarshal(js, &links); err != nil {
		return Counters{}, fmt.Errorf("ip -s -j link show: %v", err)
	}
	if len(links) != 1 || links[0].Stats64 == nil {
		return Counters{}, fmt.Errorf("ip -s -j link show: no stats64 in %.200s", js)
	}
	s := links[0].Stats64
	return Counters{s.Rx.Packets, s.Rx.Bytes, s.Tx.Packets, s.Tx.Bytes}, nil
}

// CPUTicks is utime+stime of process pid (fields 14 and 15 of
// /proc/PID/stat, all its threads, in clock ticks), and its comm.
func CPUTicks(pid int) (ticks uint64, comm string, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", err
	}
	return ParseStat(b)
}

// ParseStat reads utime+stime and comm from a /proc/PID/stat line.
func ParseStat(b []byte) (ticks uint64, comm string, err error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return 0, "", fmt.Errorf("stat: no (comm) in %q", b)
	}
	comm = string(b[open+1 : end])
	f := strings.Fields(string(b[end+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, "", fmt.Errorf("stat: %d fields after comm", len(f))
	}
	utime, err1 := strconv.ParseUint(f[14-3], 10, 64)
	stime, err2 := strconv.ParseUint(f[15-3], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, "", fmt.Errorf("stat: bad utime/stime %q %q", f[11], f[12])
	}
	return utime + stime, comm, nil
}

// Memory is VmRSS and VmHWM of a process, in kB.
type Memory struct{ RSS, HWM uint64 }

// ReadMemory reads process pid's memory.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	return ParseStatus(b)
}

// ParseStatus reads VmRSS and VmHWM from /proc/PID/status text.
func ParseStatus(b []byte) (Memory, error) {
	var m Memory
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("status: bad %s line %q", key, sc.Text())
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("status: bad %s line %q", key, sc.Text())
		}
		if key == "VmRSS" {
			m.RSS = n
		} else {
			m.HWM = n
		}
		seen++
	}
	if seen != 2 {
		return m, fmt.Errorf("status: no VmRSS/VmHWM (a zombie?)")
	}
	return m, nil
}

// FindNethogs returns the nethogs to measure: flagPath if set, else the one
// on PATH or in /usr/sbin, installing Debian's package if there is none.
// harness names the caller in its messages.
func FindNethogs(flagPath, harness string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	look := func() string {
		if p, err := exec.LookPath("nethogs"); err == nil {
			return p
		}
		if _, err := os.Stat("/usr/sbin/nethogs"); err == nil {
			return "/usr/sbin/nethogs"
		}
		return ""
	}
	if p := look(); p != "" {
		return p, nil
	}
	apt := func(args ...string) error {
		fmt.Fprintf(os.Stderr, "%s: nethogs is missing: apt-get %s\n", harness, strings.Join(args, " "))
		cmd := exec.Command("apt-get", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.Run()
	}
	if err := apt("install", "-y", "nethogs"); err != nil {
		if err := apt("update"); err != nil {
			return "", fmt.Errorf("apt-get update: %v", err)
		}
		if err := apt("install", "-y", "nethogs"); err != nil {
			return "", fmt.Errorf("apt-get install -y nethogs: %v", err)
		}
	}
	if p := look(); p != "" {
		return p, nil
	}
	return "", errors.New("nethogs not found after apt-get install")
}

// Env describes the machine for a results file.
type Env struct {
	Date, Kernel, CPU, GoVersion string
	HogsVersion, NethogsVersion  string
	CLK                          uint64
	CLKSource                    string
}

// DescribeEnv reads the date, kernel, CPU, clock tick and the versions of
// the hogs and nethogs binaries ("" for one not run).
func DescribeEnv(hogs, nethogs string) Env {
	e := Env{Date: time.Now().UTC().Format("2006-01-02 15:04 MST"), GoVersion: runtime.Version(), CLK: 100, CLKSource: "assumed"}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		e.Kernel = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			e.CLK, e.CLKSource = n, "getconf CLK_TCK"
		}
	}
	model, n := "unknown CPU", 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch strings.TrimSpace(k) {
			case "model name":
				model = strings.TrimSpace(v)
			case "processor":
				n++
			}
		}
	}
	e.CPU = fmt.Sprintf("%s × %d", model, n)
	version := func(bin string) string {
		if bin == "" {
			return "not run"
		}
		out, _ := exec.Command(bin, "-V").CombinedOutput()
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	e.HogsVersion, e.NethogsVersion = version(hogs), version(nethogs)
	return e
}

// SchedStats sums /proc/PID/task/*/sched (CONFIG_SCHED_DEBUG) over pid's
// current threads: on-CPU time (se.sum_exec_runtime, ms with nanosecond
// resolution) and context switches. Threads that exited are not in it.
type SchedStats struct {
	Ms                     float64
	Voluntary, Involuntary uint64
	Threads                int
}

func (s SchedStats) Sub(t SchedStats) SchedStats {
	return SchedStats{s.Ms - t.Ms, s.Voluntary - t.Voluntary, s.Involuntary - t.Involuntary, s.Threads}
}

func ReadSched(pid int) (SchedStats, error) {
	var sum SchedStats
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return sum, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/sched", pid, t.Name()))
		if err != nil {
			return sum, err
		}
		s, err := ParseSched(b)
		if err != nil {
			return sum, err
		}
		sum.Ms += s.Ms
		sum.Voluntary += s.Voluntary
		sum.Involuntary += s.Involuntary
		sum.Threads++
	}
	return sum, nil
}

func ParseSched(b []byte) (SchedStats, error) {
	var s SchedStats
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch strings.TrimSpace(key) {
		case "se.sum_exec_runtime":
			s.Ms, err = strconv.ParseFloat(val, 64)
		case "nr_voluntary_switches":
			s.Voluntary, err = strconv.ParseUint(val, 10, 64)
		case "nr_involuntary_switches":
			s.Involuntary, err = strconv.ParseUint(val, 10, 64)
		default:
			continue
		}
		if err != nil {
			return s, fmt.Errorf("sched: bad line %q", line)
		}
		seen++
	}
	if seen != 3 {
		return s, fmt.Errorf("sched: no se.sum_exec_runtime, nr_voluntary_switches, nr_involuntary_switches")
	}
	return s, nil
}

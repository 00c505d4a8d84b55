package main

// Namespaces, child processes and their output: adapted from bench/live
// (registry, newPair, counters, child), with line-timestamped output so
// that the harness sees each refresh as it arrives.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// errStopping refuses new namespaces and processes once cleanup has begun.
var errStopping = errors.New("harness is stopping")

// registry tracks every namespace and process the harness creates, so that
// cleanup (deferred, on a signal, or at the overall deadline) removes them
// on every exit path. Creating and cleaning up hold the same lock.
type registry struct {
	mu       sync.Mutex
	stopping bool
	procs    map[*exec.Cmd]struct{}
	netns    map[string]struct{}
}

var reg = &registry{procs: map[*exec.Cmd]struct{}{}, netns: map[string]struct{}{}}

func (r *registry) start(cmd *exec.Cmd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return errStopping
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	r.procs[cmd] = struct{}{}
	return nil
}

func (r *registry) exited(cmd *exec.Cmd) {
	r.mu.Lock()
	delete(r.procs, cmd)
	r.mu.Unlock()
}

func (r *registry) addNetns(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return errStopping
	}
	if _, err := ip("", "netns", "add", name); err != nil {
		return err
	}
	r.netns[name] = struct{}{}
	return nil
}

func (r *registry) delNetns(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delNetnsLocked(name)
}

func (r *registry) delNetnsLocked(name string) error {
	if _, ok := r.netns[name]; !ok {
		return nil
	}
	delete(r.netns, name)
	_, err := ip("", "netns", "delete", name)
	return err
}

// cleanup kills every process still running (SIGKILL, by its own PID) and
// deletes every namespace still present; afterwards nothing new starts.
func (r *registry) cleanup() {
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
			fmt.Fprintln(os.Stderr, "sockets: cleanup:", err)
		}
	}
}

// ip runs `ip [-n NS] args...`.
func ip(ns string, args ...string) (string, error) {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// inNetns runs a short command inside namespace ns and returns its output.
func inNetns(ns string, argv ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip netns exec %s %s: %v: %s", ns, strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// sysctl sets key=value inside namespace ns.
func sysctl(ns, setting string) error {
	_, err := inNetns(ns, "sysctl", "-q", "-w", setting)
	return err
}

const (
	addrA = "10.91.0.1" // vA, in nsA: the monitor and the clients
	addrB = "10.91.0.2" // vB, in nsB: the servers
	macA  = "02:91:00:00:00:01"
	macB  = "02:91:00:00:00:02"
)

// pair is two fresh namespaces joined by a quiet veth pair.
type pair struct{ a, b string }

// newPair creates nsA and nsB with random names and a veth pair between
// them that carries only the generated traffic: IPv6 off, no IGMP
// reports, multicast off, static ARP entries both ways. nsA gets the widest
// ephemeral port range, nsB a listen backlog large enough for the idle
// holder's burst of connects.
func newPair() (p pair, err error) {
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	p = pair{a: "hogs-sock-a-" + suffix, b: "hogs-sock-b-" + suffix}
	defer func() {
		if err != nil {
			p.remove()
		}
	}()
	for _, ns := range []string{p.a, p.b} {
		if err := reg.addNetns(ns); err != nil {
			return p, err
		}
		for _, s := range []string{
			"net.ipv6.conf.all.disable_ipv6=1",
			"net.ipv6.conf.default.disable_ipv6=1",
			"net.ipv4.igmp_link_local_mcast_reports=0",
		} {
			if err := sysctl(ns, s); err != nil {
				return p, err
			}
		}
	}
	for _, s := range []struct{ ns, kv string }{
		{p.a, "net.ipv4.ip_local_port_range=1024 65535"},
		{p.b, "net.core.somaxconn=65535"},
		{p.b, "net.ipv4.tcp_max_syn_backlog=65535"},
	} {
		if err := sysctl(s.ns, s.kv); err != nil {
			return p, err
		}
	}
	steps := [][]string{
		{"", "link", "add", "vA", "netns", p.a, "address", macA, "type", "veth", "peer", "name", "vB", "netns", p.b, "address", macB},
		{p.a, "addr", "add", addrA + "/24", "dev", "vA"},
		{p.b, "addr", "add", addrB + "/24", "dev", "vB"},
		{p.a, "neigh", "add", addrB, "lladdr", macB, "dev", "vA", "nud", "permanent"},
		{p.b, "neigh", "add", addrA, "lladdr", macA, "dev", "vB", "nud", "permanent"},
		{p.a, "link", "set", "vA", "multicast", "off", "up"},
		{p.b, "link", "set", "vB", "multicast", "off", "up"},
		{p.a, "link", "set", "lo", "up"},
		{p.b, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if _, err := ip(s[0], s[1:]...); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (p pair) remove() {
	for _, ns := range []string{p.a, p.b} {
		if err := reg.delNetns(ns); err != nil {
			fmt.Fprintln(os.Stderr, "sockets:", err)
		}
	}
}

// counters are a device's kernel counters (ip -s -j link show).
type counters struct {
	RxPackets, RxBytes, TxPackets, TxBytes uint64
}

func (c counters) sub(d counters) counters {
	return counters{c.RxPackets - d.RxPackets, c.RxBytes - d.RxBytes, c.TxPackets - d.TxPackets, c.TxBytes - d.TxBytes}
}

func (c counters) bytes() uint64   { return c.RxBytes + c.TxBytes }
func (c counters) packets() uint64 { return c.RxPackets + c.TxPackets }

func readCounters(ns, dev string) (counters, error) {
	out, err := ip(ns, "-s", "-j", "link", "show", "dev", dev)
	if err != nil {
		return counters{}, err
	}
	return parseCounters([]byte(out))
}

func parseCounters(js []byte) (counters, error) {
	var links []struct {
		Stats64 *struct {
			Rx, Tx struct{ Bytes, Packets uint64 }
		} `json:"stats64"`
	}
	if err := json.Unmarshal(js, &links); err != nil {
		return counters{}, fmt.Errorf("ip -s -j link show: %v", err)
	}
	if len(links) != 1 || links[0].Stats64 == nil {
		return counters{}, fmt.Errorf("ip -s -j link show: no stats64 in %.200s", js)
	}
	s := links[0].Stats64
	return counters{s.Rx.Packets, s.Rx.Bytes, s.Tx.Packets, s.Tx.Bytes}, nil
}

// tline is one output line and when the harness read it.
type tline struct {
	t time.Time
	s string
}

// lineLog collects a child's output line by line with arrival times, safe
// for concurrent use. Lines that isRefresh accepts are refreshes: their
// arrival times are kept apart (all of them) and wake a waiter. Past
// maxLines the older half of the lines is dropped; line numbers stay
// absolute (base counts the dropped ones).
type lineLog struct {
	mu        sync.Mutex
	partial   []byte
	lines     []tline
	base      int
	maxLines  int
	isRefresh func(string) bool
	refLine   []int       // absolute line number of each refresh
	refTime   []time.Time // arrival of each refresh
	notify    chan struct{}
}

func newLineLog(maxLines int, isRefresh func(string) bool) *lineLog {
	return &lineLog{maxLines: maxLines, isRefresh: isRefresh, notify: make(chan struct{}, 1)}
}

const maxPartial = 64 << 20 // longest line kept whole

func (l *lineLog) Write(p []byte) (int, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.add(now, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > maxPartial {
		l.add(now, string(l.partial))
		l.partial = nil
	}
	return len(p), nil
}

func (l *lineLog) add(t time.Time, s string) {
	if l.isRefresh != nil && l.isRefresh(s) {
		l.refLine = append(l.refLine, l.base+len(l.lines))
		l.refTime = append(l.refTime, t)
		select {
		case l.notify <- struct{}{}:
		default:
		}
	}
	l.lines = append(l.lines, tline{t, s})
	if len(l.lines) > l.maxLines {
		drop := len(l.lines) - l.maxLines/2
		l.base += drop
		l.lines = append([]tline(nil), l.lines[drop:]...)
	}
}

// snapshot returns copies of the kept lines (from absolute line base), and
// of the refresh positions and times.
func (l *lineLog) snapshot() (lines []tline, base int, refLine []int, refTime []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]tline(nil), l.lines...), l.base,
		append([]int(nil), l.refLine...), append([]time.Time(nil), l.refTime...)
}

// refreshes is the number of refreshes so far.
func (l *lineLog) refreshes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.refLine)
}

// refreshAfter returns the index and time of the first refresh that
// arrived at or after t, if any.
func (l *lineLog) refreshAfter(t time.Time) (int, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(l.refTime)
	for i > 0 && !l.refTime[i-1].Before(t) {
		i--
	}
	if i == len(l.refTime) {
		return 0, time.Time{}, false
	}
	return i, l.refTime[i], true
}

// text is the kept output as one string.
func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, ln := range l.lines {
		b.WriteString(ln.s)
		b.WriteByte('\n')
	}
	b.Write(l.partial)
	return b.String()
}

// find returns the first kept line starting with prefix.
func (l *lineLog) find(prefix string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range l.lines {
		if strings.HasPrefix(ln.s, prefix) {
			return ln.s, true
		}
	}
	return "", false
}

// child is a program running inside a namespace through `ip netns exec`,
// which execs it: the PID is the program's own.
type child struct {
	name     string
	cmd      *exec.Cmd
	out, err *lineLog
	done     chan struct{}
	waitErr  error
}

// startChild starts argv in namespace ns; isRefresh marks refresh lines on
// its stdout (nil: none).
func startChild(name, ns string, isRefresh func(string) bool, argv ...string) (*child, error) {
	c := &child{
		name: name,
		cmd:  exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...),
		out:  newLineLog(200_000, isRefresh),
		err:  newLineLog(50_000, nil),
		done: make(chan struct{}),
	}
	// Own process group: a terminal's ^C reaches the harness only, which
	// stops everything in order. Pdeathsig: even a SIGKILLed harness takes
	// its children along.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.err
	c.cmd.WaitDelay = 2 * time.Second
	if err := reg.start(c.cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		reg.exited(c.cmd)
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for the child to exit by itself.
func (c *child) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// signal sends sig to the child (by its PID) if it still runs.
func (c *child) signal(sig os.Signal) {
	if !c.exited() {
		c.cmd.Process.Signal(sig)
	}
}

// stop sends SIGTERM, then SIGKILL after grace; it reports whether SIGKILL
// was needed and how long the child took to go.
func (c *child) stop(grace time.Duration) (killed bool, took time.Duration) {
	start := time.Now()
	if c.exited() {
		return false, 0
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if !c.wait(grace) {
		killed = true
		c.cmd.Process.Kill()
		<-c.done
	}
	return killed, time.Since(start)
}

// waitLine waits up to d for a stdout line starting with prefix and
// returns it.
func (c *child) waitLine(prefix string, d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if l, ok := c.out.find(prefix); ok {
			return l, nil
		}
		if c.exited() {
			if l, ok := c.out.find(prefix); ok {
				return l, nil
			}
			return "", fmt.Errorf("%s exited (%v) before printing %q: %s", c.name, c.waitErr, prefix, strings.TrimSpace(c.err.text()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", fmt.Errorf("%s did not print %q within %v", c.name, prefix, d)
}

// waitRefresh waits up to d for a refresh that arrives at or after t and
// returns its index and arrival time.
func (c *child) waitRefresh(t time.Time, d time.Duration) (int, time.Time, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		if i, at, ok := c.out.refreshAfter(t); ok {
			return i, at, nil
		}
		select {
		case <-c.out.notify:
		case <-c.done:
			if i, at, ok := c.out.refreshAfter(t); ok {
				return i, at, nil
			}
			return 0, time.Time{}, fmt.Errorf("%s exited (%v): %s", c.name, c.waitErr, strings.TrimSpace(c.err.text()))
		case <-timer.C:
			return 0, time.Time{}, fmt.Errorf("%s printed no refresh within %v", c.name, d)
		}
	}
}

// status describes how the child ended.
func (c *child) status() string {
	if !c.exited() {
		return "running"
	}
	if c.waitErr == nil {
		return "exit 0"
	}
	return c.waitErr.Error()
}

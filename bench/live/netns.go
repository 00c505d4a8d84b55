package main

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
// cleanup (deferred, or on a signal) removes them on every exit path.
// Creating and cleaning up hold the same lock: nothing is created behind
// the back of a cleanup.
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

// addNetns creates namespace name and records it.
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

// delNetns removes namespace name (its processes must be gone or going).
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
		time.Sleep(200 * time.Millisecond) // let them die before their namespace goes
	}
	for name := range r.netns {
		if err := r.delNetnsLocked(name); err != nil {
			fmt.Fprintln(os.Stderr, "live: cleanup:", err)
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

// sysctl sets key=value inside namespace ns.
func sysctl(ns, setting string) error {
	out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-q", "-w", setting).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip netns exec %s sysctl -w %s: %v: %s", ns, setting, err, strings.TrimSpace(string(out)))
	}
	return nil
}

const (
	addrA = "10.88.0.1" // vA, in nsA: monitor and sinks
	addrB = "10.88.0.2" // vB, in nsB: generators
	macA  = "02:88:00:00:00:01"
	macB  = "02:88:00:00:00:02"
)

// pair is two fresh namespaces joined by a quiet veth pair.
type pair struct{ a, b string }

// newPair creates nsA and nsB with random names and a veth pair between
// them that carries only the generated traffic: IPv6 off (no link-local
// address, DAD, router or MLD traffic), no IGMP reports, multicast off,
// static ARP entries both ways. In the generator's namespace TCP
// autocorking is off, so that each 64-byte write of tcp-small leaves as its
// own segment when the connection is not window-limited.
func newPair() (p pair, err error) {
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	p = pair{a: "hogs-live-a-" + suffix, b: "hogs-live-b-" + suffix}
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
	if err := sysctl(p.b, "net.ipv4.tcp_autocorking=0"); err != nil {
		return p, err
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
			fmt.Fprintln(os.Stderr, "live:", err)
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

// capBuf collects a child's output, safe for concurrent use; past limit it
// drops its older half, so the latest refreshes always survive.
type capBuf struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
	lost  int
}

func (b *capBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.buf.Len() > b.limit {
		drop := b.buf.Len() - b.limit/2
		b.lost += drop
		b.buf.Next(drop)
	}
	return len(p), nil
}

func (b *capBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// child is a program running inside a namespace through `ip netns exec`,
// which execs it: the PID is the program's own.
type child struct {
	name     string
	cmd      *exec.Cmd
	out, err *capBuf
	done     chan struct{}
	waitErr  error
}

func startChild(name, ns string, argv ...string) (*child, error) {
	c := &child{
		name: name,
		cmd:  exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...),
		out:  &capBuf{limit: 32 << 20},
		err:  &capBuf{limit: 4 << 20},
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

// waitLine waits up to d for a stdout line equal to line.
func (c *child) waitLine(line string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(c.out.String(), "\n") {
			if l == line {
				return nil
			}
		}
		if c.exited() {
			return fmt.Errorf("%s exited (%v) before printing %q: %s", c.name, c.waitErr, line, strings.TrimSpace(c.err.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s did not print %q within %v", c.name, line, d)
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

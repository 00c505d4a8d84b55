//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hogs/bench/internal/harness"
	"hogs/internal/netlab"
)

// The -containers topology: the monitor in a host namespace with a bridge
// (Docker-shaped), N container namespaces on it, and a remote namespace
// the host routes to through an uplink veth (no NAT).
const (
	bridgeAddr = "10.93.0.1" // br0 in the host namespace, /16
	bridgeMAC  = "02:93:00:00:00:01"
	uplinkAddr = "10.94.0.1" // vUp, the host's end of the uplink, /24
	uplinkMAC  = "02:94:00:00:00:01"
	remoteAddr = "10.94.0.2" // vR, in the remote namespace: the servers
	remoteMAC  = "02:94:00:00:00:02"
	maxCtrs    = 200
)

// quietSysctls keep a namespace's links to the traffic its user sends.
var quietSysctls = []string{
	"net.ipv6.conf.all.disable_ipv6=1",
	"net.ipv6.conf.default.disable_ipv6=1",
	"net.ipv4.igmp_link_local_mcast_reports=0",
}

// containerAddr is container k's address (10.93.1.2, 10.93.1.3, ...) and
// MAC addresses: its own and its veth's host side.
func containerAddr(k int) (addr, mac, hostMAC string) {
	hi, lo := k/250+1, k%250+2
	return fmt.Sprintf("10.93.%d.%d", hi, lo), fmt.Sprintf("02:93:01:00:%02x:%02x", hi, lo), fmt.Sprintf("02:93:02:00:%02x:%02x", hi, lo)
}

// containerLab is the namespaces of one -containers run.
type containerLab struct {
	host, remote string
	containers   []string
}

func (c containerLab) all() []string { return append([]string{c.host, c.remote}, c.containers...) }

// newContainerLab makes the host, remote and n container namespaces:
// container k's eth0 (containerAddr, /16, default route via br0) is a
// veth whose host side vcK is a port of br0; every link is quiet (IPv6
// off, multicast off, static ARP and static bridge forwarding entries,
// so that nothing is flooded). On error what it made is removed.
func newContainerLab(lab *netlab.Lab, n int) (c containerLab, err error) {
	suffix := netlab.RandomName("")[1:]
	c.host, c.remote = "hogs-ctr-h-"+suffix, "hogs-ctr-r-"+suffix
	for k := range n {
		c.containers = append(c.containers, fmt.Sprintf("hogs-ctr-c%d-%s", k, suffix))
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.remove(lab))
		}
	}()
	for _, ns := range c.all() {
		if err := lab.AddNetns(ns); err != nil {
			return c, err
		}
		for _, s := range quietSysctls {
			if err := netlab.SetSysctl(ns, s); err != nil {
				return c, err
			}
		}
	}
	for _, s := range []string{"net.ipv4.ip_forward=1", "net.ipv4.ip_local_port_range=1024 65535"} {
		if err := netlab.SetSysctl(c.host, s); err != nil {
			return c, err
		}
	}
	for _, s := range []string{"net.core.somaxconn=65535", "net.ipv4.tcp_max_syn_backlog=65535"} {
		if err := netlab.SetSysctl(c.remote, s); err != nil {
			return c, err
		}
	}
	steps := [][]string{
		{c.host, "link", "add", "br0", "address", bridgeMAC, "type", "bridge", "stp_state", "0", "mcast_snooping", "0"},
		{c.host, "addr", "add", bridgeAddr + "/16", "dev", "br0"},
		{c.host, "link", "set", "br0", "multicast", "off", "up"},
		{"", "link", "add", "vUp", "netns", c.host, "address", uplinkMAC, "type", "veth", "peer", "name", "vR", "netns", c.remote, "address", remoteMAC},
		{c.host, "addr", "add", uplinkAddr + "/24", "dev", "vUp"},
		{c.remote, "addr", "add", remoteAddr + "/24", "dev", "vR"},
		{c.host, "neigh", "add", remoteAddr, "lladdr", remoteMAC, "dev", "vUp", "nud", "permanent"},
		{c.remote, "neigh", "add", uplinkAddr, "lladdr", uplinkMAC, "dev", "vR", "nud", "permanent"},
		{c.host, "link", "set", "vUp", "multicast", "off", "up"},
		{c.remote, "link", "set", "vR", "multicast", "off", "up"},
		{c.remote, "link", "set", "lo", "up"},
		{c.remote, "route", "add", "10.93.0.0/16", "via", uplinkAddr},
	}
	for k, ns := range c.containers {
		addr, mac, hostMAC := containerAddr(k)
		port := "vc" + strconv.Itoa(k)
		steps = append(steps,
			[]string{"", "link", "add", "eth0", "netns", ns, "address", mac, "type", "veth", "peer", "name", port, "netns", c.host, "address", hostMAC},
			[]string{ns, "addr", "add", addr + "/16", "dev", "eth0"},
			[]string{ns, "neigh", "add", bridgeAddr, "lladdr", bridgeMAC, "dev", "eth0", "nud", "permanent"},
			[]string{ns, "link", "set", "eth0", "multicast", "off", "up"},
			[]string{ns, "link", "set", "lo", "up"},
			[]string{ns, "route", "add", "default", "via", bridgeAddr},
			[]string{c.host, "link", "set", port, "master", "br0", "multicast", "off", "up"},
			[]string{c.host, "neigh", "add", addr, "lladdr", mac, "dev", "br0", "nud", "permanent"},
		)
	}
	for _, s := range steps {
		if _, err := netlab.RunIP(s[0], s[1:]...); err != nil {
			return c, err
		}
	}
	for k := range c.containers {
		_, mac, _ := containerAddr(k)
		if _, err := netlab.Exec(c.host, "bridge", "fdb", "replace", mac, "dev", "vc"+strconv.Itoa(k), "master", "static"); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (c containerLab) remove(lab *netlab.Lab) error {
	var errs []error
	for _, ns := range c.all() {
		if lab.Owns(ns) {
			errs = append(errs, lab.DelNetns(ns))
		}
	}
	return errors.Join(errs...)
}

// setUpContainers is phase 1's set-up with -containers N: the monitor in
// the host namespace, where it sees the containers' traffic on the
// bridge's ports (the host sides of their veths), the bridge and the
// uplink; in each container an idle holder (-idle / N connections) and a
// new-connections client making -new-rate / N a second, waiting to be
// told; the servers in the remote namespace.
func (r *result) setUpContainers(lab *netlab.Lab, o options, role roleFunc, afters, removals *[]func()) error {
	start := time.Now()
	c, err := newContainerLab(lab, o.containers)
	if err != nil {
		return err
	}
	*removals = append(*removals, func() { c.remove(lab) })
	r.ctrs = c
	r.monNS, r.wireNS, r.wireDev, r.serverNS, r.serverAddr, r.busyNS = c.host, c.host, "vUp", c.remote, remoteAddr, c.containers[0]
	fmt.Fprintf(os.Stderr, "  %d containers on br0 in %s (set-up %v)\n", o.containers, c.host, time.Since(start).Round(time.Millisecond))

	if err := r.newconnServer(role, afters, o); err != nil {
		return err
	}
	rate := strconv.FormatFloat(float64(o.newRate)/float64(o.containers), 'g', -1, 64)
	var clients []*harness.Child
	for k, n := range spread(o.idle, o.containers) {
		ns := c.containers[k]
		if err := r.idlePair(role, afters, o, k, n, ns); err != nil {
			return fmt.Errorf("container %d: %w", k, err)
		}
		nc, err := role("newconn-client", ns, remoteAddr+":"+newconnPrt, rate, o.phase.String(), o.hold.String(), "signal",
			strconv.Itoa(o.newSize), strconv.Itoa(o.newAnswer))
		if err != nil {
			return err
		}
		r.addNewClient(nc, afters)
		if _, err := nc.WaitLine("waiting", 10*time.Second); err != nil {
			return err
		}
		clients = append(clients, nc)
	}
	var socks []string
	for _, ns := range []string{c.containers[0], c.remote} {
		if out, err := netlab.Exec(ns, "cat", "/proc/net/sockstat"); err == nil {
			socks = append(socks, tcpSockstat(out))
		}
	}
	r.sockstat = strings.Join(socks, "; remote ")
	if r.idleOpen < o.idle {
		r.note("only %d of %d idle connections could be opened: %s", r.idleOpen, o.idle, strings.Join(r.holderLines, "; "))
	}
	fmt.Fprintf(os.Stderr, "  %d idle connections in %d containers (set-up %v); container 0 %s\n",
		r.idleOpen, len(r.holderLines), time.Since(start).Round(time.Millisecond), r.sockstat)

	// Phase 3: the clients are told one after another, 1/-new-rate s
	// apart, so that the connections are evenly spread over time and
	// containers.
	r.startNew = func() error {
		t0 := time.Now()
		for k, nc := range clients {
			time.Sleep(time.Until(t0.Add(time.Duration(k) * time.Second / time.Duration(o.newRate))))
			nc.Signal(syscall.SIGUSR1)
		}
		return nil
	}
	r.waitNew = func() error {
		for _, nc := range clients {
			line, err := nc.WaitLine("made ", o.phase+o.hold+20*time.Second)
			if err != nil {
				return err
			}
			r.newLine = line
		}
		return nil
	}
	return nil
}

// spread splits n into k parts differing by at most one.
func spread(n, k int) []int {
	parts := make([]int, k)
	for i := range parts {
		parts[i] = n / k
		if i < n%k {
			parts[i]++
		}
	}
	return parts
}

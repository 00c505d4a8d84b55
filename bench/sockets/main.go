//go:build linux

// Command sockets measures what a monitor's process lookup costs when many
// sockets are open: hogs against nethogs with 20,000 idle TCP connections
// in the monitor's namespace, one busy flow, and then 10 new connections
// per second. `make bench-sockets` (as root) runs it after building
// ./hogs; it prints a Markdown table on stdout, writes it to
// bench/sockets/results.md with the date, kernel, CPU and command, and
// prints per-run details on stderr. It takes about three minutes.
//
// The figures it checks come from an issue: nethogs spent 83 ms CPU per
// refresh with nothing new, 117 ms per new connection (99 % CPU,
// refreshes 7 s apart) and dropped 28 % of the packets; the targets for
// hogs are at most 1 ms CPU per refresh with nothing new, at most 2 ms
// per new connection resolved, no drops, and every new connection
// attributed.
//
// # Setup
//
// Every monitor run gets two fresh network namespaces (hogs-sock-a-XXXXXXXX,
// the monitor's, and hogs-sock-b-XXXXXXXX) joined by a veth pair, vA
// 10.91.0.1/24 – vB 10.91.0.2/24, kept quiet as in bench/live: IPv6 off,
// no IGMP reports, multicast off, static ARP. nsA gets
// ip_local_port_range 1024–65535, nsB somaxconn 65535. The harness
// re-executes itself inside a namespace for each traffic role (a hidden
// first argument):
//
//	sockets idle-server ADDR PORTS N MODE          (nsB)
//	sockets idle-holder ADDR PORTS N               (nsA)
//	sockets busy-sink ADDR                         (nsB)
//	sockets busy-client ADDR RATE WRITE MAXDUR     (nsA)
//	sockets newconn-server ADDR SIZE ANSWER        (nsB)
//	sockets newconn-client ADDR RATE DURATION HOLD now|signal SIZE ANSWER (nsA)
//	sockets procs-launcher ADDR N SIZE             (nsA; phase 5)
//	sockets one-shot ADDR SIZE                     (started by the launcher)
//
// The idle holders open -idle connections (20,000) round robin to -ports
// listening ports of their idle server, as plain blocking sockets without
// keepalive, so that once established they carry no packet at all. Both
// roles raise RLIMIT_NOFILE to 50,000, or, without CAP_SYS_RESOURCE (as
// in the sandbox this was written in, where the hard limit is 20,000),
// only up to the hard limit: so the connections are spread over holder
// processes of -per-process (10,000) each, every one with its own idle
// server. With -server-mode accept (the default) the server accepts and
// holds them; with backlog it never accepts and they wait in its listen
// queue. The busy client streams -busy-rate bytes/s
// (2 MB/s) in 64 KiB writes to the busy sink until told to pause
// (SIGUSR1). The new-connections client makes -new-rate connections a
// second (10) for -phase (10 s); each connects, sends -new-size bytes
// (1 KiB), reads a -new-answer-byte answer (1), stays open -hold (300 ms)
// and closes; it prints the local
// address of each, and stays alive afterwards so that its process still
// exists at the last refresh.
//
// # Procedure, per monitor
//
// Each monitor runs alone: `hogs -t -v 2 -d 1 -x`, `hogs --json
// --connections -v 2 -d 1 -x` (the same program, run again so that each new
// connection can be looked up by its local address) and `nethogs -t -v 2
// -d 1`, in nsA through ip netns exec (which execs it: the PID started is
// the monitor's). The harness timestamps every line of the monitor's
// output as it arrives.
//
// The default runs are hogs, hogs-json and nethogs, then hogs:old and
// hogs-json:old, where the new-connections client is started (and waits
// for SIGUSR1) before the idle holders, so that its PID is older than
// theirs. The difference matters to hogs: its fd scan walks /proc newest
// process first and stops once it has found the new socket, so a client
// younger than the 20,000 idle sockets' holders is found at once, and an
// older one only after reading all of the holders' and idle servers'
// descriptors. Real new connections come from both kinds of process (a
// fresh curl; a long-running browser or daemon). nethogs rescans every
// process either way.
//
//  1. Set-up: idle servers and holders (all connections established), the
//     busy sink; start the monitor; at its first refresh start the busy
//     client, then wait until the monitor has printed 3 refreshes over at
//     least 3 s. (The busy flow starts after the monitor so that the link
//     is quiet when it starts: vA's counters from just before its start
//     are exactly what it can see.)
//  2. Nothing new: from the arrival of a refresh to the arrival of the
//     first refresh 10 s later. CPU ms per refresh = the monitor's CPU over
//     that window / the refreshes in it.
//  3. New connections: the new-connections client starts at the end of
//     phase 2; the phase ends at the first refresh that arrives 1 s after
//     the client has closed its last connection. CPU ms per new connection
//     = (the phase's CPU − its length × phase 2's CPU rate) / connections
//     made.
//  4. Tail: the busy client pauses, the harness waits for two more
//     refreshes, reads the counters and VmHWM, then stops the monitor
//     (SIGTERM, SIGKILL after 3 s) and parses the refresh that was last at
//     that reading.
//  5. With -procs N (default 0: skipped), before the monitor stops:
//     short-lived client processes. With the busy flow paused the link is
//     quiet; a launcher starts N processes one after another, each
//     connecting, sending -proc-size bytes (20 kB), reading a 1-byte
//     answer and exiting, as a script calling a client in a loop does. The
//     phase ends at the second refresh after the last has exited plus 1 s.
//     Share attributed = the bytes on those processes' own rows (by PID)
//     in that refresh / vA's rx+tx over the phase.
//
// # The scenarios (millisecond connections, client processes)
//
// `make bench-sockets-short` runs hogs with kernel events, hogs from /proc
// alone (hogs-noev, hogs-json-noev: --no-kernel-events) and nethogs with
// 20,000 idle sockets, phase 3 as 50 connections of about a millisecond at
// 10/s (-new-size 64 -new-answer 64 -hold 0 -phase 5s: connect, 64 bytes,
// the 64-byte echo, close), and phase 5 with 300 client processes of
// 20 kB each, with -service, into bench/sockets/results-short.md.
//
// # Clients in a service's cgroup (-service)
//
// Without kernel events a connection whose process hogs cannot find (it
// closed, or its process exited, before the fd walk got to it) can still
// be named by its socket's cgroup (sock_diag's INET_DIAG_CGROUP_ID): hogs
// puts it on the row of that cgroup's service or container. In the plain
// lab every process is in the harness's cgroup (the root one here), which
// names nothing. With -service each monitor run creates a cgroup shaped
// like a systemd service, hogs-test-X.slice/hogs-bench-X.service, on the
// cgroup2 mount /proc/self/mountinfo names, starts the new-connections
// client and phase 5's launcher inside it (clone3 into the cgroup: their
// sockets are created there; the launcher's children inherit it), and
// removes it at the end. The report then says, per monitor, where the
// new connections' bytes are (on the client's row, on the service's row,
// in unknown: in % of their sum in the last refresh before phase 5) and
// where phase 5's are (in % of vA's bytes over phase 5); hogs --json's
// connections under the service's row count as "on the service". A
// socket gone, or in TIME_WAIT, when hogs first looks it up tells no
// cgroup and stays unknown.
//
// # Containers (`make bench-containers`)
//
// With -containers N the lab is a host the way a container runtime makes
// one (containers.go): the monitor runs in a host namespace
// (hogs-ctr-h-X) with a bridge br0 (10.93.0.1/16) whose ports are the host
// sides of N container namespaces' veths (hogs-ctr-cK-X, eth0 10.93.1.K+2,
// default route via br0), and an uplink veth vUp (10.94.0.1/24) to a
// remote namespace (hogs-ctr-r-X, vR 10.94.0.2) where every server runs;
// the host routes between them (no NAT). All links are kept quiet as in
// the pair, with static bridge forwarding entries so that nothing is
// flooded. Each container holds -idle / N idle connections (an idle
// holder, and its idle server in the remote namespace) and a
// new-connections client making -new-rate / N connections a second
// (0.2 for 10 over 50), waiting for SIGUSR1 from the start; phase 3 tells
// them one after another, 1/-new-rate s apart, so that the connections are
// evenly spread over time and containers. The busy flow runs from
// container 0. The monitor sees each container packet on the bridge port,
// on the bridge (routed traffic) and on the uplink; the wire truth is
// vUp's counters (every byte crosses it once), so an accuracy of 200 or
// 300 % says the monitor counted the copies. A new connection is
// attributed when hogs --json lists it (by the client's address, at
// either end) under any of the clients' PIDs. Phase 5 is not run.
// `make bench-containers` runs hogs --json, hogs -t and nethogs with 50
// containers × 400 idle sockets into bench/sockets/results-containers.md.
//
// # What is reported
//
//   - CPU: se.sum_exec_runtime summed over /proc/PID/task/*/sched, in ms
//     with nanosecond resolution; utime+stime from /proc/PID/stat (10 ms
//     ticks) is in the details as a cross-check.
//   - Refresh interval: the gaps between refresh arrivals in phases 2 and
//     3 (mean, and the longest in phase 3).
//   - New connections attributed. hogs --json: every connection the client
//     reported is looked up by local address in the last refresh: under the
//     client's PID (attributed), under unknown, or absent. Trace output has
//     no connections, so for `hogs -t` and nethogs the figure is an
//     estimate by bytes: the client's row / (connections made × the mean
//     wire bytes of one such connection, as hogs --json counted them).
//   - unknown TCP: bytes the last refresh puts in "unknown TCP".
//   - Drops: hogs -x's count of packets the kernel dropped on its capture
//     socket. For both monitors (nethogs reports no drops): accuracy, the
//     bytes of all rows of the last refresh (totals since the monitor
//     started) over vA's rx+tx bytes from just before the monitor started
//     to that refresh (ip -s -j link). Trace rows carry 6 significant
//     digits, so expect ~1e-5 noise.
//   - hogs's resolver work from -x (running totals of sock_diag lookups,
//     /proc/net table reads, /proc/PID/fd scans), per phase; hogs prints
//     one -x line per refresh, matched to its refresh by number.
//   - VmHWM: the monitor's peak RSS over its life.
//
// # Caveats
//
//   - This kernel has no CONFIG_IRQ_TIME_ACCOUNTING: softirq time (here,
//     the capture socket's share of every packet) is charged to whichever
//     task happens to run, mostly the traffic processes. A monitor's CPU is
//     its own work, not the kernel's capture work.
//   - Both namespaces share one PID namespace and /proc: a monitor that
//     scans /proc/PID/fd sees the idle server's 20,000 accepted sockets
//     too (their inodes are not in nsA's tables), so a full scan walks
//     about 40,000 socket descriptors. -server-mode backlog leaves only the
//     holder's 20,000.
//   - CPU per refresh "with nothing new" includes the monitor's handling of
//     the busy flow's packets (about 100 to 130 a second, as the writes
//     happen to be segmented); CPU per new connection includes its packets
//     (about ten per connection) along with the lookup. hogs's phase-2 CPU
//     is small (10 to 35 ms in 10 s) and mostly that packet handling, so
//     it moves by a factor of two or more from run to run: compare several
//     runs with a 1 ms target. -busy-rate 1000 -busy-write 1000 (one small
//     write a second) leaves the refresh and idle-socket cost alone.
//     GODEBUG=gctrace=1 in the harness's environment reaches hogs, and the
//     details then count its garbage collections per phase.
//   - Two cores run the monitor, the traffic and the harness: a monitor at
//     100 % CPU competes with the traffic it measures.
//   - veth does GSO: the busy flow's "packets" are super-packets of up to
//     64 KiB, counted once by the interface and once by the monitors.
//   - A SIGKILLed harness cannot clean up: its children die with it
//     (PR_SET_PDEATHSIG), but its hogs-sock-* namespaces stay until
//     `ip netns delete`.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hogs/bench/internal/harness"
	"hogs/bench/internal/trace"
	"hogs/internal/netlab"
)

const (
	grace      = harness.Grace
	steadyFor  = 3 * time.Second // refreshes before phase 2
	settle     = time.Second     // after the last new connection closed
	idleBase   = 9100            // first idle server port
	busyPort   = "9200"
	newconnPrt = "9300"
	procsPort  = "9400"

	addrA = "10.91.0.1" // vA, in nsA: the monitor and the clients
	addrB = "10.91.0.2" // vB, in nsB: the servers
)

// pairConfig makes the two namespaces of one monitor run.
var pairConfig = netlab.PairConfig{
	Prefix: "hogs-sock", AddrA: addrA, AddrB: addrB, MACA: "02:91:00:00:00:01", MACB: "02:91:00:00:00:02",
	SysctlsA:   []string{"net.ipv4.ip_local_port_range=1024 65535"},
	SysctlsB:   []string{"net.core.somaxconn=65535", "net.ipv4.tcp_max_syn_backlog=65535"},
	LoopbackUp: true,
}

// monitor is a program under test.
type monitor struct {
	name      string
	argv      []string
	json      bool
	oldClient bool // the new-connections client starts before the idle holders
}

// label names a run in the tables.
func (m monitor) label() string {
	if m.oldClient {
		return m.name + ", old client"
	}
	return m.name
}

// options are the harness's flags.
type options struct {
	hogs, nethogs string
	idle, ports   int
	perProcess    int
	serverMode    string
	busyRate      int
	busyWrite     int
	newRate       int
	newSize       int
	newAnswer     int
	procs         int
	procSize      int
	service       bool
	containers    int
	phase, hold   time.Duration
	monitors      []string
	out           string
	timeout       time.Duration
}

func main() {
	roles.RunIfAsked(roleLifetime)
	var o options
	var mons string
	harness.MonitorFlags(&o.hogs, &o.nethogs)
	flag.IntVar(&o.idle, "idle", 20000, "idle TCP connections in the monitor's namespace")
	flag.IntVar(&o.ports, "ports", 2, "listening ports per idle server process")
	flag.IntVar(&o.perProcess, "per-process", 10000, "idle connections per holder (and server) process")
	flag.StringVar(&o.serverMode, "server-mode", "accept", "idle server: accept (hold the connections) or backlog (never accept)")
	flag.IntVar(&o.busyRate, "busy-rate", 2_000_000, "busy flow, bytes per second")
	flag.IntVar(&o.busyWrite, "busy-write", 64<<10, "busy flow, bytes per write")
	flag.IntVar(&o.newRate, "new-rate", 10, "new connections per second in phase 3")
	flag.DurationVar(&o.phase, "phase", 10*time.Second, "length of phases 2 and 3")
	flag.DurationVar(&o.hold, "hold", 300*time.Millisecond, "how long each new connection stays open after its answer (0: closed at once)")
	flag.IntVar(&o.newSize, "new-size", 1024, "bytes each new connection sends")
	flag.IntVar(&o.newAnswer, "new-answer", 1, "bytes each new connection is answered")
	flag.IntVar(&o.procs, "procs", 0, "phase 5: short-lived client processes started one after another (0: no phase 5)")
	flag.IntVar(&o.procSize, "proc-size", 20000, "phase 5: bytes each client process sends")
	flag.BoolVar(&o.service, "service", false, "run phase 3's new-connections client and phase 5's client processes in a cgroup shaped like a systemd service, and report the share of their bytes on their processes, on the service's row (hogs's cgroup fallback) and in unknown (namespace pair only)")
	flag.IntVar(&o.containers, "containers", 0, "container namespaces on a bridge, the monitor in the host namespace: the idle sockets and new connections spread over them (0: the namespace pair)")
	flag.StringVar(&mons, "monitors", "hogs,hogs-json,nethogs,hogs:old,hogs-json:old",
		"runs, comma-separated: hogs, hogs-json, nethogs, and hogs-noev, hogs-json-noev (hogs --no-kernel-events); NAME:old starts the new-connections client before the idle holders")
	flag.StringVar(&o.out, "out", "bench/sockets/results.md", "Markdown results file (empty: none)")
	flag.DurationVar(&o.timeout, "timeout", 8*time.Minute, "the whole run: past it everything is killed and removed")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "sockets: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	o.monitors = strings.Split(mons, ",")
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "sockets:", err)
		os.Exit(2)
	}
	harness.Main("sockets", o.timeout, func(lab *netlab.Lab) error { return run(lab, o) })
}

func (o options) check() error {
	switch {
	case o.idle < 0 || o.idle > maxIdle:
		return fmt.Errorf("-idle %d out of range [0, %d]", o.idle, maxIdle)
	case o.ports < 1 || o.ports > 20:
		return fmt.Errorf("-ports %d out of range [1, 20]", o.ports)
	case o.perProcess < 1 || o.perProcess > maxIdle:
		return fmt.Errorf("-per-process %d out of range [1, %d]", o.perProcess, maxIdle)
	case o.containers == 0 && (o.idle+o.perProcess-1)/o.perProcess > 40:
		return fmt.Errorf("-idle %d / -per-process %d: more than 40 holder processes", o.idle, o.perProcess)
	case o.serverMode != "accept" && o.serverMode != "backlog":
		return fmt.Errorf("-server-mode %q: accept or backlog", o.serverMode)
	case o.busyRate < 1 || o.busyRate > maxRate:
		return fmt.Errorf("-busy-rate %d out of range [1, %d]", o.busyRate, maxRate)
	case o.busyWrite < 1 || o.busyWrite > 1<<20:
		return fmt.Errorf("-busy-write %d out of range [1, %d]", o.busyWrite, 1<<20)
	case o.newRate < 1 || o.newRate > 1000:
		return fmt.Errorf("-new-rate %d out of range [1, 1000]", o.newRate)
	case o.phase <= 0 || o.phase > maxPhase:
		return fmt.Errorf("-phase %v out of range (0, %v]", o.phase, maxPhase)
	case o.hold < 0 || o.hold > 10*time.Second:
		return fmt.Errorf("-hold %v out of range [0, 10s]", o.hold)
	case o.newSize < 1 || o.newSize > maxMessage || o.newAnswer < 0 || o.newAnswer > maxMessage:
		return fmt.Errorf("-new-size %d or -new-answer %d out of range [1, %d], [0, %d]", o.newSize, o.newAnswer, maxMessage, maxMessage)
	case o.procs < 0 || o.procs > maxProcs:
		return fmt.Errorf("-procs %d out of range [0, %d]", o.procs, maxProcs)
	case o.procSize < 1 || o.procSize > maxMessage:
		return fmt.Errorf("-proc-size %d out of range [1, %d]", o.procSize, maxMessage)
	case o.containers < 0 || o.containers > maxCtrs:
		return fmt.Errorf("-containers %d out of range [0, %d]", o.containers, maxCtrs)
	case o.containers > 0 && o.containers*o.ports > 100:
		return fmt.Errorf("-containers %d × -ports %d: more than 100 idle server ports", o.containers, o.ports)
	case o.containers > 0 && (o.idle+o.containers-1)/o.containers > o.perProcess:
		return fmt.Errorf("-idle %d over -containers %d: more than -per-process %d in one holder", o.idle, o.containers, o.perProcess)
	case o.containers > 0 && o.procs > 0:
		return fmt.Errorf("-procs (phase 5) runs in the namespace pair only, not with -containers")
	case o.containers > 0 && o.service:
		return fmt.Errorf("-service runs in the namespace pair only, not with -containers")
	case o.timeout <= 0 || o.timeout > 30*time.Minute:
		return fmt.Errorf("-timeout %v out of range (0, 30m]", o.timeout)
	}
	return nil
}

func run(lab *netlab.Lab, o options) error {
	self, hogs, err := harness.Preflight("bench-sockets", o.hogs)
	if err != nil {
		return err
	}
	known := map[string]monitor{
		"hogs":      {name: "hogs", argv: []string{hogs, "-t", "-v", "2", "-d", "1", "-x"}},
		"hogs-json": {name: "hogs-json", argv: []string{hogs, "--json", "--connections", "-v", "2", "-d", "1", "-x"}, json: true},
		"nethogs":   {name: "nethogs"},
		// Attributing from /proc alone, as where kernel events cannot load.
		"hogs-noev":      {name: "hogs-noev", argv: []string{hogs, "--no-kernel-events", "-t", "-v", "2", "-d", "1", "-x"}},
		"hogs-json-noev": {name: "hogs-json-noev", argv: []string{hogs, "--no-kernel-events", "--json", "--connections", "-v", "2", "-d", "1", "-x"}, json: true},
	}
	var plan []monitor
	for _, spec := range o.monitors {
		name, variant, _ := strings.Cut(spec, ":")
		m, ok := known[name]
		if !ok || (variant != "" && variant != "old") {
			return fmt.Errorf("unknown monitor %q (hogs, hogs-json, hogs-noev, hogs-json-noev, nethogs, each optionally with :old)", spec)
		}
		m.oldClient = variant == "old"
		if name == "nethogs" {
			nethogs, err := harness.FindNethogs(o.nethogs, "sockets")
			if err != nil {
				return err
			}
			o.nethogs = nethogs
			m.argv = []string{nethogs, "-t", "-v", "2", "-d", "1"}
		}
		plan = append(plan, m)
	}
	env := harness.DescribeEnv(hogs, o.nethogs)
	fmt.Fprintf(os.Stderr, "sockets: %s; %s; CLK_TCK %d (%s)\n", env.Kernel, env.CPU, env.CLK, env.CLKSource)

	start := time.Now()
	var results []*result
	for i, m := range plan {
		fmt.Fprintf(os.Stderr, "\n[%d/%d] %s with %d idle sockets\n", i+1, len(plan), m.label(), o.idle)
		r := runOne(lab, m, self, o, env.CLK)
		r.print(os.Stderr)
		results = append(results, r)
	}
	took := time.Since(start)

	table := markdownTables(results, o)
	fmt.Println(table)
	for _, n := range observations(results, o) {
		fmt.Println("- " + n)
	}
	var errs []error
	for _, r := range results {
		errs = append(errs, r.err)
	}
	return harness.WriteResults("sockets", o.out, resultsDoc(env, o, results, table, took), took, errs)
}

// snap is what the harness reads at a phase boundary.
type snap struct {
	t        time.Time
	ref      int // index of the last refresh that had arrived
	sched    netlab.SchedStats
	schedErr error
	ticks    uint64
	wire     netlab.Counters
	x        xReading // hogs -x, the last line by then
	host     hostCPU
}

// hostCPU is the machine's busy and total jiffies (/proc/stat, all CPUs).
type hostCPU struct{ busy, total uint64 }

func readHostCPU() hostCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return hostCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var h hostCPU
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		if i == 7 || i == 8 {
			continue // guest time is already in user and nice
		}
		h.total += n
		if i != 3 && i != 4 { // idle, iowait
			h.busy += n
		}
	}
	return h
}

// busyPct is the machine's CPU use between two readings, in % of all CPUs.
func busyPct(a, b hostCPU) float64 {
	if b.total <= a.total {
		return 0
	}
	return 100 * float64(b.busy-a.busy) / float64(b.total-a.total)
}

// xReading is hogs -x's running totals at some point, if it printed one.
type xReading struct {
	trace.XStats
	ok bool
}

func (x xReading) Sub(y xReading) xReading { return xReading{x.XStats.Sub(y.XStats), x.ok && y.ok} }

func (r *result) take(mon *harness.Child, ref int) (snap, error) {
	s := snap{t: time.Now(), ref: ref, host: readHostCPU()}
	s.sched, s.schedErr = netlab.ReadSched(r.pid)
	var err error
	if s.ticks, _, err = netlab.CPUTicks(r.pid); err != nil {
		return s, err
	}
	if s.wire, err = netlab.DeviceCounters(r.wireNS, r.wireDev); err != nil {
		return s, err
	}
	s.x.XStats, s.x.ok = mon.Err.XAt(s.t)
	return s, nil
}

// result is one monitor's run.
type result struct {
	monitor string
	argv    []string
	json    bool
	ns      netlab.Pair  // the namespace pair (not with -containers)
	ctrs    containerLab // with -containers
	pid     int
	// Where things run: the monitor; the device whose counters are the
	// wire truth; the servers (and their address); the busy client.
	monNS, wireNS, wireDev, serverNS, serverAddr, busyNS string
	// startNew starts phase 3's new connections; waitNew waits until
	// every client has made its last and sets newLine.
	startNew, waitNew func() error
	err               error
	notes             []string

	idleWanted  int
	idleOpen    int
	holderLines []string
	serverLines []string
	sockstat    string
	busyLine    string
	sinkLine    string
	newPID      int          // the (first) new-connections client
	newPIDs     map[int]bool // every new-connections client (one per container)
	newLine     string
	newServer   string
	made, ok    int
	newLocals   map[string]bool
	newErrLines []string

	s0             netlab.Counters // vA just before the monitor started
	quiet          netlab.Counters // vA from then to the busy flow's start: should be 0
	s2, s3, s4, s5 snap            // phase 2 start, phase 3 start, phase 3 end, the tail's end
	s6             snap            // phase 5's end (s5 without it)
	newDone        time.Time
	memEnd         netlab.Memory
	killed         bool
	stopTook       time.Duration
	monStatus      string
	monStderr      string
	refTime        []time.Time
	final          trace.Block
	done           bool // all phases measured

	gcs [2]int // Go GCs in phases 2 and 3 (GODEBUG=gctrace=1 only)
	clk uint64

	// With -service: the cgroup the new-connections client and the client
	// processes run in.
	svc *netlab.ServiceCgroup

	// Phase 5: short-lived client processes.
	procPIDs   map[int]bool
	procsLine  string
	procsWire  netlab.Counters // vA during phase 5
	procsFinal trace.Block     // the refresh at s6
}

// runOne runs monitor m in a fresh namespace pair.
func runOne(lab *netlab.Lab, m monitor, self string, o options, clk uint64) *result {
	r := &result{monitor: m.label(), argv: m.argv, json: m.json, idleWanted: o.idle, clk: clk}
	r.err = r.run(lab, m, self, o)
	return r
}

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// roleFunc starts a traffic role in a namespace and has it stopped at the
// end of the run.
type roleFunc func(name, ns string, args ...string) (*harness.Child, error)

func (r *result) run(lab *netlab.Lab, m monitor, self string, o options) error {
	// Stop in reverse order of start, the monitor first; then the
	// namespaces go (removals).
	var stops, afters, removals []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		for _, f := range afters {
			f()
		}
		for _, f := range removals {
			f()
		}
	}()
	role := func(name, ns string, args ...string) (*harness.Child, error) {
		var cg *netlab.ServiceCgroup
		if name == "newconn-client" || name == "procs-launcher" {
			cg = r.svc // nil without -service
		}
		c, err := harness.StartInCgroup(lab, name, ns, cg, nil, append([]string{self, name}, args...)...)
		if err != nil {
			return nil, err
		}
		stops = append(stops, func() { c.Stop(grace) })
		return c, nil
	}
	var err error
	if o.containers > 0 {
		err = r.setUpContainers(lab, o, role, &afters, &removals)
	} else {
		err = r.setUpPair(lab, m, o, role, &afters, &removals)
	}
	if err != nil {
		return err
	}
	return r.measure(lab, m, o, role, &stops, &afters)
}

// setUpPair is phase 1's set-up in a namespace pair: the monitor, the
// idle holders and the clients in nsA, the servers in nsB.
func (r *result) setUpPair(lab *netlab.Lab, m monitor, o options, role roleFunc, afters, removals *[]func()) error {
	p, err := lab.NewPair(pairConfig)
	if err != nil {
		return err
	}
	r.ns = p
	*removals = append(*removals, func() { lab.RemovePair(p) })
	if o.service {
		// Removed after the clients have been stopped (removals run last).
		if r.svc, err = netlab.NewServiceCgroup("bench"); err != nil {
			return fmt.Errorf("-service: %w", err)
		}
		*removals = append(*removals, func() {
			if err := r.svc.Remove(); err != nil {
				r.note("%v", err)
			}
		})
	}
	r.monNS, r.wireNS, r.wireDev, r.serverNS, r.serverAddr, r.busyNS = p.A, p.A, "vA", p.B, addrB, p.A

	// The new-connections server, and with :old the client, which waits
	// for SIGUSR1 (so that its PID is older than the idle holders').
	if err := r.newconnServer(role, afters, o); err != nil {
		return err
	}
	newArgs := []string{addrB + ":" + newconnPrt, strconv.Itoa(o.newRate), o.phase.String(), o.hold.String()}
	newTail := []string{strconv.Itoa(o.newSize), strconv.Itoa(o.newAnswer)}
	var newc *harness.Child
	if m.oldClient {
		if newc, err = role("newconn-client", p.A, append(append(newArgs, "signal"), newTail...)...); err != nil {
			return err
		}
		r.addNewClient(newc, afters)
		if _, err := newc.WaitLine("waiting", 10*time.Second); err != nil {
			return err
		}
	}
	r.startNew = func() error {
		if m.oldClient {
			newc.Signal(syscall.SIGUSR1)
			return nil
		}
		var err error
		if newc, err = role("newconn-client", p.A, append(append(newArgs, "now"), newTail...)...); err != nil {
			return err
		}
		r.addNewClient(newc, afters)
		return nil
	}
	r.waitNew = func() (err error) {
		r.newLine, err = newc.WaitLine("made ", o.phase+o.hold+20*time.Second)
		return err
	}

	// Idle servers and holders, -per-process connections each.
	setupStart := time.Now()
	for k, n := range chunks(o.idle, o.perProcess) {
		if err := r.idlePair(role, afters, o, k, n, p.A); err != nil {
			return err
		}
	}
	if out, err := netlab.Exec(p.A, "cat", "/proc/net/sockstat"); err == nil {
		r.sockstat = tcpSockstat(out)
	}
	if r.idleOpen < o.idle {
		r.note("only %d of %d idle connections could be opened: %s", r.idleOpen, o.idle, strings.Join(r.holderLines, "; "))
	}
	fmt.Fprintf(os.Stderr, "  %d idle connections in %d holders (set-up %v); nsA %s\n",
		r.idleOpen, len(r.holderLines), time.Since(setupStart).Round(time.Millisecond), r.sockstat)
	if o.procs > 0 {
		procsSrv, err := role("newconn-server", p.B, addrB+":"+procsPort, strconv.Itoa(o.procSize), "1")
		if err != nil {
			return err
		}
		if _, err := procsSrv.WaitLine("ready", 10*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// tcpSockstat is the TCP line of /proc/net/sockstat text.
func tcpSockstat(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "TCP:") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// newconnServer starts the new-connections server in the servers'
// namespace.
func (r *result) newconnServer(role roleFunc, afters *[]func(), o options) error {
	newSrv, err := role("newconn-server", r.serverNS, r.serverAddr+":"+newconnPrt, strconv.Itoa(o.newSize), strconv.Itoa(o.newAnswer))
	if err != nil {
		return err
	}
	*afters = append(*afters, func() { r.newServer = harness.LastLine(newSrv.Out.Text()) })
	_, err = newSrv.WaitLine("ready", 10*time.Second)
	return err
}

// idlePair starts idle server k (n connections, -ports ports) in the
// servers' namespace and its holder in namespace ns, and waits until the
// holder has connected.
func (r *result) idlePair(role roleFunc, afters *[]func(), o options, k, n int, ns string) error {
	var ports []string
	for i := range o.ports {
		ports = append(ports, strconv.Itoa(idleBase+k*o.ports+i))
	}
	srv, err := role("idle-server", r.serverNS, r.serverAddr, strings.Join(ports, ","), strconv.Itoa(n), o.serverMode)
	if err != nil {
		return err
	}
	*afters = append(*afters, func() { r.serverLines = append(r.serverLines, harness.LastLine(srv.Out.Text())) })
	if _, err := srv.WaitLine("ready", 10*time.Second); err != nil {
		return err
	}
	holder, err := role("idle-holder", ns, r.serverAddr, strings.Join(ports, ","), strconv.Itoa(n))
	if err != nil {
		return err
	}
	line, err := holder.WaitLine("connected ", connectDeadline+10*time.Second)
	if err != nil {
		return err
	}
	r.holderLines = append(r.holderLines, fmt.Sprintf("PID %d: %s", holder.PID(), line))
	if f := strings.Fields(line); len(f) > 1 {
		k, _ := strconv.Atoi(f[1])
		r.idleOpen += k
	}
	return nil
}

// addNewClient records a new-connections client: its PID, and what it
// printed once it is stopped.
func (r *result) addNewClient(c *harness.Child, afters *[]func()) {
	if r.newPIDs == nil {
		r.newPIDs = map[int]bool{}
	}
	r.newPIDs[c.PID()] = true
	if r.newPID == 0 {
		r.newPID = c.PID()
	}
	*afters = append(*afters, func() { r.collectNew(c) })
}

// measure runs the rest of phase 1 (the busy sink, the monitor, the busy
// flow) and phases 2 to 5 once the set-up has placed the idle connections
// and the new-connections clients.
func (r *result) measure(lab *netlab.Lab, m monitor, o options, role roleFunc, stops, afters *[]func()) error {
	sink, err := role("busy-sink", r.serverNS, r.serverAddr+":"+busyPort)
	if err != nil {
		return err
	}
	*afters = append(*afters, func() { r.sinkLine = harness.LastLine(sink.Out.Text()) })
	if _, err := sink.WaitLine("ready", 10*time.Second); err != nil {
		return err
	}
	isRefresh := trace.IsTraceRefresh
	if m.json {
		isRefresh = trace.IsJSONRefresh
	}
	// The link is quiet now (idle connections carry nothing): vA's
	// counters from here on are exactly what the monitor can see.
	if r.s0, err = netlab.DeviceCounters(r.wireNS, r.wireDev); err != nil {
		return err
	}
	mon, err := harness.Start(lab, m.name, r.monNS, isRefresh, m.argv...)
	if err != nil {
		return err
	}
	r.pid = mon.PID()
	monStarted := time.Now()
	*stops = append(*stops, func() {
		if !mon.Exited() {
			r.killed, r.stopTook = mon.Stop(grace)
		}
		r.monStatus = mon.Status()
		r.monStderr = mon.Err.Text()
		r.refTime = mon.Out.RefreshTimes()
	})
	first, firstAt, err := mon.WaitRefresh(monStarted, 30*time.Second)
	if err != nil {
		return err
	}
	if err := harness.CheckExec(r.pid, m.argv[0]); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  %s PID %d: first refresh after %v\n", m.name, r.pid, firstAt.Sub(monStarted).Round(time.Millisecond))
	c, err := netlab.DeviceCounters(r.wireNS, r.wireDev)
	if err != nil {
		return err
	}
	r.quiet = c.Sub(r.s0)
	maxDur := 4 * time.Minute
	busy, err := role("busy-client", r.busyNS, r.serverAddr+":"+busyPort, strconv.Itoa(o.busyRate), strconv.Itoa(o.busyWrite), maxDur.String())
	if err != nil {
		return err
	}
	*afters = append(*afters, func() { r.busyLine = harness.LastLine(busy.Out.Text()) })
	if _, err := busy.WaitLine("streaming", 10*time.Second); err != nil {
		return err
	}
	busyStart := time.Now()
	first = mon.Out.Refreshes()
	steadyDeadline := time.Now().Add(20 * time.Second)
	for {
		n := mon.Out.Refreshes()
		if n-first >= 3 && time.Since(busyStart) >= steadyFor {
			break
		}
		if time.Now().After(steadyDeadline) {
			r.note("refreshes not steady 20 s after the busy flow started (%d printed since): measuring anyway", n-first)
			break
		}
		if mon.Exited() {
			return fmt.Errorf("%s exited during start-up (%v): %s", m.name, mon.WaitErr, harness.OneLine(harness.FirstLines(mon.Err.Text(), 5)))
		}
		time.Sleep(20 * time.Millisecond)
	}

	if f := harness.ForeignNetns(lab); len(f) > 0 {
		r.note("other benchmark namespaces exist (%s): another run shares the CPUs", strings.Join(f, ", "))
	}

	// 2. Nothing new: refresh to refresh, about -phase long.
	i2, _, err := mon.WaitRefresh(time.Now(), 15*time.Second)
	if err != nil {
		return err
	}
	if r.s2, err = r.take(mon, i2); err != nil {
		return err
	}
	i3, _, err := mon.WaitRefresh(r.s2.t.Add(o.phase), o.phase+20*time.Second)
	if err != nil {
		return err
	}
	if r.s3, err = r.take(mon, i3); err != nil {
		return err
	}

	// 3. New connections.
	if err := r.startNew(); err != nil {
		return err
	}
	if err := r.waitNew(); err != nil {
		return err
	}
	r.newDone = time.Now()
	i4, _, err := mon.WaitRefresh(r.newDone.Add(settle), 30*time.Second)
	if err != nil {
		r.note("phase 3: %v; measured without waiting for it", err)
		i4 = mon.Out.Refreshes() - 1
	}
	if r.s4, err = r.take(mon, i4); err != nil {
		return err
	}

	// 4. Tail: pause the busy flow, two more refreshes.
	busy.Signal(syscall.SIGUSR1)
	paused := time.Now()
	i5, at5, err := mon.WaitRefresh(paused.Add(300*time.Millisecond), 20*time.Second)
	if err == nil {
		i5, _, err = mon.WaitRefresh(at5.Add(time.Nanosecond), 20*time.Second)
	}
	if err != nil {
		return fmt.Errorf("tail: %v", err)
	}
	if r.s5, err = r.take(mon, i5); err != nil {
		return err
	}
	r.s6 = r.s5
	if o.procs > 0 {
		if err := r.procsPhase(mon, role, r.ns, o); err != nil {
			return fmt.Errorf("phase 5: %v", err)
		}
	}
	if r.memEnd, err = netlab.ReadMemory(r.pid); err != nil {
		return err
	}
	if mon.Exited() {
		return fmt.Errorf("%s died during the run (%v): %s", m.name, mon.WaitErr, harness.OneLine(harness.FirstLines(mon.Err.Text(), 5)))
	}
	r.killed, r.stopTook = mon.Stop(grace)

	// hogs prints one -x line per refresh, just before the refresh, but on
	// stderr: it may reach the harness after the refresh it belongs to.
	// Match them by number rather than by arrival.
	if xs, _ := mon.Err.AllX(); len(xs) > 0 {
		if n := mon.Out.Refreshes(); len(xs) == n || len(xs) == n+1 {
			for _, s := range []*snap{&r.s2, &r.s3, &r.s4, &r.s5, &r.s6} {
				s.x = xReading{xs[s.ref], true}
			}
		} else {
			r.note("%d -x lines for %d refreshes: -x totals taken by arrival time", len(xs), n)
		}
	}
	// With GODEBUG=gctrace=1 in the harness's environment, a Go monitor
	// reports each garbage collection on stderr: count them per phase.
	for _, ln := range mon.Err.Lines() {
		if !strings.HasPrefix(ln.S, "gc ") {
			continue
		}
		switch {
		case ln.T.After(r.s2.t) && !ln.T.After(r.s3.t):
			r.gcs[0]++
		case ln.T.After(r.s3.t) && !ln.T.After(r.s4.t):
			r.gcs[1]++
		}
	}
	if r.final, err = mon.Out.Block(r.s5.ref, m.json); err != nil {
		return err
	}
	if o.procs > 0 {
		if r.procsFinal, err = mon.Out.Block(r.s6.ref, m.json); err != nil {
			return err
		}
	}
	if strings.HasPrefix(m.name, "hogs") && !r.s5.x.ok {
		return fmt.Errorf("no -x line on hogs's stderr")
	}
	r.done = true
	return nil
}

// chunks splits n into parts of at most per.
func chunks(n, per int) []int {
	var c []int
	for n > 0 {
		k := min(n, per)
		c = append(c, k)
		n -= k
	}
	return c
}

// collectNew reads what the new-connections client printed: the local
// address of each connection and the count.
func (r *result) collectNew(c *harness.Child) {
	if r.newLocals == nil {
		r.newLocals = map[string]bool{}
	}
	for _, l := range strings.Split(c.Out.Text(), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 3 && f[0] == "conn" && f[2] == "ok":
			r.newLocals[f[1]] = true
		case len(f) >= 3 && f[0] == "conn":
			r.newErrLines = append(r.newErrLines, l)
		case len(f) >= 4 && f[0] == "made":
			made, _ := strconv.Atoi(f[1])
			ok, _ := strconv.Atoi(f[3])
			r.made, r.ok = r.made+made, r.ok+ok
		}
	}
}

// procsPhase is phase 5: with the busy flow paused and the link quiet, a
// launcher starts -procs client processes one after another, each sending
// -proc-size bytes over its own connection and exiting; it ends at the
// second refresh after the settle time past the last. vA's counters over
// the phase are exactly those connections' bytes.
func (r *result) procsPhase(mon *harness.Child, role roleFunc, p netlab.Pair, o options) error {
	w0, err := netlab.DeviceCounters(p.A, "vA")
	if err != nil {
		return err
	}
	l, err := role("procs-launcher", p.A, addrB+":"+procsPort, strconv.Itoa(o.procs), strconv.Itoa(o.procSize))
	if err != nil {
		return err
	}
	if r.procsLine, err = l.WaitLine("done ", time.Duration(o.procs)*time.Second+30*time.Second); err != nil {
		return err
	}
	r.procPIDs = map[int]bool{}
	for _, line := range strings.Split(l.Out.Text(), "\n") {
		var pid int
		if _, err := fmt.Sscanf(line, "pid %d", &pid); err == nil {
			r.procPIDs[pid] = true
		}
	}
	i, at, err := mon.WaitRefresh(time.Now().Add(settle), 20*time.Second)
	if err == nil {
		i, _, err = mon.WaitRefresh(at.Add(time.Nanosecond), 20*time.Second)
	}
	if err != nil {
		return err
	}
	if r.s6, err = r.take(mon, i); err != nil {
		return err
	}
	r.procsWire = r.s6.wire.Sub(w0)
	return nil
}

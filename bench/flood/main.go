//go:build linux

// Command flood measures hogs against nethogs while the monitored
// namespace is flooded: a random-tuple TCP SYN flood (every frame a new
// 5-tuple, as a port scan or a spoofed flood looks), then a random-tuple
// UDP storm, while one real download runs. `make bench-flood` (as root)
// runs it after building ./hogs; it prints a Markdown table on stdout,
// writes it to bench/flood/results.md with the date, kernel, CPU and
// command, and prints per-run details on stderr.
//
// # Setup
//
// Every run gets two fresh namespaces (hogs-flood-a-XXXXXXXX, the
// monitor's, and hogs-flood-b-XXXXXXXX) joined by a quiet veth pair (see
// internal/netlab): vA 10.93.0.1/24, vB 10.93.0.2/24; nsA has rp_filter
// off, so the stack takes the spoofed frames in as a server would. The
// harness re-executes itself for the traffic roles:
//
//	flood gen-flood DEV DSTMAC DSTIP RATE PHASE   (nsB: raw frames on vB)
//	flood download-server ADDR SIZE DURATION      (nsB)
//	flood download-client ADDR                    (nsA)
//	flood wire-count DEV PORT                     (nsA: the download's frames on vA)
//
// The generator writes Ethernet frames with a packet socket, past the
// qdisc: for -phase (10 s) TCP SYNs, then for -phase UDP datagrams
// (60-byte frames), each from a random address of 198.18.0.0/15 and random
// ports, at -rate frames a second (paced on a 1 ms tick) or as fast as it
// can. The download: the client in nsA fetches -download-size (3 MB) from
// the server in nsB, which spreads it over -download-time (15 s) so it
// runs through both phases; the client stays alive afterwards.
//
// # Procedure, per scenario and monitor
//
// The wire counter and the download server start, then the monitor in
// nsA on vA (`hogs -t -C -v 2 -d 1 -x vA`, `nethogs -t -C -v 2 -d 1 vA`),
// which gets 2 s; then the harness reads its CPU, memory and vA's
// counters, starts the download and the generator, waits for the
// generator and 2 s more, reads them again and stops the monitor
// (SIGTERM, SIGKILL after 3 s).
//
// # What is reported
//
//   - Wire pkts: rx+tx packets on vA over the window; CPU ns / pkt is the
//     monitor's on-CPU time (se.sum_exec_runtime of its threads) over the
//     window per wire packet (the download's few thousand are among them);
//     user / system splits it as the kernel's tick sampling does
//     (utime/stime of /proc/PID/stat): the monitor's own code, and the
//     kernel's work in its syscalls and page faults (and, without
//     CONFIG_IRQ_TIME_ACCOUNTING, soft interrupts that land on it).
//   - Refreshes on time: the refreshes that arrived while the generator ran
//     over the whole seconds it ran (with -d 1, one a second is on time).
//   - VmHWM: the monitor's peak resident memory.
//   - Download row: whether the last refresh has a row for the download
//     client's PID, and its sent and received bytes over the download's
//     frames per direction as a packet socket with a kernel filter on the
//     download's port counted them (frame bytes, Ethernet header included).
//   - Dropped: hogs -x's count of packets the kernel dropped on its capture
//     socket; nethogs reports none.
//
// # Caveats
//
//   - Two cores run the generator, the stack's work on every frame, the
//     monitor and the harness: at the maximum rate the monitor competes
//     with the flood it measures.
//   - The kernel's share of capturing is charged to whichever task runs,
//     mostly the generator: a monitor's CPU is its own work.
//   - A SIGKILLed harness cannot clean up: its children die with it, but
//     its hogs-flood-* namespaces stay until `ip netns delete`.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"hogs/bench/internal/harness"
	"hogs/bench/internal/trace"
	"hogs/internal/netlab"
)

const (
	startup      = harness.MonitorStartup
	tail         = harness.Tail
	grace        = harness.Grace
	downloadPort = "9400"

	addrA = "10.93.0.1" // vA, in nsA: the monitor, the download client
	addrB = "10.93.0.2" // vB, in nsB: the flood, the download server
	macA  = "02:93:00:00:00:01"

	clockTicks = 100 // USER_HZ: /proc/PID/stat's unit on every Linux port
)

var pairConfig = netlab.PairConfig{
	Prefix: "hogs-flood", AddrA: addrA, AddrB: addrB, MACA: macA, MACB: "02:93:00:00:00:02",
	SysctlsA:   []string{"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"},
	LoopbackUp: true,
}

// scenario is one flood: a rate (0: the generator's maximum) for each of
// its two phases, and the monitors that watch it.
type scenario struct {
	name     string
	rate     int
	monitors []string // nil: every monitor of -monitors
}

var scenarios = []scenario{
	{name: "flood-50k", rate: 50_000},
	{name: "flood-max", rate: 0},
}

type options struct {
	hogs, nethogs string
	phase         time.Duration
	downloadSize  int
	downloadTime  time.Duration
	scenarios     []string
	monitors      []string
	out           string
	timeout       time.Duration
}

func main() {
	roles.RunIfAsked(roleLifetime)
	var o options
	var scen, mons string
	harness.MonitorFlags(&o.hogs, &o.nethogs)
	flag.DurationVar(&o.phase, "phase", 10*time.Second, "length of each flood phase (SYN, then UDP)")
	flag.IntVar(&o.downloadSize, "download-size", 3_000_000, "bytes the real download fetches")
	flag.DurationVar(&o.downloadTime, "download-time", 15*time.Second, "the download server spreads the bytes over this long")
	flag.StringVar(&scen, "scenarios", "flood-50k,flood-max", "scenarios to run, comma-separated")
	flag.StringVar(&mons, "monitors", "hogs,nethogs", "monitors to run, comma-separated")
	flag.StringVar(&o.out, "out", "bench/flood/results.md", "Markdown results file (empty: none)")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "the whole run: past it everything is killed and removed")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "flood: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	switch {
	case o.phase <= 0 || o.phase > maxPhase:
		fmt.Fprintf(os.Stderr, "flood: -phase %v out of range (0, %v]\n", o.phase, maxPhase)
		os.Exit(2)
	case o.downloadSize < 1 || o.downloadSize > maxDownload:
		fmt.Fprintf(os.Stderr, "flood: -download-size %d out of range [1, %d]\n", o.downloadSize, maxDownload)
		os.Exit(2)
	case o.downloadTime <= 0 || o.downloadTime > maxPhase:
		fmt.Fprintf(os.Stderr, "flood: -download-time %v out of range (0, %v]\n", o.downloadTime, maxPhase)
		os.Exit(2)
	}
	o.scenarios = strings.Split(scen, ",")
	o.monitors = strings.Split(mons, ",")
	harness.Main("flood", o.timeout, func(lab *netlab.Lab) error { return run(lab, o) })
}

type monitor struct {
	name, program string
	argv          []string
}

func run(lab *netlab.Lab, o options) error {
	self, hogs, err := harness.Preflight("bench-flood", o.hogs)
	if err != nil {
		return err
	}
	nethogs, err := harness.FindNethogs(o.nethogs, "flood")
	if err != nil {
		return err
	}
	monitors := map[string]monitor{
		"hogs":    {"hogs", hogs, []string{hogs, "-t", "-C", "-v", "2", "-d", "1", "-x", "vA"}},
		"nethogs": {"nethogs", nethogs, []string{nethogs, "-t", "-C", "-v", "2", "-d", "1", "vA"}},
	}
	type entry struct {
		s scenario
		m monitor
	}
	var plan []entry
	for _, name := range o.scenarios {
		i := findScenario(name)
		if i < 0 {
			return fmt.Errorf("unknown scenario %q", name)
		}
		for _, mn := range o.monitors {
			m, ok := monitors[mn]
			if !ok {
				return fmt.Errorf("unknown monitor %q (hogs, nethogs)", mn)
			}
			if s := scenarios[i]; s.monitors == nil || slices.Contains(s.monitors, mn) {
				plan = append(plan, entry{s, m})
			}
		}
	}
	env := harness.DescribeEnv(hogs, nethogs)
	fmt.Fprintf(os.Stderr, "flood: %s; %s\n", env.Kernel, env.CPU)
	start := time.Now()
	var results []*result
	for i, p := range plan {
		fmt.Fprintf(os.Stderr, "\n[%d/%d] %s × %s\n", i+1, len(plan), p.s.name, p.m.name)
		r := &result{scenario: p.s.name, monitor: p.m.name}
		r.err = r.run(lab, p.s, p.m, self, o)
		r.print(os.Stderr)
		results = append(results, r)
	}
	took := time.Since(start)
	table := markdownTable(results)
	fmt.Println(table)
	var errs []error
	for _, r := range results {
		errs = append(errs, r.err)
	}
	return harness.WriteResults("flood", o.out, resultsDoc(env, o, results, table, took), took, errs)
}

// findScenario is the index of the scenario called name, -1 if none.
func findScenario(name string) int {
	return slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
}

// result is one monitor's run under one flood.
type result struct {
	scenario, monitor string
	ns                netlab.Pair
	pid               int
	err               error
	notes             []string

	wire        netlab.Counters
	cpuMs       float64
	userMs      float64 // utime over the window (clock ticks: 10 ms steps)
	sysMs       float64 // stime over the window
	memEnd      netlab.Memory
	genOut      string
	genTook     time.Duration
	onTime      int // refreshes that arrived while the generator ran
	expected    int // whole seconds the generator ran
	refreshes   int
	killed      bool
	monStatus   string
	monStderr   string
	x           trace.XStats
	xOK         bool
	clientPID   int
	clientOut   string
	downloadRow bool
	rowSent     float64
	rowRecv     float64
	wireCount   downloadWire
}

// downloadWire is what the wire counter saw of the download.
type downloadWire struct {
	sentPackets, sentBytes, recvPackets, recvBytes, dropped uint64
	ok                                                      bool
}

// parseWireCount reads the wire counter's last line.
func parseWireCount(line string) (downloadWire, bool) {
	var w downloadWire
	_, err := fmt.Sscanf(line, "wire-count: sent %d packets %d bytes; received %d packets %d bytes; %d dropped",
		&w.sentPackets, &w.sentBytes, &w.recvPackets, &w.recvBytes, &w.dropped)
	w.ok = err == nil
	return w, w.ok
}

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *result) run(lab *netlab.Lab, s scenario, m monitor, self string, o options) error {
	p, err := lab.NewPair(pairConfig)
	if err != nil {
		return err
	}
	r.ns = p
	defer lab.RemovePair(p)
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	role := func(name, ns string, args ...string) (*harness.Child, error) {
		c, err := harness.Start(lab, name, ns, nil, append([]string{self, name}, args...)...)
		if err != nil {
			return nil, err
		}
		stops = append(stops, func() { c.StopWithin(grace) })
		return c, nil
	}
	counter, err := role("wire-count", p.A, "vA", downloadPort)
	if err != nil {
		return err
	}
	if _, err := counter.WaitLine("ready", 10*time.Second); err != nil {
		return err
	}
	server, err := role("download-server", p.B, addrB+":"+downloadPort, strconv.Itoa(o.downloadSize), o.downloadTime.String())
	if err != nil {
		return err
	}
	if _, err := server.WaitLine("ready", 10*time.Second); err != nil {
		return err
	}

	mon, err := harness.StartMonitor(lab, m.name, m.program, p.A, trace.IsTraceRefresh, startup, m.argv...)
	if mon != nil {
		r.pid = mon.PID()
		defer func() {
			mon.StopWithin(grace)
			r.monStatus = mon.Status()
			r.monStderr = mon.Err.Text()
		}()
	}
	if err != nil {
		return err
	}
	sched0, err := netlab.ReadSched(r.pid)
	if err != nil {
		return fmt.Errorf("no per-thread CPU time (/proc/PID/task/*/sched): %v", err)
	}
	user0, sys0, err := netlab.CPUSplit(r.pid)
	if err != nil {
		return err
	}
	c0, err := netlab.DeviceCounters(p.A, "vA")
	if err != nil {
		return err
	}

	client, err := role("download-client", p.A, addrB+":"+downloadPort)
	if err != nil {
		return err
	}
	r.clientPID = client.PID()
	genStart := time.Now()
	gen, err := role("gen-flood", p.B, "vB", macA, addrA, strconv.Itoa(s.rate), o.phase.String())
	if err != nil {
		return err
	}
	if !gen.Wait(2*o.phase + 30*time.Second) {
		return fmt.Errorf("gen-flood still running %v after its 2 × %v", 2*o.phase+30*time.Second, o.phase)
	}
	genEnd := time.Now()
	r.genTook = genEnd.Sub(genStart)
	r.genOut = strings.TrimSpace(gen.Out.Text() + gen.Err.Text())
	if gen.WaitErr != nil {
		return fmt.Errorf("gen-flood: %v: %s", gen.WaitErr, strings.TrimSpace(gen.Err.Text()))
	}
	if _, err := client.WaitLine("done ", o.downloadTime+30*time.Second); err != nil {
		r.note("download: %v", err)
	}
	time.Sleep(tail)

	c1, err := netlab.DeviceCounters(p.A, "vA")
	if err != nil {
		return err
	}
	r.wire = c1.Sub(c0)
	if mon.Exited() {
		return fmt.Errorf("%s died during the run (%v): %s", m.name, mon.WaitErr, harness.OneLine(harness.FirstLines(mon.Err.Text(), 5)))
	}
	sched1, err := netlab.ReadSched(r.pid)
	if err != nil {
		return err
	}
	r.cpuMs = sched1.Sub(sched0).Ms
	user1, sys1, err := netlab.CPUSplit(r.pid)
	if err != nil {
		return err
	}
	r.userMs, r.sysMs = float64(user1-user0)*1000/clockTicks, float64(sys1-sys0)*1000/clockTicks
	if r.memEnd, err = netlab.ReadMemory(r.pid); err != nil {
		return err
	}
	r.killed, _ = mon.Stop(grace)
	counter.Stop(grace)
	r.clientOut = harness.OneLine(client.Out.Text())
	if w, ok := parseWireCount(harness.LastLine(counter.Out.Text())); ok {
		r.wireCount = w
	} else {
		r.note("wire counter: %s", harness.OneLine(counter.Out.Text()+counter.Err.Text()))
	}

	for _, t := range mon.Out.RefreshTimes() {
		if !t.Before(genStart) && !t.After(genEnd) {
			r.onTime++
		}
	}
	r.expected = int(r.genTook / time.Second)
	r.refreshes = mon.Out.Refreshes()
	if r.killed && r.refreshes > 0 {
		r.refreshes-- // the last one may be cut short
	}
	if xs, _ := mon.Err.AllX(); len(xs) > 0 {
		r.x, r.xOK = xs[len(xs)-1], true
	}
	if r.refreshes > 0 {
		last, err := mon.Out.Block(r.refreshes-1, false)
		if err != nil {
			r.note("last refresh: %v", err)
		} else {
			r.rowSent, r.rowRecv, r.downloadRow = last.Of(r.clientPID)
		}
	}
	return nil
}

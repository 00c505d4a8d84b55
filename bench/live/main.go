//go:build linux

// Command live measures hogs against nethogs on live traffic: the CPU time
// and memory each monitor spends on the same generated traffic, and how
// much of that traffic each one accounts for. `make bench-live` (as root)
// runs it after building ./hogs; it prints a Markdown table on stdout,
// writes it to bench/live/results.md with the date, kernel, CPU and
// command, and prints raw per-run details on stderr. It takes under three
// minutes.
//
// # Setup
//
// Every run gets two fresh network namespaces (hogs-live-a-XXXXXXXX and
// hogs-live-b-XXXXXXXX) joined by a veth pair: vA 10.88.0.1/24 on the
// monitor's side, vB 10.88.0.2/24 on the generator's. The link is quiet:
// IPv6 is off, IGMP reports are off, multicast is off and ARP entries are
// static, so the only packets on it are the generated ones (the harness
// checks this: "idle" packets in the details). Traffic never leaves the
// namespaces. The harness re-executes itself (os.Executable) inside a
// namespace for the traffic roles, named by a hidden first argument:
//
//	live gen-udp ADDR RATE DURATION SIZE   (RATE 0: as fast as possible)
//	live sink-udp ADDR         (connects to its first sender, as iperf3 -s does)
//	live sink-udp-bound ADDR   (stays unconnected)
//	live sink-tcp ADDR
//	live gen-tcp-small ADDR COUNT-or-DURATION
//	live gen-tcp-bulk ADDR DURATION
//
// Sinks run in the monitor's namespace (nsA), generators in nsB and send
// to nsA.
//
// # Scenarios
//
// The scenarios are a table (scenarios, below): each names a kind of
// traffic (which sink and generator roles play it), a rate and datagram
// size where they apply, and the monitors to run. Each sends for 10 s
// (-duration): udp-10k and udp-50k, 64-byte UDP
// payloads paced at 10,000 and 50,000 datagrams/s (bursts on a 1 ms tick);
// udp-max, 64-byte datagrams as fast as one goroutine can send them (at
// most 20 million), each to a sink that connects its socket to the
// generator as iperf3's UDP server does (with iperf3 as the traffic,
// nethogs behaves the same: it attributes the flow and its memory and CPU
// per packet grow); udp-50k-bound, the same at 50,000/s to a sink that
// stays unconnected (nethogs: unknown UDP); tcp-small, one TCP_NODELAY connection carrying 64-byte
// writes as fast as possible (TCP autocorking off in nsB, so a write
// leaves as its own segment unless the connection is window-limited);
// tcp-bulk, one connection carrying 1 MiB writes.
//
// # Procedure
//
// For each scenario each monitor runs alone, hogs first, each in its own
// namespace pair: the monitor starts in nsA (`hogs -t -C -v 2 -d 1 -x`,
// `nethogs -t -C -v 2 -d 1`; ip netns exec execs it, so the PID started
// is the monitor's), gets 2 s to start, then the harness reads its CPU
// time and vA's counters, starts the sink and the generator, waits for the
// generator to finish and 2 s more, reads CPU, memory and counters again,
// and stops the monitor (SIGTERM, SIGKILL after 3 s).
//
// # What is reported
//
//   - wire packets: rx+tx packets on vA during the window (ip -s -j link).
//     UDP is one-way, so its packets are all rx; TCP adds the ACKs as tx.
//   - CPU ms: the monitor's on-CPU time over the window (startup
//     excluded), summed over its threads from the nanosecond
//     se.sum_exec_runtime of /proc/PID/task/*/sched; CPU ns per wire
//     packet. The details cross-check it with utime+stime of
//     /proc/PID/stat (clock ticks of 10 ms).
//   - VmHWM (peak RSS over the whole life) and VmRSS at the end, in MiB.
//   - dropped: the last "N dropped" hogs -x printed, the kernel's count of
//     packets its capture socket lost. nethogs does not report drops.
//   - accuracy: the bytes the monitor's last refresh attributes (SENT +
//     RECEIVED summed over all its rows, -v 2 totals since it started)
//     over vA's rx+tx bytes in the window; missing % is 100 - accuracy,
//     clamped at 0. A monitor counts only what it captured, so missing
//     bytes are packets it lost (or had not processed by its last
//     refresh).
//   - ratio: hogs's CPU ns per packet over nethogs's, on the hogs row.
//
// # Caveats
//
//   - /proc/PID/task/*/sched covers the threads alive at each reading; a
//     thread that ends inside the window takes its time with it (the
//     tick cross-check, which keeps it, shows when that matters).
//   - CPU is the monitor's own time: reading its ring, parsing, accounting,
//     /proc scans. The kernel's share of capturing (running the socket
//     filter, copying each packet into the ring) happens in softirq context
//     and is charged to whichever task was running, mostly the generator
//     and the sink, so neither monitor pays it here.
//   - The machine is shared by generator, sink and monitor; with two
//     cores, udp-max and tcp-small saturate them, so the monitor competes
//     for CPU with the traffic it measures, and the two monitors' runs do
//     not see exactly the same packet count. Compare per packet.
//   - veth does GSO/GRO: a tcp-bulk "packet" is a super-packet of up to
//     64 KiB, counted once by the interface and once by the monitors.
//   - Trace rows carry 6 significant digits (nethogs's format, and it
//     holds totals as float): expect ~1e-5 relative noise in accuracy.
//   - The monitor's totals count from its start, the wire counters from
//     the window's start: the link is idle before, which the details check.
//   - tcp-small: when the sender outruns the stack, queued writes leave
//     together (a segment carries several 64-byte writes); the details give
//     writes and segments.
//   - Rows may name "unknown TCP/UDP" (nethogs does not map the UDP sink
//     to its process): all rows are summed.
//   - A SIGKILLed harness cannot clean up: its children die with it
//     (PR_SET_PDEATHSIG), but its hogs-live-* namespaces stay until
//     `ip netns delete`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"hogs/bench/internal/harness"
	"hogs/bench/internal/trace"
	"hogs/internal/netlab"
)

const (
	startup = harness.MonitorStartup
	tail    = harness.Tail
	grace   = harness.Grace
	port    = "9000"

	addrA = "10.88.0.1" // vA, in nsA: monitor and sinks
	addrB = "10.88.0.2" // vB, in nsB: generators
)

var sinkAddr = addrA + ":" + port

// pairConfig makes the two namespaces of one monitor run.
var pairConfig = netlab.PairConfig{
	Prefix: "hogs-live", AddrA: addrA, AddrB: addrB, MACA: "02:88:00:00:00:01", MACB: "02:88:00:00:00:02",
	SysctlsB: []string{"net.ipv4.tcp_autocorking=0"}, LoopbackUp: true,
}

// scenario is one traffic pattern and the monitors that watch it.
type scenario struct {
	name     string
	traffic  traffic
	rate     int           // UDP datagrams per second; 0: as fast as possible
	size     int           // UDP payload bytes
	duration time.Duration // 0: -duration
	monitors []string      // nil: every monitor of -monitors
}

// traffic is a kind of traffic: the sink that receives it in nsA and the
// generator that sends it from nsB.
type traffic struct {
	sink, gen string
	// args are the generator's arguments after ADDR.
	args func(s scenario, d time.Duration) []string
	// expect says what vA should count.
	expect func(s scenario, d time.Duration) string
}

var (
	udpTraffic = func(sink string) traffic {
		return traffic{sink, "gen-udp",
			func(s scenario, d time.Duration) []string {
				return []string{strconv.Itoa(s.rate), d.String(), strconv.Itoa(s.size)}
			},
			func(s scenario, d time.Duration) string {
				if s.rate == 0 {
					return "rx = datagrams sent (one-way UDP), tx 0"
				}
				return fmt.Sprintf("rx ≈ %d × %v = %.0f (one-way UDP), tx 0", s.rate, d, float64(s.rate)*d.Seconds())
			}}
	}
	tcpTraffic = func(gen, expect string) traffic {
		return traffic{"sink-tcp", gen,
			func(_ scenario, d time.Duration) []string { return []string{d.String()} },
			func(scenario, time.Duration) string { return expect }}
	}
	udpConnected   = udpTraffic("sink-udp")
	udpUnconnected = udpTraffic("sink-udp-bound")
	tcpSmall       = tcpTraffic("gen-tcp-small", "rx ≈ writes if each write is its own segment, tx = ACKs")
	tcpBulk        = tcpTraffic("gen-tcp-bulk", "rx = GSO super-packets of up to 64 KiB, tx = ACKs")
)

var scenarios = []scenario{
	{name: "udp-10k", traffic: udpConnected, rate: 10_000, size: 64},
	{name: "udp-50k", traffic: udpConnected, rate: 50_000, size: 64},
	{name: "udp-max", traffic: udpConnected, rate: 0, size: 64},
	{name: "udp-50k-bound", traffic: udpUnconnected, rate: 50_000, size: 64},
	{name: "tcp-small", traffic: tcpSmall},
	{name: "tcp-bulk", traffic: tcpBulk},
}

func findScenario(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// monitor is a program under test.
type monitor struct {
	name    string
	program string // the binary the monitor's PID runs
	argv    []string
}

// options are the harness's flags.
type options struct {
	hogs, nethogs string
	duration      time.Duration
	scenarios     []string
	monitors      []string
	out           string
	cpuProfiles   string // directory for hogs CPU profiles, one per scenario
}

func main() {
	roles.RunIfAsked(roleLifetime)
	var o options
	var scen, mons string
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	harness.MonitorFlags(&o.hogs, &o.nethogs)
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "traffic per scenario")
	flag.StringVar(&scen, "scenarios", strings.Join(names, ","), "scenarios to run, comma-separated")
	flag.StringVar(&mons, "monitors", "hogs,nethogs", "monitors to run, comma-separated")
	flag.StringVar(&o.out, "out", "bench/live/results.md", "Markdown results file (empty: none)")
	flag.StringVar(&o.cpuProfiles, "cpuprofiles", "", "directory to write a CPU profile of hogs per scenario to (make pgo)")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "live: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	o.scenarios = strings.Split(scen, ",")
	o.monitors = strings.Split(mons, ",")
	harness.Main("live", 0, func(lab *netlab.Lab) error { return run(lab, o) })
}

// run1 is one entry of the plan: a scenario under one of its monitors.
type run1 struct {
	s scenario
	m monitor
}

func run(lab *netlab.Lab, o options) error {
	if o.duration <= 0 || o.duration > maxTraffic {
		return fmt.Errorf("-duration %v out of range (0, %v]", o.duration, maxTraffic)
	}
	self, hogs, err := harness.Preflight("bench-live", o.hogs)
	if err != nil {
		return err
	}
	nethogs, err := harness.FindNethogs(o.nethogs, "live")
	if err != nil {
		return err
	}
	monitors := map[string]monitor{
		"hogs":    {"hogs", hogs, []string{hogs, "-t", "-C", "-v", "2", "-d", "1", "-x"}},
		"nethogs": {"nethogs", nethogs, []string{nethogs, "-t", "-C", "-v", "2", "-d", "1"}},
	}
	var plan []run1
	for _, name := range o.scenarios {
		s, ok := findScenario(name)
		if !ok {
			return fmt.Errorf("unknown scenario %q", name)
		}
		if s.duration == 0 {
			s.duration = o.duration
		}
		for _, mn := range o.monitors {
			m, ok := monitors[mn]
			if !ok {
				return fmt.Errorf("unknown monitor %q (hogs, nethogs)", mn)
			}
			if s.monitors != nil && !slices.Contains(s.monitors, mn) {
				continue
			}
			if mn == "hogs" && o.cpuProfiles != "" {
				// env execs hogs: the PID started stays the monitor's.
				prefix := []string{"env", "HOGS_CPUPROFILE=" + filepath.Join(o.cpuProfiles, name+".pprof"), "HOGS_CPUPROFILE_HZ=1000"}
				m.argv = append(prefix, m.argv...)
			}
			plan = append(plan, run1{s, m})
		}
	}
	env := harness.DescribeEnv(hogs, nethogs)
	fmt.Fprintf(os.Stderr, "live: %s; %s; CLK_TCK %d (%s)\n", env.Kernel, env.CPU, env.CLK, env.CLKSource)

	start := time.Now()
	var results []*result
	for i, p := range plan {
		fmt.Fprintf(os.Stderr, "\n[%d/%d] %s × %s\n", i+1, len(plan), p.s.name, p.m.name)
		r := &result{scenario: p.s, monitor: p.m.name}
		r.err = r.run(lab, p.s, p.m, self, env.CLK)
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
	return harness.WriteResults("live", o.out, resultsDoc(env, o, results, table, took), took, errs)
}

// result is one monitor's run on one scenario.
type result struct {
	scenario scenario
	monitor  string
	ns       netlab.Pair
	pid      int
	err      error

	idle      netlab.Counters   // vA from after setup to the window's start: should be 0
	wire      netlab.Counters   // vA during the window
	ticks     uint64            // monitor utime+stime during the window
	tickMs    float64           // ticks in ms
	cpuMs     float64           // on-CPU time: sched's nanosecond sum where readable, else ticks
	sched     netlab.SchedStats // from /proc/PID/task/*/sched during the window
	schedOK   bool
	memStart  netlab.Memory // at the window's start
	memEnd    netlab.Memory
	genTook   time.Duration
	window    time.Duration // from the first CPU reading to the last
	genOut    string
	sinkOut   string
	killed    bool // the monitor needed SIGKILL
	stopTook  time.Duration
	monStatus string
	refreshes int
	last      trace.Block
	attrib    float64 // bytes in the last refresh
	ring      trace.XStats
	ringLines int // -x lines seen: one per refresh
	monStderr string
}

func (r *result) wirePackets() uint64 { return r.wire.Packets() }
func (r *result) wireBytes() uint64   { return r.wire.Bytes() }

func (r *result) nsPerPacket() float64 {
	if r.wirePackets() == 0 {
		return 0
	}
	return r.cpuMs * 1e6 / float64(r.wirePackets())
}

func (r *result) accuracy() float64 {
	if r.wireBytes() == 0 {
		return 0
	}
	return 100 * r.attrib / float64(r.wireBytes())
}

// run runs scenario s under monitor m in a fresh namespace pair.
func (r *result) run(lab *netlab.Lab, s scenario, m monitor, self string, clk uint64) error {
	p, err := lab.NewPair(pairConfig)
	if err != nil {
		return err
	}
	r.ns = p
	defer lab.RemovePair(p)
	base, err := netlab.DeviceCounters(p.A, "vA")
	if err != nil {
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
	windowStart := time.Now()
	ticks0, _, err := netlab.CPUTicks(r.pid)
	if err != nil {
		return err
	}
	sched0, schedErr := netlab.ReadSched(r.pid)
	if r.memStart, err = netlab.ReadMemory(r.pid); err != nil {
		return err
	}
	c0, err := netlab.DeviceCounters(p.A, "vA")
	if err != nil {
		return err
	}
	r.idle = c0.Sub(base)

	t := s.traffic
	sink, err := harness.Start(lab, t.sink, p.A, nil, self, t.sink, sinkAddr)
	if err != nil {
		return err
	}
	defer func() {
		sink.StopWithin(grace)
		r.sinkOut = strings.TrimSpace(sink.Out.Text() + sink.Err.Text())
	}()
	if _, err := sink.WaitLine("ready", 5*time.Second); err != nil {
		return err
	}
	genStart := time.Now()
	gen, err := harness.Start(lab, t.gen, p.B, nil, append([]string{self, t.gen, sinkAddr}, t.args(s, s.duration)...)...)
	if err != nil {
		return err
	}
	defer func() {
		gen.StopWithin(grace)
		r.genOut = strings.TrimSpace(gen.Out.Text() + gen.Err.Text())
	}()
	if !gen.Wait(s.duration + 30*time.Second) {
		return fmt.Errorf("%s still running %v after its %v", t.gen, s.duration+30*time.Second, s.duration)
	}
	r.genTook = time.Since(genStart)
	if gen.WaitErr != nil {
		return fmt.Errorf("%s: %v: %s", t.gen, gen.WaitErr, strings.TrimSpace(gen.Err.Text()))
	}
	time.Sleep(tail)

	c1, err := netlab.DeviceCounters(p.A, "vA")
	if err != nil {
		return err
	}
	r.wire = c1.Sub(c0)
	if mon.Exited() {
		return fmt.Errorf("%s died during the run (%v): %s", m.name, mon.WaitErr, strings.TrimSpace(mon.Err.Text()))
	}
	ticks1, _, err := netlab.CPUTicks(r.pid)
	r.window = time.Since(windowStart)
	if err != nil {
		return err
	}
	r.ticks = ticks1 - ticks0
	r.tickMs = float64(r.ticks) * 1000 / float64(clk)
	r.cpuMs = r.tickMs
	if sched1, err := netlab.ReadSched(r.pid); err == nil && schedErr == nil {
		r.sched, r.schedOK = sched1.Sub(sched0), true
		r.cpuMs = r.sched.Ms
	}
	if r.memEnd, err = netlab.ReadMemory(r.pid); err != nil {
		return err
	}
	r.killed, r.stopTook = mon.Stop(grace)

	r.refreshes = mon.Out.Refreshes()
	if r.killed && r.refreshes > 0 {
		r.refreshes-- // the last one may be cut short
	}
	if r.refreshes == 0 {
		return fmt.Errorf("%s printed no refresh", m.name)
	}
	if r.last, err = mon.Out.Block(r.refreshes-1, false); err != nil {
		return err
	}
	r.attrib = r.last.Total()
	xs, _ := mon.Err.AllX()
	if r.ringLines = len(xs); r.ringLines > 0 {
		r.ring = xs[len(xs)-1]
	} else if m.name == "hogs" {
		return fmt.Errorf("no -x line on hogs's stderr")
	}
	return nil
}

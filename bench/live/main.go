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
// Each sends for 10 s (-duration): udp-10k and udp-50k, 64-byte UDP
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
	"hogs/bench/internal/vethlab"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	startup = 2 * time.Second // monitor start-up, excluded from CPU
	tail    = 2 * time.Second // after the generator, before the last reading
	grace   = 3 * time.Second // SIGTERM to SIGKILL
	port    = "9000"
)

var sinkAddr = addrA + ":" + port

// scenario is one traffic pattern.
type scenario struct {
	name   string
	sink   string   // sink role
	gen    []string // generator role and its arguments after ADDR; "DUR" is replaced by -duration
	expect func(d time.Duration) string
}

var scenarios = []scenario{
	{"udp-10k", "sink-udp", []string{"gen-udp", "10000", "DUR", "64"}, udpExpect(10000)},
	{"udp-50k", "sink-udp", []string{"gen-udp", "50000", "DUR", "64"}, udpExpect(50000)},
	{"udp-max", "sink-udp", []string{"gen-udp", "0", "DUR", "64"}, func(time.Duration) string {
		return "rx = datagrams sent (one-way UDP), tx 0"
	}},
	{"udp-50k-bound", "sink-udp-bound", []string{"gen-udp", "50000", "DUR", "64"}, udpExpect(50000)},
	{"tcp-small", "sink-tcp", []string{"gen-tcp-small", "DUR"}, func(time.Duration) string {
		return "rx ≈ writes if each write is its own segment, tx = ACKs"
	}},
	{"tcp-bulk", "sink-tcp", []string{"gen-tcp-bulk", "DUR"}, func(time.Duration) string {
		return "rx = GSO super-packets of up to 64 KiB, tx = ACKs"
	}},
}

func udpExpect(rate int) func(time.Duration) string {
	return func(d time.Duration) string {
		return fmt.Sprintf("rx ≈ %d × %v = %.0f (one-way UDP), tx 0", rate, d, float64(rate)*d.Seconds())
	}
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
	if len(os.Args) > 1 {
		if _, ok := roles[os.Args[1]]; ok {
			runRole(os.Args[1], os.Args[2:])
		}
	}
	var o options
	var scen, mons string
	flag.StringVar(&o.hogs, "hogs", "./hogs", "hogs binary (make build)")
	flag.StringVar(&o.nethogs, "nethogs", "", "nethogs binary (default: from PATH or /usr/sbin; apt-get installs it if missing)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "traffic per scenario")
	flag.StringVar(&scen, "scenarios", "udp-10k,udp-50k,udp-max,udp-50k-bound,tcp-small,tcp-bulk", "scenarios to run, comma-separated")
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
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "live:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "\nlive: %v: killing the traffic and monitors, removing the namespaces\n", s)
		reg.Cleanup()
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
	defer reg.Cleanup()

	if o.duration <= 0 || o.duration > maxTraffic {
		return fmt.Errorf("-duration %v out of range (0, %v]", o.duration, maxTraffic)
	}
	self, hogs, err := vethlab.Preflight("bench-live", o.hogs)
	if err != nil {
		return err
	}
	nethogs, err := vethlab.FindNethogs(o.nethogs, "live")
	if err != nil {
		return err
	}
	monitors := map[string]monitor{
		"hogs":    {"hogs", hogs, []string{hogs, "-t", "-C", "-v", "2", "-d", "1", "-x"}},
		"nethogs": {"nethogs", nethogs, []string{nethogs, "-t", "-C", "-v", "2", "-d", "1"}},
	}
	var plan []struct {
		s scenario
		m monitor
	}
	for _, name := range o.scenarios {
		i := indexScenario(name)
		if i < 0 {
			return fmt.Errorf("unknown scenario %q", name)
		}
		for _, mn := range o.monitors {
			m, ok := monitors[mn]
			if !ok {
				return fmt.Errorf("unknown monitor %q (hogs, nethogs)", mn)
			}
			if mn == "hogs" && o.cpuProfiles != "" {
				// env execs hogs: the PID started stays the monitor's.
				prefix := []string{"env", "HOGS_CPUPROFILE=" + filepath.Join(o.cpuProfiles, name+".pprof"), "HOGS_CPUPROFILE_HZ=1000"}
				m.argv = append(prefix, m.argv...)
			}
			plan = append(plan, struct {
				s scenario
				m monitor
			}{scenarios[i], m})
		}
	}
	env := vethlab.DescribeEnv(hogs, nethogs)
	fmt.Fprintf(os.Stderr, "live: %s; %s; CLK_TCK %d (%s)\n", env.Kernel, env.CPU, env.CLK, env.CLKSource)

	start := time.Now()
	var results []*result
	for i, p := range plan {
		fmt.Fprintf(os.Stderr, "\n[%d/%d] %s × %s\n", i+1, len(plan), p.s.name, p.m.name)
		r := runOne(p.s, p.m, self, o.duration, env.CLK)
		r.print(os.Stderr, o.duration)
		results = append(results, r)
	}
	took := time.Since(start)

	table := markdownTable(results)
	fmt.Println(table)
	if o.out != "" {
		doc := resultsDoc(env, o, results, table, took)
		if err := os.WriteFile(o.out, []byte(doc), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "live: wrote %s (%v in all)\n", o.out, took.Round(time.Second))
	}
	for _, r := range results {
		if r.err != nil {
			return fmt.Errorf("%d of %d runs failed", countFailed(results), len(results))
		}
	}
	return nil
}

func indexScenario(name string) int {
	for i, s := range scenarios {
		if s.name == name {
			return i
		}
	}
	return -1
}

func countFailed(rs []*result) int {
	n := 0
	for _, r := range rs {
		if r.err != nil {
			n++
		}
	}
	return n
}

// result is one monitor's run on one scenario.
type result struct {
	scenario, monitor string
	ns                pair
	pid               int
	err               error

	idle      counters           // vA from after setup to the window's start: should be 0
	wire      counters           // vA during the window
	ticks     uint64             // monitor utime+stime during the window
	tickMs    float64            // ticks in ms
	cpuMs     float64            // on-CPU time: sched's nanosecond sum where readable, else ticks
	sched     vethlab.SchedStats // from /proc/PID/task/*/sched during the window
	schedOK   bool
	memStart  memory // at the window's start
	memEnd    memory
	genTook   time.Duration
	window    time.Duration // from the first CPU reading to the last
	genOut    string
	sinkOut   string
	killed    bool // the monitor needed SIGKILL
	stopTook  time.Duration
	monStatus string
	refreshes int
	last      block
	attrib    float64 // bytes in the last refresh
	ring      ringStats
	ringOK    bool
	monStderr string
}

func (r *result) wirePackets() uint64 { return r.wire.RxPackets + r.wire.TxPackets }
func (r *result) wireBytes() uint64   { return r.wire.RxBytes + r.wire.TxBytes }

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

// runOne runs scenario s under monitor m in a fresh namespace pair.
func runOne(s scenario, m monitor, self string, d time.Duration, clk uint64) *result {
	r := &result{scenario: s.name, monitor: m.name}
	r.err = r.run(s, m, self, d, clk)
	return r
}

func (r *result) run(s scenario, m monitor, self string, d time.Duration, clk uint64) error {
	p, err := newPair()
	if err != nil {
		return err
	}
	r.ns = p
	defer reg.RemovePair(p)
	base, err := vethlab.ReadCounters(p.A, "vA")
	if err != nil {
		return err
	}

	mon, err := startChild(m.name, p.A, m.argv...)
	if err != nil {
		return err
	}
	r.pid = mon.PID()
	defer func() {
		if !mon.Exited() {
			mon.Stop(grace)
		}
		r.monStatus = mon.Status()
		r.monStderr = mon.err.String()
	}()
	if mon.Wait(startup) {
		return fmt.Errorf("%s exited during start-up (%v): %s", m.name, mon.WaitErr, strings.TrimSpace(mon.err.String()))
	}
	windowStart := time.Now()
	ticks0, comm, err := vethlab.CPUTicks(r.pid)
	if err != nil {
		return err
	}
	if want := filepath.Base(m.program); !strings.HasPrefix(want, comm) {
		return fmt.Errorf("PID %d is %q, not %s: ip netns exec did not exec it?", r.pid, comm, want)
	}
	sched0, schedErr := vethlab.ReadSched(r.pid)
	if r.memStart, err = vethlab.ReadMemory(r.pid); err != nil {
		return err
	}
	c0, err := vethlab.ReadCounters(p.A, "vA")
	if err != nil {
		return err
	}
	r.idle = c0.Sub(base)

	sink, err := startChild(s.sink, p.A, self, s.sink, sinkAddr)
	if err != nil {
		return err
	}
	defer func() {
		if !sink.Exited() {
			sink.Stop(grace)
		}
		r.sinkOut = strings.TrimSpace(sink.out.String() + sink.err.String())
	}()
	if err := sink.waitLine("ready", 5*time.Second); err != nil {
		return err
	}
	genArgs := []string{self, s.gen[0], sinkAddr}
	for _, a := range s.gen[1:] {
		if a == "DUR" {
			a = d.String()
		}
		genArgs = append(genArgs, a)
	}
	genStart := time.Now()
	gen, err := startChild(s.gen[0], p.B, genArgs...)
	if err != nil {
		return err
	}
	defer func() {
		if !gen.Exited() {
			gen.Stop(grace)
		}
		r.genOut = strings.TrimSpace(gen.out.String() + gen.err.String())
	}()
	if !gen.Wait(d + 30*time.Second) {
		return fmt.Errorf("%s still running %v after its %v", s.gen[0], d+30*time.Second, d)
	}
	r.genTook = time.Since(genStart)
	if gen.WaitErr != nil {
		return fmt.Errorf("%s: %v: %s", s.gen[0], gen.WaitErr, strings.TrimSpace(gen.err.String()))
	}
	time.Sleep(tail)

	c1, err := vethlab.ReadCounters(p.A, "vA")
	if err != nil {
		return err
	}
	r.wire = c1.Sub(c0)
	if mon.Exited() {
		return fmt.Errorf("%s died during the run (%v): %s", m.name, mon.WaitErr, strings.TrimSpace(mon.err.String()))
	}
	ticks1, _, err := vethlab.CPUTicks(r.pid)
	r.window = time.Since(windowStart)
	if err != nil {
		return err
	}
	r.ticks = ticks1 - ticks0
	r.tickMs = float64(r.ticks) * 1000 / float64(clk)
	r.cpuMs = r.tickMs
	if sched1, err := vethlab.ReadSched(r.pid); err == nil && schedErr == nil {
		r.sched, r.schedOK = sched1.Sub(sched0), true
		r.cpuMs = r.sched.Ms
	}
	if r.memEnd, err = vethlab.ReadMemory(r.pid); err != nil {
		return err
	}
	r.killed, r.stopTook = mon.Stop(grace)

	blocks, err := parseTrace(mon.out.String())
	if err != nil {
		return err
	}
	if r.killed && len(blocks) > 0 {
		blocks = blocks[:len(blocks)-1] // the last one may be cut short
	}
	r.refreshes = len(blocks)
	if len(blocks) == 0 {
		return fmt.Errorf("%s printed no refresh", m.name)
	}
	r.last = blocks[len(blocks)-1]
	r.attrib = r.last.total()
	r.ring, r.ringOK = lastRingStats(mon.err.String())
	if m.name == "hogs" && !r.ringOK {
		return fmt.Errorf("no -x line on hogs's stderr")
	}
	return nil
}

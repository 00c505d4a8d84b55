// Command hogs shows which processes use the network, per process, live.
//
// This is the command-line front end: it parses the nethogs-compatible
// options, opens the packet sources and wires them to the decoder. With
// -r FILE --dump it replays a capture file and prints one line per frame in
// the reference-decode format.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"hogs/metrics"
	"hogs/ui"
)

// version is the release string printed by -V.
const version = "0.1.0"

// config is what the command line asked for.
type config struct {
	readFile string // -r: replay this capture file instead of capturing live
	dump     bool   // --dump: print one line per decoded frame
	help     bool
	version  bool

	trace     bool          // -t
	bugHunt   bool          // -x: diagnostics; implies -t
	promisc   bool          // -p
	sortSent  bool          // -s
	cmdline   bool          // -l
	all       bool          // -a
	basename  bool          // -b
	udp       bool          // -C
	delay     time.Duration // -d
	viewMode  int           // -v
	count     int           // -c: refreshes before exiting, 0 = forever
	gcEvery   int           // -g: accepted for nethogs compatibility
	filter    string        // -f
	onlyPIDs  []int         // -P
	devices   []string      // operands
	idleFlows time.Duration // --idle
	json      bool          // --json: one JSON object per refresh
	conns     bool          // --connections: per-connection records in JSON

	noDNS          bool   // -n: show addresses, no reverse DNS (table)
	noKernelEvents bool   // --no-kernel-events: attribute from /proc only
	listen         string // --listen ADDR: serve Prometheus metrics there
	headless       bool   // --headless: no table, no text; the metrics endpoint only
	metricsMax     int    // --metrics-max-series
	metricsGroup   string // --metrics-group
}

func main() {
	// HOGS_CPUPROFILE=FILE writes a CPU profile of the whole run (a
	// developer's aid for performance work, and what `make pgo` builds
	// cmd/hogs/default.pgo from; not in -h). HOGS_CPUPROFILE_HZ raises the
	// sampling rate from 100 a second: hogs uses little CPU, so 100 give
	// few samples (the runtime then warns once on stderr that the rate was
	// set already).
	if path := os.Getenv("HOGS_CPUPROFILE"); path != "" {
		if hz, err := strconv.Atoi(os.Getenv("HOGS_CPUPROFILE_HZ")); err == nil && hz > 0 {
			runtime.SetCPUProfileRate(hz)
		}
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			status := run(os.Args[1:], os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(status)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes hogs with args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args)
	if err != nil {
		fmt.Fprintf(stderr, "hogs: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Try 'hogs -h' for the list of options.\n")
		}
		return 1
	}
	switch {
	case cfg.help:
		fmt.Fprint(stdout, usageText)
		return 0
	case cfg.version:
		fmt.Fprintf(stdout, "hogs version %s\n", version)
		return 0
	case cfg.readFile != "" && cfg.dump:
		if err := dumpFile(cfg.readFile, stdout); err != nil {
			fmt.Fprintf(stderr, "hogs: %v\n", err)
			return 1
		}
		return 0
	case cfg.trace || cfg.json || cfg.headless:
		if err := runText(cfg, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "hogs: %v\n", err)
			return 1
		}
		return 0
	default:
		if err := interactive(cfg, stderr); err != nil {
			fmt.Fprintf(stderr, "hogs: %v\n", err)
			return 1
		}
		return 0
	}
}

func parseConfig(args []string) (config, error) {
	cfg := config{delay: time.Second, gcEvery: 50, idleFlows: 50 * time.Second}
	flag := func(p *bool) func(string) error { return func(string) error { *p = true; return nil } }
	intValue := func(name string, p *int, min, max int) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < min || n > max {
				return usagef("option %s: %q is not a whole number from %d to %d", name, v, min, max)
			}
			*p = n
			return nil
		}
	}
	opts := []option{
		{short: 'h', long: "help", set: flag(&cfg.help)},
		{short: 'V', long: "version", set: flag(&cfg.version)},
		{short: 'x', set: func(string) error { cfg.bugHunt, cfg.trace = true, true; return nil }},
		{short: 't', long: "trace", set: flag(&cfg.trace)},
		{short: 'p', long: "promiscuous", set: flag(&cfg.promisc)},
		{short: 's', set: flag(&cfg.sortSent)},
		{short: 'l', set: flag(&cfg.cmdline)},
		{short: 'a', long: "all", set: flag(&cfg.all)},
		{short: 'b', set: flag(&cfg.basename)},
		{short: 'C', long: "udp", set: flag(&cfg.udp)},
		{short: 'd', long: "delay", hasValue: true, set: func(v string) error {
			secs, err := strconv.ParseFloat(v, 64)
			if err != nil || !(secs > 0) || secs > 86400 {
				return usagef("option -d: %q is not a refresh interval; give seconds greater than 0, such as 1 or 0.5", v)
			}
			cfg.delay = time.Duration(secs * float64(time.Second))
			if cfg.delay < time.Millisecond {
				return usagef("option -d: %q is shorter than a millisecond", v)
			}
			return nil
		}},
		{short: 'v', long: "view", hasValue: true, set: intValue("-v", &cfg.viewMode, 0, ui.NethogsModes-1)},
		{short: 'c', long: "count", hasValue: true, set: intValue("-c", &cfg.count, 0, 1<<31-1)},
		{short: 'g', hasValue: true, set: intValue("-g", &cfg.gcEvery, 1, 1<<31-1)},
		{short: 'f', long: "filter", hasValue: true, set: func(v string) error { cfg.filter = v; return nil }},
		{short: 'P', long: "pid", hasValue: true, set: func(v string) error {
			pid, err := strconv.Atoi(v)
			if err != nil || pid <= 0 {
				return usagef("option -P: %q is not a process ID", v)
			}
			cfg.onlyPIDs = append(cfg.onlyPIDs, pid)
			return nil
		}},
		{short: 'r', long: "read", hasValue: true, set: func(v string) error {
			if v == "" {
				return usagef("option -r needs a capture file name")
			}
			cfg.readFile = v
			return nil
		}},
		{long: "dump", set: flag(&cfg.dump)},
		{long: "json", set: flag(&cfg.json)},
		{long: "connections", set: flag(&cfg.conns)},
		{short: 'n', long: "numeric", set: flag(&cfg.noDNS)},
		{long: "no-kernel-events", set: flag(&cfg.noKernelEvents)},
		{long: "listen", hasValue: true, set: func(v string) error { cfg.listen = v; return nil }},
		{long: "headless", set: flag(&cfg.headless)},
		{long: "metrics-max-series", hasValue: true, set: intValue("--metrics-max-series", &cfg.metricsMax, metrics.MinMaxSeries, 1<<20)},
		{long: "metrics-group", hasValue: true, set: func(v string) error {
			if _, err := metrics.ParseGroupBy(v); err != nil {
				return usagef("option --metrics-group: %v", err)
			}
			cfg.metricsGroup = v
			return nil
		}},
		{long: "idle", hasValue: true, set: func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return usagef("option --idle: %q is not a duration such as 50s or 5m", v)
			}
			cfg.idleFlows = d
			return nil
		}},
	}
	operands, err := parseArgs(args, opts)
	if err != nil {
		return config{}, err
	}
	cfg.devices = operands
	if len(operands) > 0 && cfg.readFile != "" {
		return config{}, usagef("devices (%q) cannot be combined with -r", operands[0])
	}
	if cfg.dump && cfg.readFile == "" {
		return config{}, usagef("--dump needs -r FILE")
	}
	if cfg.readFile != "" && !cfg.dump && !cfg.json {
		cfg.trace = true // a replay has no terminal to draw on: print its summary
	}
	if cfg.json && cfg.trace && !cfg.bugHunt && !cfg.dump && cfg.readFile == "" {
		return config{}, usagef("--json and -t are two output formats: pick one")
	}
	if cfg.conns && !cfg.json {
		return config{}, usagef("--connections needs --json")
	}
	if cfg.headless && cfg.listen == "" {
		return config{}, usagef("--headless needs --listen ADDR:PORT (it shows nothing else)")
	}
	if (cfg.metricsMax != 0 || cfg.metricsGroup != "") && cfg.listen == "" {
		return config{}, usagef("--metrics-max-series and --metrics-group need --listen")
	}
	if cfg.listen != "" && cfg.readFile != "" {
		return config{}, usagef("--listen serves a live capture; it cannot be combined with -r")
	}
	return cfg, nil
}

const usageText = `usage: hogs [-V] [-h] [-x] [-t] [-p] [-s] [-l] [-a] [-b] [-C] [-d seconds] [-v mode]
            [-c count] [-f filter] [-P pid]... [--json [--connections]] [device ...]
       hogs -r FILE [--dump | --json]

Without -t or --json, hogs shows a table; its keys: q quit, s/r sort by
sent/received, m next unit, l command line, b base name, arrows/PgUp/PgDn
move, Enter a process's connections, H remote hosts, Esc back, h help.

  -V, --version     print the version and exit
  -h, --help        print this help and exit
  -x                bug-hunt: diagnostics on stderr (capture path, drops); implies -t
  -t, --trace       trace mode: print every refresh as text instead of the table
  -p, --promiscuous put the monitored devices in promiscuous mode while running
  -s                sort by sent (default: by received)
  -l                show the command line after the program name
  -a, --all         also monitor loopback and devices that are down
  -b                show the program's base name (table)
  -n, --numeric     the table shows remote addresses, not their host names
                    (no reverse DNS lookups)
  -C, --udp         capture UDP as well as TCP
  -d, --delay SECS  refresh interval in seconds; fractions allowed (0.5); default 1
  -v, --view MODE   0 kB/s (default), 1 total kB, 2 total bytes, 3 total MB,
                    4 MB/s, 5 GB/s (1 kB = 1024 bytes)
  -c, --count N     quit after N refreshes (the first, immediate one counts)
  -g N              accepted for nethogs compatibility (hogs needs no cache GC)
  -f, --filter EXPR pcap-filter expression (tcpdump syntax) to limit the capture
  -P, --pid PID     attribute traffic only to this process (repeatable)
      --idle DUR    forget connections idle this long (default 50s); their
                    bytes stay in their process's totals
      --json        print one JSON object per refresh (NDJSON; schema in the README)
      --connections with --json: include every connection of every row
      --no-kernel-events  attribute from /proc and sock_diag only (no eBPF
                    socket events, which need CAP_BPF and CAP_PERFMON)
      --listen ADDR:PORT  serve Prometheus metrics on http://ADDR:PORT/metrics
                    (127.0.0.1:9464 this host only; :9464 every interface)
      --headless    with --listen: no table and no text output
      --metrics-max-series N  at most N groups with series of their own (default 500)
      --metrics-group LIST    group series by pid, process, program, user,
                    container (comma separated; default program,user,container)
  -r, --read FILE   replay a pcap or pcapng file through the pipeline
      --dump        with -r: print one line per frame:
                    frame family proto src sport dst dport iplen (tab separated)
  device ...        exact interface names; default: every device that is up,
                    not loopback. An unknown name is an error listing the devices.
`

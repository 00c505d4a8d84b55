package main

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"hogs/metrics"
	"hogs/ui"
)

// maxDelay is the longest refresh interval -d takes: one day.
const maxDelay = 86400

// maxCount bounds -c, -g and -P: what fits a C int, as nethogs takes them.
const maxCount = 1<<31 - 1

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
	bench     bool          // --bench: with -r, time decoding and the flow table

	noDNS          bool   // -n: show addresses, no reverse DNS (table)
	noKernelEvents bool   // --no-kernel-events: attribute from /proc only
	listen         string // --listen ADDR: serve Prometheus metrics there
	headless       bool   // --headless: no table, no text; the metrics endpoint only
	metricsMax     int    // --metrics-max-series
	metricsGroup   string // --metrics-group
	dockerRoot     string // --docker-root: Docker's data directory, for container names
}

func parseConfig(args []string) (config, error) {
	cfg := config{delay: time.Second, gcEvery: 50, idleFlows: 50 * time.Second}
	opts := options(&cfg)
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
	if cfg.bench && cfg.readFile == "" {
		return config{}, usagef("--bench needs -r FILE")
	}
	if cfg.dump && cfg.json {
		return config{}, usagef("--dump and --json are two output formats: pick one")
	}
	if cfg.bench && (cfg.dump || cfg.json) {
		return config{}, usagef("--bench prints its own report: drop --dump and --json")
	}
	if cfg.readFile != "" && !cfg.dump && !cfg.json && !cfg.bench {
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
       hogs -r FILE [--dump | --json | --bench]

Without -t or --json, hogs shows a table; its keys: q quit, s/r sort by
sent/received, m next unit, l command line, b base name,
` + usageGroupKey + `arrows/PgUp/PgDn move, Enter a process's connections, H remote hosts,
Esc back, h help.

  -V, --version     print the version and the commit it was built from, and exit
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
  -d, --delay SECS  refresh interval in seconds, at most 86400; fractions allowed
                    (0.5); default 1
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
      --docker-root DIR  Docker's data directory, where container names are read
                    (containers/ID/config.v2.json; default /var/lib/docker)
  -r, --read FILE   replay a pcap or pcapng file through the pipeline
      --dump        with -r: print one line per frame:
                    frame family proto src sport dst dport iplen (tab separated)
      --bench       with -r: time decoding, and decoding + the flow table, on
                    the file's frames: ns/packet and packets/s, min/median/max
  device ...        exact interface names; default: every device that is up,
                    not loopback. An unknown name is an error listing the devices.
`

// options are the command-line options, setting fields of cfg. The man
// page and the shell completions are checked against this list.
func options(cfg *config) []option {
	flag := func(p *bool) func(string) error { return func(string) error { *p = true; return nil } }
	intValue := func(name string, p *int, min, max int) func(string) error {
		return func(v string) error {
			n, ok := wholeNumber(v, max)
			if !ok || n < min {
				return usagef("option %s: %q is not a whole number from %d to %d", name, v, min, max)
			}
			*p = n
			return nil
		}
	}
	return []option{
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
			secs, ok := decimalNumber(v)
			switch {
			case !ok || secs == 0:
				return usagef("option -d: %q is not a refresh interval; give seconds greater than 0, such as 1 or 0.5", v)
			case secs > maxDelay:
				return usagef("option -d: %q is more than the maximum, %d seconds (one day)", v, maxDelay)
			}
			cfg.delay = time.Duration(secs * float64(time.Second))
			if cfg.delay < time.Millisecond {
				return usagef("option -d: %q is shorter than a millisecond", v)
			}
			return nil
		}},
		{short: 'v', long: "view", hasValue: true, set: intValue("-v", &cfg.viewMode, 0, ui.NethogsModes-1)},
		{short: 'c', long: "count", hasValue: true, set: intValue("-c", &cfg.count, 0, maxCount)},
		{short: 'g', hasValue: true, set: intValue("-g", &cfg.gcEvery, 1, maxCount)},
		{short: 'f', long: "filter", hasValue: true, set: func(v string) error { cfg.filter = v; return nil }},
		{short: 'P', long: "pid", hasValue: true, set: func(v string) error {
			pid, ok := wholeNumber(v, maxCount)
			if !ok || pid <= 0 {
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
		{long: "bench", set: flag(&cfg.bench)},
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
		{long: "docker-root", hasValue: true, set: func(v string) error {
			if v == "" {
				return usagef("option --docker-root needs a directory, such as /var/lib/docker")
			}
			cfg.dockerRoot = v
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
}

// decimalNumber reads a number as people type it: digits, optionally a
// point and more digits ("5", "0.5", ".5", "5."). Signs, exponents, digit
// separators ("1_0"), hexadecimal, "inf" and "nan" are not numbers here,
// though strconv would take some of them. -d and, through wholeNumber, the
// counts share it so that they refuse the same things.
func decimalNumber(s string) (float64, bool) {
	digits, points := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return 0, false
		}
	}
	if digits == 0 || points > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil || errors.Is(err, strconv.ErrRange)
}

// wholeNumber reads a decimalNumber without a point, at most max.
func wholeNumber(s string, max int) (int, bool) {
	f, ok := decimalNumber(s)
	if !ok || strings.Contains(s, ".") || f > float64(max) {
		return 0, false
	}
	return int(f), true
}

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
)

// version is the release string printed by -V.
const version = "0.1.0"

// config is what the command line asked for.
type config struct {
	readFile string // -r: replay this capture file instead of capturing live
	dump     bool   // --dump: print one line per decoded frame
	help     bool
	version  bool
}

func main() {
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
	case cfg.readFile != "":
		fmt.Fprintf(stderr, "hogs: replaying %s through the connection table is not available yet; add --dump to print its frames\n", cfg.readFile)
		return 1
	default:
		fmt.Fprintf(stderr, "hogs: live capture is not available yet; use -r FILE --dump\n")
		return 1
	}
}

func parseConfig(args []string) (config, error) {
	var cfg config
	opts := []option{
		{short: 'h', long: "help", set: func(string) error { cfg.help = true; return nil }},
		{short: 'V', long: "version", set: func(string) error { cfg.version = true; return nil }},
		{short: 'r', long: "read", hasValue: true, set: func(v string) error {
			if v == "" {
				return usagef("option -r needs a capture file name")
			}
			cfg.readFile = v
			return nil
		}},
		{long: "dump", set: func(string) error { cfg.dump = true; return nil }},
	}
	operands, err := parseArgs(args, opts)
	if err != nil {
		return config{}, err
	}
	if len(operands) > 0 && cfg.readFile != "" {
		return config{}, usagef("devices (%q) cannot be combined with -r", operands[0])
	}
	if cfg.dump && cfg.readFile == "" {
		return config{}, usagef("--dump needs -r FILE")
	}
	return cfg, nil
}

const usageText = `usage: hogs [-V] [-h] [-r FILE [--dump]]

  -V, --version     print the version and exit
  -h, --help        print this help and exit
  -r, --read FILE   replay a pcap or pcapng capture file instead of capturing live
      --dump        with -r: print one line per frame:
                    frame family proto src sport dst dport iplen (tab separated)
`

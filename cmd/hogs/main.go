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
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"unicode/utf8"

	"hogs/ui"
)

// version is the release string printed by -V.
const version = "0.1.0"

// buildCommit and buildModified are set by the Makefile with -ldflags -X
// (git rev-parse HEAD; "true" when git status showed changes): the go
// command stamps the commit itself only in a checkout whose .git is a
// directory, not in a git worktree.
var buildCommit, buildModified string

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
		printError(stderr, err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Try 'hogs -h' for the list of options.\n")
		}
		return 1
	}
	switch {
	case cfg.help:
		err = writeAll(stdout, usageText, "the help")
	case cfg.version:
		err = writeAll(stdout, versionLine(buildStamp(), buildCommit, buildModified == "true"), "the version")
	case cfg.readFile != "" && cfg.dump:
		err = dumpFile(cfg.readFile, stdout)
	case cfg.bench:
		err = benchFile(cfg, stdout)
	case cfg.trace || cfg.json || cfg.headless:
		err = runText(cfg, stdout, stderr)
	default:
		err = interactive(cfg, stderr)
	}
	if err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

// printError prints err as one line. Device and file names in it come
// from outside, so control characters and invalid UTF-8 are made visible
// as escapes; backslashes are left alone, so that parts already quoted
// (%q) read the same.
func printError(stderr io.Writer, err error) {
	fmt.Fprintf(stderr, "hogs: %s\n", visible(err.Error()))
}

// visible is ui.Sanitized except that it keeps backslashes as they are.
func visible(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		if s[i] == '\\' {
			b = append(b, '\\')
		} else {
			b = ui.AppendSanitized(b, s[i:i+size])
		}
		i += size
	}
	return string(b)
}

// writeAll writes text to w; a failed write (a closed pipe, a full disk:
// `hogs -h > /dev/full`) is an error naming what was being written.
func writeAll(w io.Writer, text, what string) error {
	if _, err := io.WriteString(w, text); err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	return nil
}

// buildStamp returns the binary's build information, nil when it has none.
func buildStamp() *debug.BuildInfo {
	info, _ := debug.ReadBuildInfo()
	return info
}

// versionLine is -V's output: the release and the commit the binary was
// built from. The go command's own stamp (vcs.revision, and vcs.modified
// when the tree had uncommitted changes) comes first, then the commit the
// Makefile passed; "unknown" when there is neither (go run, a build outside
// a checkout, -buildvcs=false).
func versionLine(info *debug.BuildInfo, ldCommit string, ldModified bool) string {
	commit, modified := ldCommit, ldModified
	if info != nil {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				commit, modified = s.Value, false
				for _, m := range info.Settings {
					modified = modified || (m.Key == "vcs.modified" && m.Value == "true")
				}
			}
		}
	}
	if commit == "" {
		commit, modified = "unknown", false
	}
	line := "hogs version " + version + ", commit " + commit
	if modified {
		line += " with uncommitted changes"
	}
	return line + "\n"
}

// Command ratio reads `go test -bench` output whose benchmarks are named
// .../frame=NAME/impl=IMPL and prints, per frame, the median ns/pkt (ns/op
// where a benchmark reports no ns/pkt) of each implementation and how many
// times faster hogs is than each peer. benchstat
// gives the confidence intervals; this gives the headline ratio.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := report(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ratio:", err)
		os.Exit(1)
	}
}

func report(in io.Reader, out io.Writer) error {
	samples := map[string]map[string][]float64{} // frame -> impl -> ns/pkt or ns/op
	var frames []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		frame, impl := keyOf(fields[0], "frame="), keyOf(fields[0], "impl=")
		if frame == "" || impl == "" {
			continue
		}
		unit := "ns/op"
		if slices.Contains(fields, "ns/pkt") {
			unit = "ns/pkt"
		}
		for i := 2; i+1 < len(fields); i += 2 {
			if fields[i+1] != unit {
				continue
			}
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return fmt.Errorf("bad %s %q in %q", unit, fields[i], sc.Text())
			}
			if samples[frame] == nil {
				samples[frame] = map[string][]float64{}
				frames = append(frames, frame)
			}
			samples[frame][impl] = append(samples[frame][impl], v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(frames) == 0 {
		return fmt.Errorf("no frame=/impl= benchmarks in the input")
	}
	fmt.Fprintf(out, "%-20s %12s %12s %10s\n", "frame", "hogs ns/pkt", "peer ns/pkt", "speed-up")
	for _, frame := range frames {
		hogs, ok := median(samples[frame]["hogs"])
		if !ok {
			continue
		}
		for impl, vs := range samples[frame] {
			if impl == "hogs" {
				continue
			}
			peer, _ := median(vs)
			fmt.Fprintf(out, "%-20s %12.2f %12.2f %9.1fx  (vs %s, n=%d)\n", frame, hogs, peer, peer/hogs, impl, len(vs))
		}
	}
	return nil
}

// keyOf returns the value of a key=value element of a benchmark name, after
// dropping the -GOMAXPROCS suffix go test appends.
func keyOf(name, key string) string {
	if i := strings.LastIndexByte(name, '-'); i >= 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	for _, part := range strings.Split(name, "/") {
		if v, ok := strings.CutPrefix(part, key); ok {
			return v
		}
	}
	return ""
}

func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

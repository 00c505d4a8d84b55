//go:build linux

package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"hogs/bench/internal/harness"
)

// print writes the raw details of a run.
func (r *result) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, "  "+format+"\n", args...) }
	p("namespaces %s / %s, %s PID %d", r.ns.A, r.ns.B, r.monitor, r.pid)
	if r.genOut != "" {
		p("generator: %s (process ran %v)", harness.OneLine(r.genOut), r.genTook.Round(time.Millisecond))
	}
	if r.sinkOut != "" {
		p("sink: %s", harness.OneLine(r.sinkOut))
	}
	p("expected on vA: %s", r.scenario.traffic.expect(r.scenario, r.scenario.duration))
	p("idle on vA before the window: %d rx + %d tx packets", r.idle.RxPackets, r.idle.TxPackets)
	avg := 0.0
	if r.wirePackets() > 0 {
		avg = float64(r.wireBytes()) / float64(r.wirePackets())
	}
	p("wire on vA: rx %d packets / %d bytes, tx %d packets / %d bytes (%.0f bytes/packet)",
		r.wire.RxPackets, r.wire.RxBytes, r.wire.TxPackets, r.wire.TxBytes, avg)
	source := "clock ticks (/proc/PID/task/*/sched unreadable)"
	if r.schedOK {
		source = "/proc/PID/task/*/sched"
	}
	p("CPU: %.1f ms over the window from %s, %.0f ns per wire packet", r.cpuMs, source, r.nsPerPacket())
	p("CPU cross-check, /proc/PID/stat: %d ticks = %.0f ms", r.ticks, r.tickMs)
	if r.schedOK {
		p("context switches: %d voluntary + %d involuntary (%.0f/s)", r.sched.Voluntary, r.sched.Involuntary,
			float64(r.sched.Voluntary+r.sched.Involuntary)/r.window.Seconds())
	}
	p("memory: VmRSS %.1f MiB at the window's start, %.1f MiB at the end; VmHWM %.1f MiB",
		harness.MiB(r.memStart.RSS), harness.MiB(r.memEnd.RSS), harness.MiB(r.memEnd.HWM))
	how := "SIGTERM"
	if r.killed {
		how = "SIGTERM, then SIGKILL"
	}
	p("stopped with %s in %v: %s", how, r.stopTook.Round(time.Millisecond), r.monStatus)
	p("refreshes: %d; the last has %d rows, %.0f bytes = %.4f%% of the wire bytes", r.refreshes, len(r.last.Rows), r.attrib, r.accuracy())
	for _, row := range r.last.Rows {
		p("    %s\tsent %.0f\trecv %.0f", row.Name, row.Sent, row.Recv)
	}
	if r.ringLines > 0 {
		p("hogs -x (last of %d): %s", r.ringLines, r.ring.Line)
		p("capture socket: %d packets + %d dropped vs %d on vA since the monitor started",
			r.ring.Packets, r.ring.Dropped, r.wirePackets()+r.idle.RxPackets+r.idle.TxPackets)
	} else if s := strings.TrimSpace(r.monStderr); s != "" {
		p("%s stderr: %s", r.monitor, harness.OneLine(harness.FirstLines(s, 5)))
	}
	if r.err != nil {
		p("ERROR: %v", r.err)
	}
}

// ratio is hogs's CPU per packet over nethogs's for r's scenario.
func ratio(rs []*result, r *result) string {
	var h, n *result
	for _, x := range rs {
		if x.scenario.name != r.scenario.name || x.err != nil {
			continue
		}
		switch x.monitor {
		case "hogs":
			h = x
		case "nethogs":
			n = x
		}
	}
	if h == nil || n == nil || n.nsPerPacket() == 0 || h.wirePackets() == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", h.nsPerPacket()/n.nsPerPacket())
}

// markdownTable is one row per scenario and monitor.
func markdownTable(rs []*result) string {
	var b strings.Builder
	b.WriteString("| Scenario | Monitor | Wire pkts | CPU ms | CPU ns/pkt | VmHWM MiB | RSS end MiB | Dropped | Accuracy % | Missing % | CPU/pkt hogs/nethogs |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rs {
		if r.err != nil {
			msg := strings.ReplaceAll(harness.OneLine(r.err.Error()), "|", "/")
			if len(msg) > 120 {
				msg = msg[:120] + "…"
			}
			fmt.Fprintf(&b, "| %s | %s | failed: %s | | | | | | | | |\n", r.scenario.name, r.monitor, msg)
			continue
		}
		dropped := "n/a"
		if r.ringLines > 0 {
			dropped = fmt.Sprint(r.ring.Dropped)
		}
		rat := ""
		if r.monitor == "hogs" {
			rat = ratio(rs, r)
		}
		acc := r.accuracy()
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %.0f | %.1f | %.1f | %s | %.3f | %.3f | %s |\n",
			r.scenario.name, r.monitor, r.wirePackets(), r.cpuMs, r.nsPerPacket(),
			harness.MiB(r.memEnd.HWM), harness.MiB(r.memEnd.RSS), dropped, acc, math.Max(0, 100-acc), rat)
	}
	return b.String()
}

// observations lists what looks odd in the runs.
func observations(rs []*result) []string {
	var notes []string
	for _, r := range rs {
		who := r.scenario.name + " × " + r.monitor
		if r.err != nil {
			notes = append(notes, fmt.Sprintf("%s failed: %v", who, harness.OneLine(r.err.Error())))
			continue
		}
		if r.killed {
			notes = append(notes, fmt.Sprintf("%s did not exit within %v of SIGTERM: killed", who, grace))
		}
		if n := r.idle.RxPackets + r.idle.TxPackets; n != 0 {
			notes = append(notes, fmt.Sprintf("%s: %d packets on vA before the window (the link was not quiet)", who, n))
		}
		if acc := r.accuracy(); acc > 100.01 {
			notes = append(notes, fmt.Sprintf("%s counted more than the wire: %.4f%%", who, acc))
		} else if acc < 99.9 {
			notes = append(notes, fmt.Sprintf("%s missed %.3f%% of the wire bytes", who, 100-acc))
		}
		if r.schedOK && math.Abs(r.sched.Ms-r.tickMs) > math.Max(10, 0.2*r.sched.Ms) {
			notes = append(notes, fmt.Sprintf("%s: CPU %.0f ms in clock ticks but %.1f ms in /proc/PID/task/*/sched: too few ticks to be precise", who, r.tickMs, r.sched.Ms))
		}
		if r.ringLines > 0 && r.ring.Dropped > 0 {
			notes = append(notes, fmt.Sprintf("%s: the kernel dropped %d packets on hogs's socket", who, r.ring.Dropped))
		}
		if r.memStart.RSS > 0 && r.memEnd.RSS > 2*r.memStart.RSS && r.memEnd.RSS-r.memStart.RSS > 8<<10 {
			notes = append(notes, fmt.Sprintf("%s: VmRSS grew from %.1f to %.1f MiB during the window", who, harness.MiB(r.memStart.RSS), harness.MiB(r.memEnd.RSS)))
		}
	}
	return notes
}

// resultsDoc is bench/live/results.md.
func resultsDoc(e harness.Env, o options, rs []*result, table string, took time.Duration) string {
	var b strings.Builder
	e.ResultsHeader(&b, "hogs vs nethogs on live traffic", "bench-live", "./bench/live", took)
	fmt.Fprintf(&b, "- Monitors, each alone in a fresh namespace pair: `hogs -t -C -v 2 -d 1 -x`, `nethogs -t -C -v 2 -d 1`\n")
	fmt.Fprintf(&b, "- Traffic: %v per scenario over a veth pair; window = sink start to generator end + %v\n", o.duration, tail)
	fmt.Fprintf(&b, "- CPU: se.sum_exec_runtime over the monitor's threads (/proc/PID/task/*/sched), ns resolution; cross-checked in the details with /proc/PID/stat ticks of %.0f ms (CLK_TCK %d, %s)\n",
		1000/float64(e.CLK), e.CLK, e.CLKSource)
	b.WriteString("\n")
	b.WriteString(table)
	b.WriteString("\nWire pkts: rx+tx packets on the monitor's veth during the window. Dropped: hogs -x's count of packets the kernel dropped on its capture socket (nethogs reports none). Accuracy: bytes in the monitor's last refresh (sum of SENT+RECEIVED over all rows) / rx+tx bytes on the veth; missing = 100 - accuracy. Rows carry 6 significant digits: ~1e-5 noise. How and caveats: the package documentation, bench/live/main.go.\n")
	if notes := observations(rs); len(notes) > 0 {
		b.WriteString("\nObserved in this run:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

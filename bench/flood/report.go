//go:build linux

package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"hogs/bench/internal/harness"
)

func (r *result) nsPerPacket() float64 { return r.perPacket(r.cpuMs) }

// perPacket is ms of CPU in ns per wire packet.
func (r *result) perPacket(ms float64) float64 {
	if r.wire.Packets() == 0 {
		return 0
	}
	return ms * 1e6 / float64(r.wire.Packets())
}

// pct is a over b in %, "–" when b is 0.
func pct(a float64, b uint64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", 100*a/float64(b))
}

func (r *result) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, "  "+format+"\n", args...) }
	p("namespaces %s / %s, %s PID %d", r.ns.A, r.ns.B, r.monitor, r.pid)
	if r.genOut != "" {
		p("generator: %s (ran %v)", harness.OneLine(r.genOut), r.genTook.Round(time.Millisecond))
	}
	p("download client PID %d: %s", r.clientPID, r.clientOut)
	p("wire on vA: rx %d packets / %d bytes, tx %d packets / %d bytes", r.wire.RxPackets, r.wire.RxBytes, r.wire.TxPackets, r.wire.TxBytes)
	p("CPU: %.1f ms, %.0f ns per wire packet; /proc/PID/stat: user %.0f ms (%.0f ns/pkt), system %.0f ms (%.0f ns/pkt)",
		r.cpuMs, r.nsPerPacket(), r.userMs, r.perPacket(r.userMs), r.sysMs, r.perPacket(r.sysMs))
	p("refreshes: %d while the generator ran (%d whole seconds), %d in all", r.onTime, r.expected, r.refreshes)
	p("memory: VmHWM %.1f MiB, VmRSS %.1f MiB at the end", harness.MiB(r.memEnd.HWM), harness.MiB(r.memEnd.RSS))
	if r.wireCount.ok {
		p("download on the wire: sent %d packets / %d bytes, received %d packets / %d bytes (%d dropped by the counter)",
			r.wireCount.sentPackets, r.wireCount.sentBytes, r.wireCount.recvPackets, r.wireCount.recvBytes, r.wireCount.dropped)
	}
	p("download row in the last refresh: %v, sent %.0f, received %.0f", r.downloadRow, r.rowSent, r.rowRecv)
	if r.xOK {
		p("hogs -x (last): %s", r.x.Line)
	} else if s := strings.TrimSpace(r.monStderr); s != "" {
		p("%s stderr: %s", r.monitor, harness.OneLine(harness.FirstLines(s, 5)))
	}
	p("stopped: %s", r.monStatus)
	for _, n := range r.notes {
		p("note: %s", n)
	}
	if r.err != nil {
		p("ERROR: %v", r.err)
	}
}

func markdownTable(rs []*result) string {
	var b strings.Builder
	b.WriteString("| Scenario | Monitor | Wire pkts | CPU ms | CPU ns/pkt | user / system ns/pkt | Refreshes on time | VmHWM MiB | Download row | Download received % of wire | Download sent % of wire | Dropped |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|\n")
	for _, r := range rs {
		if r.err != nil {
			msg := strings.ReplaceAll(harness.OneLine(r.err.Error()), "|", "/")
			fmt.Fprintf(&b, "| %s | %s | failed: %.120s | | | | | | | | | |\n", r.scenario, r.monitor, msg)
			continue
		}
		row, recv, sent := "absent", "–", "–"
		if r.downloadRow {
			row = "present"
		}
		if r.wireCount.ok {
			recv, sent = pct(r.rowRecv, r.wireCount.recvBytes), pct(r.rowSent, r.wireCount.sentBytes)
		}
		dropped := "n/a"
		if r.xOK {
			dropped = fmt.Sprint(r.x.Dropped)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %.0f | %.0f / %.0f | %d / %d | %.1f | %s | %s | %s | %s |\n",
			r.scenario, r.monitor, r.wire.Packets(), r.cpuMs, r.nsPerPacket(), r.perPacket(r.userMs), r.perPacket(r.sysMs), r.onTime, r.expected,
			harness.MiB(r.memEnd.HWM), row, recv, sent, dropped)
	}
	return b.String()
}

func resultsDoc(e harness.Env, o options, rs []*result, table string, took time.Duration) string {
	var b strings.Builder
	e.ResultsHeader(&b, "hogs vs nethogs under a random-tuple flood", "bench-flood", "./bench/flood", took)
	fmt.Fprintf(&b, "- Monitors, each alone in a fresh namespace pair, on the flooded device: `hogs -t -C -v 2 -d 1 -x vA`, `nethogs -t -C -v 2 -d 1 vA`\n")
	fmt.Fprintf(&b, "- Flood: %v of TCP SYNs then %v of UDP datagrams, every frame a new 5-tuple; flood-50k at 50,000 frames/s, flood-max as fast as the generator can\n", o.phase, o.phase)
	fmt.Fprintf(&b, "- Download: %d bytes over TCP spread over %v, fetched by a process in the monitored namespace\n\n", o.downloadSize, o.downloadTime)
	b.WriteString(table)
	b.WriteString("\nWire pkts: rx+tx on vA over the window (generator start to end + 2 s). CPU: se.sum_exec_runtime over the monitor's threads; user / system: its utime and stime (/proc/PID/stat, counted in clock ticks by sampling: their sum differs from CPU by up to a few ticks). Refreshes on time: refreshes that arrived while the generator ran / the whole seconds it ran. Download row: the download client's PID in the last refresh; its bytes over the download's frames per direction counted on vA by a filtered packet socket. Dropped: hogs -x's kernel drop count (nethogs reports none). Method and caveats: bench/flood/main.go.\n")
	var notes []string
	for _, r := range rs {
		for _, n := range r.notes {
			notes = append(notes, r.scenario+" × "+r.monitor+": "+n)
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nObserved in this run:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

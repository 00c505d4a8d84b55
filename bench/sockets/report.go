//go:build linux

package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"hogs/bench/internal/harness"
	"hogs/internal/netlab"
)

func secs(d time.Duration) float64 { return d.Seconds() }

// Derived figures. All need r.done.

func (r *result) idleRefreshes() int { return r.s3.ref - r.s2.ref }
func (r *result) idleLen() float64   { return secs(r.s3.t.Sub(r.s2.t)) }
func (r *result) newLen() float64    { return secs(r.s4.t.Sub(r.s3.t)) }
func (r *result) idleCPU() float64   { return r.s3.sched.Ms - r.s2.sched.Ms }
func (r *result) newCPU() float64    { return r.s4.sched.Ms - r.s3.sched.Ms }
func (r *result) schedOK() bool {
	return r.s2.schedErr == nil && r.s3.schedErr == nil && r.s4.schedErr == nil
}
func (r *result) ticksMs(a, b snap) float64 {
	return float64(b.ticks-a.ticks) * 1000 / float64(r.clk)
}

// cpuPerRefresh is phase 2's CPU ms per refresh.
func (r *result) cpuPerRefresh() float64 {
	if r.idleRefreshes() <= 0 {
		return math.NaN()
	}
	return r.idleCPU() / float64(r.idleRefreshes())
}

// idleRate is phase 2's CPU ms per second.
func (r *result) idleRate() float64 { return r.idleCPU() / r.idleLen() }

// newExcess is phase 3's CPU beyond phase 2's rate, in ms.
func (r *result) newExcess() float64 { return r.newCPU() - r.idleRate()*r.newLen() }

func (r *result) cpuPerConn() float64 {
	if r.made == 0 {
		return math.NaN()
	}
	return r.newExcess() / float64(r.made)
}

// gaps is the mean and longest interval between refreshes i..j.
func (r *result) gaps(i, j int) (mean, longest float64) {
	if j <= i || j >= len(r.refTime) {
		return math.NaN(), math.NaN()
	}
	for k := i + 1; k <= j; k++ {
		longest = math.Max(longest, secs(r.refTime[k].Sub(r.refTime[k-1])))
	}
	return secs(r.refTime[j].Sub(r.refTime[i])) / float64(j-i), longest
}

// wire is vA's traffic from just before the monitor started to the end.
func (r *result) wire() netlab.Counters { return r.s5.wire.Sub(r.s0) }
func (r *result) attributed() float64   { return r.final.Total() }

func (r *result) accuracy() float64 {
	w := r.wire().Bytes()
	if w == 0 {
		return math.NaN()
	}
	return 100 * r.attributed() / float64(w)
}

func (r *result) unknownBytes() float64 { return r.final.UnknownBytes() }

// newRowBytes is the bytes on the rows of the new-connections clients.
func (r *result) newRowBytes() float64 {
	var b float64
	for pid := range r.newPIDs {
		b += r.final.BytesOf(pid)
	}
	return b
}

// procsOwned is the bytes phase 5's client processes have on their own
// rows (by PID) in the refresh that ended it.
func (r *result) procsOwned() float64 {
	var b float64
	for _, row := range r.procsFinal.Rows {
		if row.PID != 0 && r.procPIDs[row.PID] {
			b += row.Sent + row.Recv
		}
	}
	return b
}

// procsShare is procsOwned over vA's bytes in phase 5, in %.
func (r *result) procsShare() float64 {
	w := r.procsWire.Bytes()
	if w == 0 {
		return math.NaN()
	}
	return 100 * r.procsOwned() / float64(w)
}

// svcRow is the trace name of the service's row (-service): the row of
// hogs's cgroup fallback, PID 0.
func (r *result) svcRow() string { return r.svc.Unit + "/0/0" }

// newShares is where phase 3's new connections' bytes are in the last
// refresh before phase 5 (-service), in % of their sum: on the client's
// row, on the service's row, in unknown.
func (r *result) newShares() (proc, svc, unknown float64) {
	p, sv, u := r.newRowBytes(), r.final.NamedBytes(r.svcRow()), r.final.UnknownBytes()
	t := p + sv + u
	if t == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	return 100 * p / t, 100 * sv / t, 100 * u / t
}

// procsShares is where phase 5's client processes' bytes are (-service),
// in % of vA's bytes over phase 5: on their own rows, on the service's
// row, in unknown (the last two: what phase 5 added).
func (r *result) procsShares() (proc, svc, unknown float64) {
	w := r.procsWire.Bytes()
	if w == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	sv := r.procsFinal.NamedBytes(r.svcRow()) - r.final.NamedBytes(r.svcRow())
	u := r.procsFinal.UnknownBytes() - r.final.UnknownBytes()
	return 100 * r.procsOwned() / float64(w), 100 * sv / float64(w), 100 * u / float64(w)
}

// connCount classifies the client's connections in the last JSON refresh.
type connCount struct {
	attributed, service, unknown, other, missing int
	bytes                                        float64 // of those found anywhere
}

func (r *result) conns() connCount {
	var c connCount
	seen := map[string]bool{}
	for _, k := range r.final.Conns {
		// By the client's address, at whichever end the monitor put it
		// (one that does not know the container's namespace may take the
		// server's end for the local one).
		local := k.Local
		if !r.newLocals[local] {
			local = k.Remote
		}
		if !r.newLocals[local] || seen[local] {
			continue
		}
		seen[local] = true
		c.bytes += k.Bytes
		switch {
		case r.newPIDs[k.PID]:
			c.attributed++
		case r.svc != nil && k.Row == r.svcRow():
			c.service++
		case k.PID == 0:
			c.unknown++
		default:
			c.other++
		}
	}
	c.missing = len(r.newLocals) - len(seen)
	return c
}

// bytesPerConn is the mean wire bytes of one new connection as a hogs
// --json run counted them (NaN if none ran).
func bytesPerConn(rs []*result) float64 {
	for _, r := range rs {
		if r.done && r.json {
			c := r.conns()
			if n := c.attributed + c.service + c.unknown + c.other; n > 0 {
				return c.bytes / float64(n)
			}
		}
	}
	return math.NaN()
}

// attributedText is the "new connections attributed" cell.
func (r *result) attributedText(perConn float64) string {
	if r.made == 0 {
		return "–"
	}
	if r.json {
		c := r.conns()
		s := fmt.Sprintf("%d/%d (%.0f %%)", c.attributed, r.made, 100*float64(c.attributed)/float64(r.made))
		var extra []string
		if c.service > 0 {
			extra = append(extra, fmt.Sprintf("%d on the service", c.service))
		}
		if c.unknown > 0 {
			extra = append(extra, fmt.Sprintf("%d unknown", c.unknown))
		}
		if c.other > 0 {
			extra = append(extra, fmt.Sprintf("%d other PID", c.other))
		}
		if c.missing > 0 {
			extra = append(extra, fmt.Sprintf("%d absent", c.missing))
		}
		if len(extra) > 0 {
			s += "; " + strings.Join(extra, ", ")
		}
		return s
	}
	if math.IsNaN(perConn) || perConn == 0 {
		return fmt.Sprintf("%.0f bytes on its row", r.newRowBytes())
	}
	return fmt.Sprintf("≈ %.0f %% by bytes", 100*r.newRowBytes()/(float64(r.made)*perConn))
}

// print writes the raw details of a run.
func (r *result) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, "  "+format+"\n", args...) }
	if r.ctrs.host != "" {
		p("namespaces: host %s, remote %s, %d containers; %s PID %d: %s", r.ctrs.host, r.ctrs.remote, len(r.ctrs.containers), r.monitor, r.pid, strings.Join(r.argv, " "))
		p("idle: %d connections; container 0's /proc/net/sockstat %s", r.idleOpen, r.sockstat)
	} else {
		p("namespaces %s / %s; %s PID %d: %s", r.ns.A, r.ns.B, r.monitor, r.pid, strings.Join(r.argv, " "))
		p("idle: %d connections; nsA /proc/net/sockstat %s", r.idleOpen, r.sockstat)
	}
	for i, l := range r.holderLines {
		srv := ""
		if i < len(r.serverLines) {
			srv = r.serverLines[i]
		}
		p("  holder %s; server %s", l, srv)
	}
	p("busy flow: client %s; sink %s", r.busyLine, r.sinkLine)
	if r.newPID != 0 {
		p("new connections: PID %d, %s; server %s; %d local addresses reported", r.newPID, r.newLine, r.newServer, len(r.newLocals))
	}
	for i, l := range r.newErrLines {
		if i == 5 {
			p("    ... %d more", len(r.newErrLines)-5)
			break
		}
		p("    %s", l)
	}
	for _, n := range r.notes {
		p("note: %s", n)
	}
	if r.done {
		p("phase 2 (nothing new): %.2f s, refreshes %d..%d (%d); CPU %.2f ms (sched), %.0f ms (ticks); %.3f ms/refresh; %.2f ms/s",
			r.idleLen(), r.s2.ref, r.s3.ref, r.idleRefreshes(), r.idleCPU(), r.ticksMs(r.s2, r.s3), r.cpuPerRefresh(), r.idleRate())
		w2 := r.s3.wire.Sub(r.s2.wire)
		p("  wire on %s: %d packets, %.2f MB/s", r.wireDev, w2.Packets(), float64(w2.Bytes())/r.idleLen()/1e6)
		p("phase 3 (new connections): %.2f s, refreshes %d..%d; CPU %.2f ms (sched), %.0f ms (ticks); minus %.2f ms at phase 2's rate = %.2f ms for %d connections = %.3f ms each",
			r.newLen(), r.s3.ref, r.s4.ref, r.newCPU(), r.ticksMs(r.s3, r.s4), r.idleRate()*r.newLen(), r.newExcess(), r.made, r.cpuPerConn())
		p("  the client finished %.2f s into the phase; CPU utilisation %.0f %% (phase 2: %.0f %%)",
			secs(r.newDone.Sub(r.s3.t)), r.newCPU()/r.newLen()/10, r.idleCPU()/r.idleLen()/10)
		p("  machine CPU busy (all cores, /proc/stat): phase 2 %.0f %%, phase 3 %.0f %%", busyPct(r.s2.host, r.s3.host), busyPct(r.s3.host, r.s4.host))
		ds := r.s4.sched.Sub(r.s3.sched)
		p("  context switches in phase 3: %d voluntary, %d involuntary; %d threads", ds.Voluntary, ds.Involuntary, r.s4.sched.Threads)
		if r.gcs != [2]int{} {
			p("  Go garbage collections (gctrace): %d in phase 2, %d in phase 3", r.gcs[0], r.gcs[1])
		}
		m2, x2 := r.gaps(r.s2.ref, r.s3.ref)
		m3, x3 := r.gaps(r.s3.ref, r.s4.ref)
		p("refresh gaps: phase 2 mean %.3f s, max %.3f s; phase 3 mean %.3f s, max %.3f s", m2, x2, m3, x3)
		p("memory: VmHWM %.1f MiB, VmRSS %.1f MiB at the end", harness.MiB(r.memEnd.HWM), harness.MiB(r.memEnd.RSS))
		wb := r.wire()
		p("accuracy: the last refresh (%d) has %.0f bytes; %s rx+tx since the monitor started %d bytes (%d packets) = %.4f %%; %d packets before the busy flow started",
			r.s5.ref, r.attributed(), r.wireDev, wb.Bytes(), wb.Packets(), r.accuracy(), r.quiet.Packets())
		p("last refresh (%d), %d rows:", r.s5.ref, len(r.final.Rows))
		for i, row := range r.final.Rows {
			if i == 10 {
				p("    ... %d more rows", len(r.final.Rows)-10)
				break
			}
			p("    %s\tsent %.0f\trecv %.0f", row.Name, row.Sent, row.Recv)
		}
		if r.json {
			c := r.conns()
			p("connections in the last refresh: %d; of the client's %d: %d under its PID, %d on the service, %d unknown, %d other PID, %d absent; %.0f bytes",
				len(r.final.Conns), len(r.newLocals), c.attributed, c.service, c.unknown, c.other, c.missing, c.bytes)
		}
		if r.svc != nil {
			np, ns, nu := r.newShares()
			p("service %s: new connections %.1f %% on the client's row, %.1f %% on the service's, %.1f %% unknown (%.0f bytes on the service's row)", r.svc.Path, np, ns, nu, r.final.NamedBytes(r.svcRow()))
			if r.procPIDs != nil {
				pp, ps, pu := r.procsShares()
				p("  client processes: %.1f %% on their rows, %.1f %% on the service's, %.1f %% unknown", pp, ps, pu)
			}
		}
		if r.procPIDs != nil {
			p("phase 5 (client processes): %s; %d PIDs; %.0f bytes on their rows of vA's %d (%d packets) = %.2f %%; CPU %.2f ms; unknown TCP %.0f bytes at its end",
				r.procsLine, len(r.procPIDs), r.procsOwned(), r.procsWire.Bytes(), r.procsWire.Packets(), r.procsShare(),
				r.s6.sched.Ms-r.s5.sched.Ms, r.procsFinal.UnknownBytes())
		}
		if r.s5.x.ok {
			for _, ph := range []struct {
				name string
				a, b xReading
			}{{"set-up", xReading{ok: true}, r.s2.x}, {"phase 2", r.s2.x, r.s3.x}, {"phase 3", r.s3.x, r.s4.x}, {"tail", r.s4.x, r.s5.x}, {"phase 5", r.s5.x, r.s6.x}} {
				d := ph.b.Sub(ph.a)
				p("hogs -x %s: %d packets, %d dropped, %d sock_diag lookups, %d /proc/net reads, %d fd scans (%d in vain, %d links read); %d flows at its end",
					ph.name, d.Packets, d.Dropped, d.SockDiag, d.TableReads, d.FDScans, d.ScansInVain, d.Links, ph.b.Flows)
			}
		}
	}
	how := "SIGTERM"
	if r.killed {
		how = "SIGTERM, then SIGKILL"
	}
	p("stopped with %s in %v: %s", how, r.stopTook.Round(time.Millisecond), r.monStatus)
	if s := strings.TrimSpace(r.monStderr); s != "" && !strings.HasPrefix(r.monitor, "hogs") {
		p("%s stderr: %s", r.monitor, harness.OneLine(harness.FirstLines(s, 5)))
	}
	if r.err != nil {
		p("ERROR: %v", r.err)
	}
}

func f1(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f", v)
}

func f3(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	if math.Abs(v) >= 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// markdownTables is the main table, one row per monitor, and hogs's
// resolver work.
func markdownTables(rs []*result, o options) string {
	perConn := bytesPerConn(rs)
	var b strings.Builder
	b.WriteString("| Monitor | Idle sockets | CPU ms / refresh, nothing new | CPU ms / new connection | Refresh interval s: nothing new / new conns (longest) | New conns made | New conns attributed | unknown TCP bytes | Dropped | Accuracy % | VmHWM MiB |\n")
	b.WriteString("|---|--:|--:|--:|---|--:|---|--:|--:|--:|--:|\n")
	for _, r := range rs {
		if !r.done {
			msg := "failed"
			if r.err != nil {
				msg = "failed: " + strings.ReplaceAll(strings.ReplaceAll(r.err.Error(), "\n", " "), "|", "/")
			}
			if len(msg) > 160 {
				msg = msg[:160] + "…"
			}
			fmt.Fprintf(&b, "| %s | %d | %s | | | | | | | | |\n", r.monitor, r.idleOpen, msg)
			continue
		}
		m2, _ := r.gaps(r.s2.ref, r.s3.ref)
		m3, x3 := r.gaps(r.s3.ref, r.s4.ref)
		dropped := "n/a"
		if r.s5.x.ok {
			dropped = fmt.Sprint(r.s5.x.Dropped)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %.2f / %.2f (%.2f) | %d | %s | %.0f | %s | %.3f | %.1f |\n",
			r.monitor, r.idleOpen, f3(r.cpuPerRefresh()), f3(r.cpuPerConn()), m2, m3, x3, r.made,
			r.attributedText(perConn), r.unknownBytes(), dropped, r.accuracy(), harness.MiB(r.memEnd.HWM))
	}
	if o.procs > 0 {
		fmt.Fprintf(&b, "\nShort-lived client processes (phase 5: %d processes one after another, each sending %d bytes and exiting):\n\n", o.procs, o.procSize)
		b.WriteString("| Monitor | Processes started | Their bytes on their rows | Wire bytes (vA) | Share % | CPU ms / process |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|\n")
		for _, r := range rs {
			if !r.done || r.procPIDs == nil {
				continue
			}
			fmt.Fprintf(&b, "| %s | %d | %.0f | %d | %s | %s |\n", r.monitor, len(r.procPIDs), r.procsOwned(), r.procsWire.Bytes(),
				f1(r.procsShare()), f3((r.s6.sched.Ms-r.s5.sched.Ms)/float64(len(r.procPIDs))))
		}
	}
	if o.service {
		fmt.Fprintf(&b, "\nWhere the clients' bytes are (-service: the new-connections client and the client processes in a service's cgroup; %% of the new connections' bytes on the client's row + the service's row + unknown, and of vA's bytes in phase 5):\n\n")
		b.WriteString("| Monitor | New conns: on their process % | on their service % | unknown % | Client processes: on their process % | on their service % | unknown % |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range rs {
			if !r.done {
				continue
			}
			np, ns, nu := r.newShares()
			pp, ps, pu := math.NaN(), math.NaN(), math.NaN()
			if r.procPIDs != nil {
				pp, ps, pu = r.procsShares()
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.monitor, f1(np), f1(ns), f1(nu), f1(pp), f1(ps), f1(pu))
		}
	}
	var any bool
	for _, r := range rs {
		if r.done && r.s5.x.ok {
			any = true
		}
	}
	if any {
		b.WriteString("\nhogs's resolver work (-x totals over each phase):\n\n")
		b.WriteString("| Monitor | Phase | sock_diag lookups | /proc/net reads | fd scans | of them in vain | fd links read | Packets | Dropped |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range rs {
			if !r.done || !r.s5.x.ok {
				continue
			}
			phases := []struct {
				name string
				a, b xReading
			}{
				{"set-up (start to phase 2)", xReading{ok: true}, r.s2.x},
				{fmt.Sprintf("nothing new (%d refreshes)", r.idleRefreshes()), r.s2.x, r.s3.x},
				{fmt.Sprintf("new connections (%d made)", r.made), r.s3.x, r.s4.x},
			}
			if len(r.procPIDs) > 0 && r.s6.x.ok {
				phases = append(phases, struct {
					name string
					a, b xReading
				}{fmt.Sprintf("short-lived processes (%d)", len(r.procPIDs)), r.s5.x, r.s6.x})
			}
			for _, ph := range phases {
				d := ph.b.Sub(ph.a)
				fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d | %d |\n", r.monitor, ph.name, d.SockDiag, d.TableReads, d.FDScans, d.ScansInVain, d.Links, d.Packets, d.Dropped)
			}
		}
	}
	return b.String()
}

// observations lists what looks odd in the runs, and the targets.
func observations(rs []*result, o options) []string {
	var notes []string
	for _, r := range rs {
		who := r.monitor
		for _, n := range r.notes {
			notes = append(notes, who+": "+n)
		}
		if !r.done {
			notes = append(notes, fmt.Sprintf("%s failed: %v", who, r.err))
			continue
		}
		if r.killed {
			notes = append(notes, fmt.Sprintf("%s did not exit within %v of SIGTERM: killed", who, grace))
		}
		if r.ok < r.made {
			notes = append(notes, fmt.Sprintf("%s run: only %d of %d new connections completed", who, r.ok, r.made))
		}
		if acc := r.accuracy(); acc > 100.01 {
			notes = append(notes, fmt.Sprintf("%s counted more than the wire: %.4f %%", who, acc))
		} else if acc < 99.9 {
			notes = append(notes, fmt.Sprintf("%s missed %.3f %% of the wire bytes", who, 100-acc))
		}
		if n := r.quiet.Packets(); n > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d packets on vA before the busy flow started (the idle connections were not idle?)", who, n))
		}
		if u := r.unknownBytes(); u > 0 {
			notes = append(notes, fmt.Sprintf("%s put %.0f bytes in unknown TCP", who, u))
		}
		if r.schedOK() {
			if t, s := r.ticksMs(r.s2, r.s4), r.s4.sched.Ms-r.s2.sched.Ms; math.Abs(t-s) > math.Max(30, 0.2*s) {
				notes = append(notes, fmt.Sprintf("%s: CPU %.0f ms in ticks but %.1f ms in sched over phases 2 and 3 (a thread exited?)", who, t, s))
			}
		}
		if m3, x3 := r.gaps(r.s3.ref, r.s4.ref); x3 > 1.5 {
			notes = append(notes, fmt.Sprintf("%s: refreshes up to %.1f s apart with new connections (mean %.2f s)", who, x3, m3))
		}
		if strings.HasPrefix(r.monitor, "hogs") {
			var miss []string
			if v := r.cpuPerRefresh(); !(v <= 1) {
				miss = append(miss, fmt.Sprintf("%.3f ms per refresh with nothing new (target ≤ 1)", v))
			}
			if v := r.cpuPerConn(); !(v <= 2) {
				miss = append(miss, fmt.Sprintf("%.3f ms per new connection (target ≤ 2)", v))
			}
			if r.s5.x.Dropped > 0 {
				miss = append(miss, fmt.Sprintf("%d packets dropped (target 0)", r.s5.x.Dropped))
			}
			if r.json {
				if c := r.conns(); c.attributed < r.made {
					miss = append(miss, fmt.Sprintf("%d of %d new connections attributed (target all)", c.attributed, r.made))
				}
			}
			if r.procPIDs != nil && !(r.procsShare() >= 95) {
				miss = append(miss, fmt.Sprintf("%.1f %% of the client processes' bytes on their rows (target ≥ 95)", r.procsShare()))
			}
			if len(miss) == 0 {
				notes = append(notes, fmt.Sprintf("%s meets the issue's targets (≤ 1 ms per refresh, ≤ 2 ms per new connection, no drops%s)", who,
					map[bool]string{true: ", every new connection attributed", false: ""}[r.json]))
			} else {
				notes = append(notes, fmt.Sprintf("%s misses the issue's targets: %s", who, strings.Join(miss, "; ")))
			}
		}
	}
	return notes
}

// resultsDoc is bench/sockets/results.md.
func resultsDoc(e harness.Env, o options, rs []*result, table string, took time.Duration) string {
	var b strings.Builder
	title, target := "hogs vs nethogs with many idle sockets and new connections", "bench-sockets"
	if o.containers > 0 {
		title, target = fmt.Sprintf("hogs vs nethogs watching %d containers' idle sockets and new connections from the host", o.containers), "bench-containers"
	}
	e.ResultsHeader(&b, title, target, "./bench/sockets", took)
	if o.containers > 0 {
		fmt.Fprintf(&b, "- Monitors, each alone in a fresh lab: `hogs -t -v 2 -d 1 -x`, `hogs --json --connections -v 2 -d 1 -x`, `nethogs -t -v 2 -d 1`, in the host namespace of %d container namespaces bridged on br0 (each container's veth a bridge port), routing to a remote namespace through an uplink veth (vUp, no NAT): the monitor sees the containers' traffic on the bridge's ports, the bridge and the uplink\n", o.containers)
		fmt.Fprintf(&b, "- Load: %d idle TCP connections spread over the containers (%d each, one holder process per container; idle server mode %s, %d ports per server, servers in the remote namespace); one busy flow of %.1f MB/s in %d-byte writes from container 0; phase 2 %v with nothing new; phase 3: %d new connections/s for %v spread over the containers (a client per container, started 1/%d s apart), each %d bytes out, %d back, open %v after the answer\n",
			o.idle, o.idle/o.containers, o.serverMode, o.ports, float64(o.busyRate)/1e6, o.busyWrite, o.phase, o.newRate, o.phase, o.newRate, o.newSize, o.newAnswer, o.hold)
		fmt.Fprintf(&b, "- Wire truth: vUp's counters in the host namespace (every byte of the containers' traffic crosses it once)\n")
	} else {
		fmt.Fprintf(&b, "- Monitors, each alone in a fresh namespace pair: `hogs -t -v 2 -d 1 -x`, `hogs --json --connections -v 2 -d 1 -x`, `nethogs -t -v 2 -d 1`; the -noev runs add `--no-kernel-events` to hogs\n")
		fmt.Fprintf(&b, "- Load: %d idle TCP connections in the monitor's namespace (%d per holder process; idle server mode %s, %d ports per server); one busy flow of %.1f MB/s in %d-byte writes; phase 2 %v with nothing new; phase 3: %d new connections/s for %v, each %d bytes out, %d back, open %v after the answer\n",
			o.idle, o.perProcess, o.serverMode, o.ports, float64(o.busyRate)/1e6, o.busyWrite, o.phase, o.newRate, o.phase, o.newSize, o.newAnswer, o.hold)
	}
	if o.service {
		fmt.Fprintf(&b, "- With -service: the new-connections client and the client processes (phase 5) run in a cgroup shaped like a systemd service (hogs-test-X.slice/hogs-bench-X.service on the cgroup2 mount); a socket whose process hogs cannot find goes to that service's row (hogs's cgroup fallback) where sock_diag still tells its cgroup, else to unknown\n")
	}
	if o.procs > 0 {
		fmt.Fprintf(&b, "- Phase 5, busy flow paused: %d client processes started one after another, each sending %d bytes over its own connection and exiting\n", o.procs, o.procSize)
	}
	fmt.Fprintf(&b, "- CPU: se.sum_exec_runtime over the monitor's threads (/proc/PID/task/*/sched), ns resolution\n")
	b.WriteString("\n")
	b.WriteString(table)
	legend := `
CPU ms / refresh: the monitor's CPU from one refresh to the first refresh 10 s later, over the refreshes in between. CPU ms / new connection: phase 3's CPU minus phase 2's rate × its length, over the connections made. "old client": the new-connections client was started, waiting, before the idle holders, so its PID is older than theirs (hogs's fd scan walks the newest process first). New conns attributed: for hogs --json, the client's connections found by local address under its PID in the last refresh; for trace output (hogs -t, nethogs), an estimate: the client's row bytes / (connections × the mean bytes of one as hogs --json counted them). unknown TCP: bytes in "unknown TCP" in the last refresh. Dropped: hogs -x's kernel drop count (nethogs reports none). Accuracy: bytes in the last refresh (all rows, totals since the monitor started) / vA's rx+tx bytes from just before the monitor started (the link is quiet then: the busy flow starts after its first refresh) to that refresh (6 significant digits in trace rows: ~1e-5 noise). Method and caveats: the package documentation, bench/sockets/main.go.
`
	if o.containers > 0 {
		legend = strings.ReplaceAll(legend, "vA's rx+tx bytes", "vUp's rx+tx bytes (the uplink: every byte of the containers' traffic crosses it once)")
		legend += "With containers: a client per container; a new connection is attributed when it is found, by the client's address at either end, under any client's PID.\n"
	}
	b.WriteString(legend)
	if notes := observations(rs, o); len(notes) > 0 {
		b.WriteString("\nObserved in this run:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

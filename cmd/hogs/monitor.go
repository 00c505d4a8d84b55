package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hogs/internal/flow"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"hogs/decode"
	"hogs/internal/conntable"
	"hogs/proc"
	"hogs/rawcap"
	"hogs/rawcap/pcapfilter"
	"hogs/ui"

	"golang.org/x/net/bpf"
)

// frameSource is what the pipeline reads: a live capture or a capture file.
type frameSource interface {
	Next(f *rawcap.Frame) error
	Close() error
}

// pipeline is one run of hogs: capture → decode → connection table, with
// the resolver attributing new flows and the refresh loop printing.
type pipeline struct {
	cfg      config
	table    *conntable.Table
	adder    *conntable.Adder // the capture goroutine's
	resolver *proc.Resolver
	liveSrc  *rawcap.Live // nil when replaying a file
	src      frameSource
	start    time.Time
	newFlows chan flow.Key
	// resolving serialises the resolver between the goroutine resolving
	// new flows and the refresh loop retrying unresolved ones; owners is
	// scratch space under it. retryKeys and lastRetry are the refresh
	// loop's.
	resolving sync.Mutex
	owners    []flow.Owner
	retryKeys []flow.Key
	lastRetry time.Time
	stderr    io.Writer
	// userFilter applies -f in user space when replaying a file (a live
	// capture runs it in the kernel).
	userFilter *pcapfilter.Filter
	intervals  ui.Intervals
	// emit shows one refresh: prints it (trace, JSON) or hands it to the
	// terminal UI.
	emit func(*ui.View) error
	// quit, when closed, ends a live run (the terminal UI's q).
	quit <-chan struct{}
}

// monitor runs hogs in trace or JSON mode until -c refreshes, a signal,
// or the end of a replayed file.
func monitor(cfg config, stdout, stderr io.Writer) error {
	out := bufio.NewWriterSize(stdout, 64<<10)
	p := newPipeline(cfg, stderr)
	p.emit = func(view *ui.View) error {
		var err error
		if cfg.json {
			err = ui.WriteJSON(out, view, ui.JSONOptions{Connections: cfg.conns})
		} else {
			err = ui.WriteTrace(out, view, ui.TraceOptions{Mode: ui.ViewMode(cfg.viewMode), Order: p.order(), Cmdline: cfg.cmdline})
		}
		if err != nil {
			return err
		}
		return out.Flush()
	}
	if cfg.readFile != "" {
		return p.replay()
	}
	return p.live(out)
}

func newPipeline(cfg config, stderr io.Writer) *pipeline {
	table := conntable.New(conntable.Config{})
	return &pipeline{
		cfg:      cfg,
		table:    table,
		adder:    table.NewAdder(),
		start:    time.Now(),
		newFlows: make(chan flow.Key, 4096),
		stderr:   stderr,
	}
}

// live captures until the run ends; start-up lines go to startup.
func (p *pipeline) live(startup *bufio.Writer) error {
	closeAll, err := p.prepareLive(startup)
	if err != nil {
		return err
	}
	defer closeAll()
	return p.runLive()
}

// prepareLive opens the capture and the resolver: everything that can fail
// on a bad command line or missing privileges, before any screen is drawn.
// Start-up lines go to startup (nil: none, as for the terminal UI).
func (p *pipeline) prepareLive(startup *bufio.Writer) (closeAll func(), err error) {
	if err := p.openLive(startup); err != nil {
		return nil, err
	}
	rcfg := proc.ResolverConfig{FS: proc.NewFS(proc.DefaultRoot), OnlyPIDs: p.cfg.onlyPIDs}
	diag, err := proc.OpenSockDiag()
	if err == nil {
		rcfg.SockDiag = diag
	} else if p.cfg.bugHunt {
		fmt.Fprintf(p.stderr, "hogs: no sock_diag (%v): reading /proc/net tables instead\n", err)
	}
	p.resolver = proc.NewResolver(rcfg)
	return func() {
		p.liveSrc.Close()
		if diag != nil {
			diag.Close()
		}
	}, nil
}

// interactive runs the terminal table: the pipeline refreshes in the
// background, the UI shows the latest refresh and answers keys at once.
func interactive(cfg config, stderr io.Writer) error {
	p := newPipeline(cfg, stderr)
	closeAll, err := p.prepareLive(nil)
	if err != nil {
		return err
	}
	defer closeAll()
	updates := make(chan ui.View, 1)
	p.emit = func(view *ui.View) error {
		// The newest refresh replaces one the UI has not taken yet.
		select {
		case updates <- *view:
		default:
			select {
			case <-updates:
			default:
			}
			updates <- *view
		}
		return nil
	}
	quit := make(chan struct{})
	p.quit = quit
	runErr := make(chan error, 1)
	go func() {
		err := p.runLive()
		close(updates)
		runErr <- err
	}()
	st := ui.ViewState{Mode: ui.ViewMode(cfg.viewMode), Order: p.order(), Cmdline: cfg.cmdline, Basename: cfg.basename,
		Title: "hogs " + version}
	for _, d := range p.liveSrc.Plan().Devices() {
		if e, ok := p.liveSrc.Plan().Lookup(d.Index); ok && e.Count {
			st.Devices = append(st.Devices, d.Name)
		}
	}
	tuiErr := ui.RunTUI(context.Background(), updates, st)
	close(quit)
	if err := <-runErr; err != nil {
		return err
	}
	if tuiErr != nil {
		return fmt.Errorf("%w; use -t or --json for text output", tuiErr)
	}
	return nil
}

func (p *pipeline) openLive(out *bufio.Writer) error {
	var user []bpf.Instruction
	if p.cfg.filter != "" {
		var err error
		if user, err = pcapfilter.Compile(p.cfg.filter, rawcap.SnapLen); err != nil {
			return err
		}
	}
	filter, err := rawcap.KernelFilter(rawcap.FilterOptions{UDP: p.cfg.udp, User: user})
	if err != nil {
		return err
	}
	handshakes, err := rawcap.HandshakeFilter(rawcap.FilterOptions{User: user})
	if err != nil {
		return err
	}
	live, err := rawcap.OpenLive(rawcap.LiveConfig{
		Filter:          filter,
		HandshakeFilter: handshakes,
		Selection:       rawcap.Selection{Names: p.cfg.devices, All: p.cfg.all},
	})
	if err != nil {
		return err
	}
	p.liveSrc, p.src = live, live
	for _, d := range live.Plan().Devices() {
		e, ok := live.Plan().Lookup(d.Index)
		if !ok || !e.Selected {
			continue
		}
		if p.cfg.promisc {
			if err := live.SetPromiscuous(d.Index, true); err != nil {
				live.Close()
				return fmt.Errorf("%s: %w", d.Name, err)
			}
		}
		if p.cfg.json || out == nil {
			continue // the JSON stream holds refreshes only; the table shows devices in its footer
		}
		for _, a := range d.Addrs {
			fmt.Fprintf(out, "Adding local address: %s\n", a.Addr())
		}
		fmt.Fprintf(out, "%s\n", d.LinkDescription())
	}
	if p.cfg.bugHunt {
		fmt.Fprintf(p.stderr, "hogs: capturing with %s\n", live.Mode())
	}
	if out == nil {
		return nil
	}
	return out.Flush()
}

// now is the pipeline's monotonic clock.
func (p *pipeline) now() int64 { return int64(time.Since(p.start)) }

// frameClock times packets on the pipeline's monotonic clock without
// reading it for every packet (a clock read costs about as much as
// decoding): it anchors the kernel's timestamps to the monotonic clock
// every anchorEvery packets, and again whenever a packet's timestamp is
// more than anchorGap before or after the previous one's (a step of the
// wall clock, or a quiet spell); the packets in between are placed by
// their kernel timestamp's distance from the anchor. A step of the wall
// clock by less than anchorGap can thus misplace packets by that much
// until the next anchor, and time never moves backwards.
type frameClock struct {
	mono              func() int64
	packets           uint32
	anchor, anchorRaw int64
	lastRaw, last     int64
	// replay, if set, times the packets instead (a capture file's clock).
	replay func(*rawcap.Frame) int64
}

const (
	anchorEvery = 1024
	anchorGap   = int64(250 * time.Millisecond)
)

func (c *frameClock) at(f *rawcap.Frame) int64 {
	if c.replay != nil {
		return c.replay(f)
	}
	raw := f.Timestamp.UnixNano()
	c.packets++
	// A timestamp more than anchorGap before or after the last is one
	// unsigned comparison (packets of both directions interleave with
	// timestamps a little out of order: that is no step of the clock); a
	// frame without a timestamp (the zero Time) gives a negative raw.
	if c.packets%anchorEvery == 1 || uint64(raw-c.lastRaw+anchorGap) > uint64(2*anchorGap) || raw <= 0 {
		c.anchor, c.anchorRaw = c.mono(), raw
	}
	c.lastRaw = raw
	t := c.anchor + (raw - c.anchorRaw)
	if t < c.last {
		t = c.last
	}
	c.last = t
	return t
}

// capture reads frames until the source ends, accounting each.
func (p *pipeline) capture(clock *frameClock) error {
	var (
		f     rawcap.Frame
		pkt   decode.Packet
		adder = p.adder
		// The flow signature of the current run's packets in each
		// direction (decode.IPv4FlowSignature), and the run it is of.
		runSig [decode.DirOut + 1]decode.FlowSignature
		runOf  [decode.DirOut + 1]uint64
	)
	// The Adder holds runs of one flow's packets: hand them on whenever the
	// source waits, and at the end.
	if s, ok := p.src.(interface{ OnIdle(func()) }); ok {
		s.OnIdle(adder.Flush)
	}
	defer adder.Flush()
	for {
		if err := p.src.Next(&f); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		// A packet of the flow the Adder is on, as its raw header shows,
		// needs no decoding. (Only live capture records directions.) The
		// clock is read only for packets that are counted: a replay's
		// refreshes follow them.
		var sig decode.FlowSignature
		sigOK := f.LinkType == decode.LinkRaw && (f.Direction == decode.DirIn || f.Direction == decode.DirOut)
		if sigOK {
			sig, sigOK = decode.IPv4FlowSignature(f.Data)
		}
		if sigOK && sig == runSig[f.Direction] && runOf[f.Direction] == adder.RunID() &&
			adder.AddToRun(f.Direction == decode.DirOut, f.WireLen, clock.at(&f)) {
			continue
		}
		decode.Decode(f.LinkType, f.Data, &pkt)
		if pkt.Proto == decode.ProtoUDP && !p.cfg.udp {
			continue
		}
		if p.userFilter != nil && (pkt.Family == decode.NotIP || !p.userFilter.Match(f.Data[pkt.NetOffset:])) {
			continue
		}
		isNew, ok := adder.AddPacket(&pkt, f.Direction, f.WireLen, clock.at(&f), f.InterfaceName)
		if sigOK && ok {
			runSig[f.Direction], runOf[f.Direction] = sig, adder.RunID()
		}
		if isNew && ok && p.resolver != nil {
			select {
			case p.newFlows <- adder.Key():
			default: // the resolver is behind; the retry loop picks it up
			}
		}
	}
}

// watchHandshakes opens the flow of each TCP handshake packet the live
// source's watcher sees, as soon as it arrives, and hands new flows to the
// resolver: a connection that lasts a few milliseconds still has its
// socket then, while the ring may hold its packets for up to
// rawcap.DefaultRetireTimeout. The ring counts these packets.
func (p *pipeline) watchHandshakes() error {
	var (
		f   rawcap.Frame
		pkt decode.Packet
	)
	for {
		if err := p.liveSrc.NextHandshake(&f); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		decode.Decode(f.LinkType, f.Data, &pkt)
		if pkt.Proto != decode.ProtoTCP {
			continue
		}
		var k flow.Key
		_, ok := conntable.KeyOf(&pkt, f.Direction, &k)
		if !ok {
			continue
		}
		if p.table.Open(k, p.now(), f.InterfaceName) {
			select {
			case p.newFlows <- k:
			default: // the resolver is behind; the retry loop picks it up
			}
		}
	}
}

// retryEvery bounds how often unresolved flows are looked up again.
const retryEvery = time.Second

// resolve attributes new flows as soon as they appear, while their sockets
// still exist; the refresh loop retries the unresolved ones
// (retryUnresolved).
func (p *pipeline) resolve(stop <-chan struct{}) {
	var keys []flow.Key
	for {
		select {
		case <-stop:
			return
		case k := <-p.newFlows:
			keys = append(keys[:0], k)
			// Take whatever else arrived with it, then resolve the batch.
		drain:
			for len(keys) < 1024 {
				select {
				case k := <-p.newFlows:
					keys = append(keys, k)
				default:
					break drain
				}
			}
			p.resolving.Lock()
			p.resolveLocked(keys)
			p.resolving.Unlock()
		}
	}
}

// retryUnresolved looks up the flows still without an owner again, and
// checks the owners found lately (a forking server's child takes over its
// connection), at most once every retryEvery. The refresh loop calls it
// itself, before it takes its snapshot: handing it to the resolver's
// goroutine would wake a second thread at every refresh.
func (p *pipeline) retryUnresolved() {
	if p.resolver == nil || time.Since(p.lastRetry) < retryEvery {
		return
	}
	p.lastRetry = time.Now()
	p.resolving.Lock()
	defer p.resolving.Unlock()
	p.retryKeys = p.table.Unresolved(p.retryKeys[:0])
	p.resolveLocked(p.retryKeys)
	if err := p.resolver.Recheck(p.table.SetOwner); err != nil && p.cfg.bugHunt {
		fmt.Fprintf(p.stderr, "hogs: re-checking owners: %v\n", err)
	}
}

// resolveLocked finds the owners of keys and records them; the caller
// holds p.resolving.
func (p *pipeline) resolveLocked(keys []flow.Key) {
	if len(keys) == 0 {
		return
	}
	p.owners = slices.Grow(p.owners[:0], len(keys))[:len(keys)]
	if err := p.resolver.Resolve(keys, p.owners); err != nil && p.cfg.bugHunt {
		fmt.Fprintf(p.stderr, "hogs: resolving: %v\n", err)
	}
	for i, k := range keys {
		if p.owners[i] != flow.Unresolved {
			p.table.SetOwner(k, p.owners[i])
		}
	}
}

func (p *pipeline) runLive() error {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	captureErr := make(chan error, 2)
	wg.Add(3)
	go func() {
		defer wg.Done()
		captureErr <- p.capture(&frameClock{mono: p.now})
	}()
	go func() {
		defer wg.Done()
		if err := p.watchHandshakes(); err != nil {
			captureErr <- err
		}
	}()
	go func() {
		defer wg.Done()
		p.resolve(stop)
	}()
	defer func() {
		close(stop)
		p.liveSrc.Close()
		wg.Wait()
	}()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	ticks, err := newRefreshTicker(p.cfg.delay)
	if err != nil {
		return err
	}
	// The refresh loop waits only for its ticks; whatever ends the run
	// stops them.
	var endErr error
	loopDone, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		defer ticks.Stop()
		select {
		case <-loopDone:
		case <-p.quit:
		case <-signals:
		case err := <-captureErr:
			if err != nil {
				endErr = fmt.Errorf("capture: %w", err)
			}
		}
	}()
	defer func() {
		close(loopDone)
		<-ended
	}()
	for refreshes := 1; ; refreshes++ {
		if err := p.refreshAt(p.now()); err != nil {
			return err
		}
		if p.cfg.count > 0 && refreshes >= p.cfg.count {
			return nil
		}
		if !ticks.Wait() {
			<-ended
			return endErr
		}
	}
}

// replay feeds a capture file through the pipeline on the file's own
// clock and prints a refresh every -d seconds of capture time and one at
// the end. Without process information, flows show in the unknown rows.
func (p *pipeline) replay() error {
	if p.cfg.filter != "" {
		prog, err := pcapfilter.Compile(p.cfg.filter, rawcap.SnapLen)
		if err == nil {
			p.userFilter, err = pcapfilter.NewFilter(prog)
		}
		if err != nil {
			return err
		}
	}
	r, err := rawcap.OpenFile(p.cfg.readFile)
	if err != nil {
		return err
	}
	p.src = r
	defer r.Close()
	var first, next int64
	refreshes := 0
	clock := func(f *rawcap.Frame) int64 {
		ts := f.Timestamp.UnixNano()
		if first == 0 {
			first, next = ts, ts
		}
		t := ts - first
		for t >= next-first && (p.cfg.count == 0 || refreshes < p.cfg.count) {
			p.adder.Flush() // the refresh runs in the capture goroutine here
			p.refreshAt(next - first)
			refreshes++
			next += int64(p.cfg.delay)
		}
		return t
	}
	if err := p.capture(&frameClock{replay: clock}); err != nil {
		return err
	}
	if p.cfg.count == 0 || refreshes < p.cfg.count {
		return p.refreshAt(next - first)
	}
	return nil
}

// refreshAt prints one refresh for the table at now and expires idle flows.
func (p *pipeline) refreshAt(now int64) error {
	p.retryUnresolved()
	p.table.Sweep(now, int64(p.cfg.idleFlows))
	snap := p.table.Snapshot(now)
	var owners ui.Owners = noOwners{}
	if p.resolver != nil {
		owners = p.resolver.Owners()
	}
	view := ui.View{Time: time.Now(), Interval: p.cfg.delay, Rows: ui.Build(snap, owners, p.cfg.udp, p.order()), Evictions: snap.Evictions}
	p.intervals.Fill(view.Rows)
	if p.liveSrc != nil {
		st, err := p.liveSrc.Stats()
		if err == nil {
			c := ui.CaptureStats{Source: "live", Mode: p.liveSrc.Mode(), Received: st.Received, Dropped: st.Dropped}
			for _, d := range p.liveSrc.DeviceCounts() {
				c.Devices = append(c.Devices, ui.DeviceStats{Name: d.Name, Packets: d.Packets, Bytes: d.Bytes})
			}
			view.Capture = []ui.CaptureStats{c}
		}
		if p.cfg.bugHunt {
			rs := p.resolver.Stats()
			fmt.Fprintf(p.stderr, "hogs: %s: %d packets, %d dropped; %d flows (%d evicted); %d sock_diag lookups, %d /proc/net reads, %d fd scans\n",
				p.liveSrc.Mode(), st.Received, st.Dropped, len(snap.Flows), snap.Evictions, rs.SockDiagLookups, rs.TableReads, rs.FDScans)
		}
	} else {
		view.Capture = []ui.CaptureStats{{Source: p.cfg.readFile}}
	}
	return p.emit(&view)
}

func (p *pipeline) order() ui.SortOrder {
	if p.cfg.sortSent {
		return ui.SortSent
	}
	return ui.SortRecv
}

// noOwners: a replay knows no processes.
type noOwners struct{}

func (noOwners) Lookup(flow.Owner) (flow.Process, bool) { return flow.Process{}, false }

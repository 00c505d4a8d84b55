package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/internal/kevents"
	"hogs/internal/monitor"
	"hogs/internal/names"
	"hogs/metrics"
	"hogs/proc"
	"hogs/rawcap"
	"hogs/rawcap/pcapfilter"
	"hogs/ui"

	"golang.org/x/net/bpf"
)

// monitorConfig is the monitor's part of the command line.
func monitorConfig(cfg config, stderr io.Writer) monitor.Config {
	mc := monitor.Config{
		Interval: cfg.delay,
		Count:    cfg.count,
		Idle:     cfg.idleFlows,
		UDP:      cfg.udp,
		Order:    sortOrder(cfg),
		Replay:   cfg.readFile != "",
	}
	if cfg.bugHunt {
		mc.Log = stderr
	}
	return mc
}

func sortOrder(cfg config) ui.SortOrder {
	if cfg.sortSent {
		return ui.SortSent
	}
	return ui.SortRecv
}

// signalContext is cancelled by SIGINT or SIGTERM: the run ends as after
// its last refresh.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

// textSink prints refreshes as trace text or JSON lines, flushing each.
// With silent (live capture) a capture that sees nothing is said on stderr.
func textSink(cfg config, out *bufio.Writer, stderr io.Writer, silent *silentCapture) monitor.Sink {
	return monitor.SinkFunc(func(v *ui.View) error {
		if silent != nil {
			if note := silent.note(v, cfg.devices); note != "" {
				printWarnings(stderr, []string{note})
			}
		}
		var err error
		if cfg.json {
			err = ui.WriteJSON(out, v, ui.JSONOptions{Connections: cfg.conns})
		} else {
			err = ui.WriteTrace(out, v, ui.TraceOptions{Mode: ui.ViewMode(cfg.viewMode), Order: sortOrder(cfg), Cmdline: cfg.cmdline})
		}
		if err != nil {
			return err
		}
		return out.Flush()
	})
}

// metricsSink starts the metrics endpoint of --listen; nil without it.
// It returns a sink publishing each view and a function that stops the
// server.
func metricsSink(cfg config, stderr io.Writer) (monitor.Sink, func(), error) {
	if cfg.listen == "" {
		return nil, func() {}, nil
	}
	group := metrics.DefaultGroupBy
	if cfg.metricsGroup != "" {
		var err error
		if group, err = metrics.ParseGroupBy(cfg.metricsGroup); err != nil {
			return nil, nil, err
		}
	}
	e, err := metrics.New(metrics.Config{GroupBy: group, MaxSeries: cfg.metricsMax})
	if err != nil {
		return nil, nil, err
	}
	opts := metrics.ServerOptions{}
	if cfg.bugHunt {
		opts.ErrorLog = func(line string) { fmt.Fprintf(stderr, "hogs: metrics: %s\n", ui.Sanitized(line)) }
	}
	srv, err := metrics.Listen(cfg.listen, e, opts)
	if err != nil {
		return nil, nil, err
	}
	sink := monitor.SinkFunc(func(v *ui.View) error {
		p := &v.Pipeline
		e.PublishStats(&metrics.Stats{Attributor: p.Attributor, FlowsCreated: p.NewFlows, Lookups: []metrics.Lookup{
			{Method: "sock_diag", Count: p.Lookups}, {Method: "proc_net", Count: p.TableReads}, {Method: "fd_scan", Count: p.FDScans}}})
		e.Publish(v)
		return nil
	})
	return sink, func() { srv.Close() }, nil
}

// runText runs hogs in trace or JSON mode (or headless, serving metrics)
// until -c refreshes, a signal, or the end of a replayed file.
func runText(cfg config, stdout, stderr io.Writer) error {
	out := bufio.NewWriterSize(stdout, 64<<10)
	ctx, stop := signalContext()
	defer stop()
	if cfg.readFile != "" {
		src, filter, err := openReplay(cfg)
		if err != nil {
			return err
		}
		mc := monitorConfig(cfg, stderr)
		if filter != nil {
			mc.Filter = filter
		}
		return monitor.New(mc, src, nil, nil, textSink(cfg, out, stderr, nil)).Run(ctx)
	}
	startup := out
	if cfg.headless {
		startup = nil
	}
	// The endpoint first: a port in use is an error before anything else
	// is printed.
	ms, stopMetrics, err := metricsSink(cfg, stderr)
	if err != nil {
		return err
	}
	defer stopMetrics()
	run, err := openLive(cfg, startup, stderr, stderr)
	if err != nil {
		return err
	}
	defer run.closeAll()
	printWarnings(stderr, append(startupWarnings(seeingLive(cfg, run)), run.notes...))
	var sinks []monitor.Sink
	if !cfg.headless {
		sinks = append(sinks, textSink(cfg, out, stderr, &silentCapture{}))
	}
	if ms != nil {
		sinks = append(sinks, ms)
	}
	mc := monitorConfig(cfg, stderr)
	mc.Classify = run.classify
	return monitor.New(mc, run.src, run.attr, run.owners, sinks...).Run(ctx)
}

// openReplay opens -r's file and compiles -f for user space.
func openReplay(cfg config) (monitor.Source, *pcapfilter.Filter, error) {
	var filter *pcapfilter.Filter
	if cfg.filter != "" {
		prog, err := pcapfilter.Compile(cfg.filter, rawcap.SnapLen)
		if err == nil {
			filter, err = pcapfilter.NewFilter(prog)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	r, err := rawcap.OpenFile(cfg.readFile)
	if err != nil {
		return nil, nil, err
	}
	return &monitor.File{Reader: r, Name: cfg.readFile}, filter, nil
}

// liveRun is what openLive opened: the source the monitor reads (the
// capture, its frames tagged with their network namespace), the capture
// itself (its devices), the attributor, and what the monitor's connection
// table needs to count each byte once.
type liveRun struct {
	src      monitor.Source
	live     monitor.Live
	attr     monitor.Attributor
	owners   *flow.Owners
	classify func(flow.Key) conntable.Class // nil: every flow is local
	notes    []string                       // what the namespaces machinery cannot see
	// cgroupFallback: a socket whose process is not found goes to its
	// cgroup's row (proc.ResolverConfig.CgroupOwner).
	cgroupFallback bool
	closeAll       func()
}

// devices names the capture's devices.
func (r *liveRun) devices() []string { return r.live.Devices() }

// openLive opens the capture and the attributor: everything that can fail
// on a bad command line or missing privileges, before any screen is drawn.
// Start-up lines ("Adding local address", as nethogs prints them) go to
// startup (nil: none, as for the terminal UI). What the namespace
// machinery finds it cannot see after start goes to later (nil: none).
func openLive(cfg config, startup *bufio.Writer, stderr, later io.Writer) (*liveRun, error) {
	// Processes are labelled (container, pod, service) once, when first
	// registered, by whichever attributor finds them.
	label, cgroupOwner := labelling(cfg, stderr)
	run := &liveRun{owners: flow.NewLabelledOwners(label), cgroupFallback: cgroupOwner != nil}
	owners := run.owners
	rcfg := proc.ResolverConfig{FS: proc.NewFS(proc.DefaultRoot), OnlyPIDs: cfg.onlyPIDs, Owners: owners, CgroupOwner: cgroupOwner}
	// Every network namespace (not with -P, which names processes of
	// this one): frames on host-side veths are the peer namespace's, flows
	// are resolved there, and the connection table counts each byte once.
	// Set up first: whether host-side veths count (as
	// namespace boundaries) is decided when the capture opens.
	var (
		ns  *namespaces
		err error
	)
	if len(cfg.onlyPIDs) == 0 {
		ns, err = openNamespaces(owners, rcfg.FS, rcfg.CgroupOwner)
	} else {
		err = errors.New("-P names processes of this namespace")
	}
	if err != nil {
		ns = nil
		if cfg.bugHunt {
			fmt.Fprintf(stderr, "hogs: other network namespaces not followed: %v\n", ui.Sanitized(err.Error()))
		}
	}
	live, err := openCapture(cfg, startup, ns != nil)
	if err != nil {
		if ns != nil {
			ns.close()
		}
		return nil, err
	}
	if cfg.bugHunt {
		fmt.Fprintf(stderr, "hogs: capturing with %s\n", live.Mode())
	}
	run.live = monitor.Live{Live: live}
	run.src = run.live
	if ns != nil {
		ns.attach(run.live)
	}
	diag, err := proc.OpenSockDiag()
	if err == nil {
		rcfg.SockDiag = diag
	} else if cfg.bugHunt {
		fmt.Fprintf(stderr, "hogs: no sock_diag (%v): reading /proc/net tables instead\n", err)
	}
	resolver := monitor.Proc{Resolver: proc.NewResolver(rcfg)}
	// Socket-destroy events (no capability needed: sock_diag lets anyone
	// join its multicast groups): a closed socket's flow is never searched
	// for again.
	destroyed, err := proc.OpenDestroyWatcher()
	if err == nil {
		go resolver.FollowClosed(destroyed)
	} else if cfg.bugHunt {
		fmt.Fprintf(stderr, "hogs: no socket-destroy events (%v): closed sockets are told by a lookup\n", err)
	}
	closers := []func() error{live.Close}
	if diag != nil {
		closers = append(closers, diag.Close)
	}
	if destroyed != nil {
		closers = append(closers, destroyed.Close)
	}
	wrap := func(own monitor.Attributor) monitor.Attributor {
		if ns == nil {
			return own
		}
		return ns.wrap(own)
	}
	var attr monitor.Attributor = resolver
	// Kernel socket events first, /proc for the rest; -P filters by PID,
	// which only the /proc attributor does.
	switch {
	case cfg.noKernelEvents:
		attr = wrap(resolver)
	case len(cfg.onlyPIDs) > 0:
		resolver.Note = "-P attributes from /proc only"
		attr = resolver
	default:
		ke, err := kevents.Open(kevents.Config{Fallback: wrap(resolver), Owners: owners, FS: rcfg.FS})
		if err != nil {
			resolver.Note = "no kernel socket events: " + err.Error()
			attr = wrap(resolver)
			if cfg.bugHunt {
				fmt.Fprintf(stderr, "hogs: no kernel socket events (%v): attributing from /proc\n", ui.Sanitized(err.Error()))
			}
			break
		}
		// A connection the events have not filed yet when it is first
		// looked up (at its SYN) is theirs at the retry: the cgroup
		// fallback waits for it.
		resolver.Resolver.DeferCgroupOwners()
		if ns != nil {
			ns.deferCgroupOwners() // before start makes their resolvers
		}
		attr = ke
		// Closed first: its programs are detached before anything else.
		closers = append([]func() error{ke.Close}, closers...)
	}
	if ns != nil {
		run.src = ns.source()
		run.classify = ns.classify
		run.notes = ns.start(later)
		// Closed before the capture: its goroutine reads the scanner.
		closers = append([]func() error{ns.close}, closers...)
	}
	run.attr = attr
	run.closeAll = func() {
		for _, c := range closers {
			c()
		}
	}
	return run, nil
}

// seeingLive describes what the live capture and attributor can see, for
// startupWarnings.
func seeingLive(cfg config, run *liveRun) seeing {
	_, kernelEvents := run.attr.(*kevents.Attributor)
	s := seeing{procRoot: proc.DefaultRoot, plan: run.live.Plan(), all: cfg.all, named: len(cfg.devices) > 0, kernelEvents: kernelEvents,
		cgroupFallback: run.cgroupFallback}
	if !kernelEvents && kevents.BuiltIn && !cfg.noKernelEvents && len(cfg.onlyPIDs) == 0 {
		s.noKernelEvents = run.attr.Stats().Note
	}
	return s
}

// openCapture opens the live capture with the kernel filters -C and -f ask
// for, and puts devices in promiscuous mode for -p.
//
// With boundaries, a host-side veth whose peer is in another namespace
// counts (there) even as a bridge port (rawcap.Selection.Boundaries).
func openCapture(cfg config, out *bufio.Writer, boundaries bool) (*rawcap.Live, error) {
	var user []bpf.Instruction
	if cfg.filter != "" {
		var err error
		if user, err = pcapfilter.Compile(cfg.filter, rawcap.SnapLen); err != nil {
			return nil, err
		}
	}
	filter, err := rawcap.KernelFilter(rawcap.FilterOptions{UDP: cfg.udp, User: user})
	if err != nil {
		return nil, err
	}
	handshakes, err := rawcap.HandshakeFilter(rawcap.FilterOptions{User: user})
	if err != nil {
		return nil, err
	}
	live, err := rawcap.OpenLive(rawcap.LiveConfig{
		Filter:          filter,
		HandshakeFilter: handshakes,
		Selection:       rawcap.Selection{Names: cfg.devices, All: cfg.all, Boundaries: boundaries},
	})
	if err != nil {
		return nil, err
	}
	// Newest device (highest ifindex) first, as nethogs prints them.
	devices := live.Plan().Devices()
	for i := len(devices) - 1; i >= 0; i-- {
		d := devices[i]
		e, ok := live.Plan().Lookup(d.Index)
		if !ok || !e.Selected {
			continue
		}
		if cfg.promisc {
			if err := live.SetPromiscuous(d.Index, true); err != nil {
				live.Close()
				return nil, fmt.Errorf("%s: %w", d.Name, err)
			}
		}
		if cfg.json || out == nil {
			continue // the JSON stream holds refreshes only; the table shows devices in its footer
		}
		if !d.Up {
			continue // nethogs cannot open a device that is down and prints nothing for it; hogs counts it once it is up
		}
		for _, a := range d.Addrs {
			fmt.Fprintf(out, "Adding local address: %s\n", a.Addr())
		}
		fmt.Fprintf(out, "%s\n", d.LinkDescription())
	}
	if out == nil {
		return live, nil
	}
	return live, out.Flush()
}

// interactive runs the terminal table: the monitor refreshes in the
// background, the table shows the latest view and answers keys at once.
func interactive(cfg config, stderr io.Writer) error {
	ms, stopMetrics, err := metricsSink(cfg, stderr)
	if err != nil {
		return err
	}
	defer stopMetrics()
	run, err := openLive(cfg, nil, stderr, nil) // the table owns the terminal: notes go in its footer
	if err != nil {
		return err
	}
	defer run.closeAll()
	// Printed before the table takes the terminal, and in its footer.
	notes := append(startupWarnings(seeingLive(cfg, run)), run.notes...)
	printWarnings(stderr, notes)
	silent := &silentCapture{}
	updates := make(chan ui.View, 1)
	show := monitor.SinkFunc(func(v *ui.View) error {
		if note := silent.note(v, run.devices()); note != "" {
			notes = append(notes, note)
		}
		shown := *v // the view is shared with other sinks: notes go on a copy
		shown.Notes = notes
		// The newest view replaces one the table has not taken yet.
		for {
			select {
			case updates <- shown:
				return nil
			default:
				select {
				case <-updates:
				default:
				}
			}
		}
	})
	sinks := []monitor.Sink{show}
	if ms != nil {
		sinks = append(sinks, ms)
	}
	mc := monitorConfig(cfg, stderr)
	mc.Classify = run.classify
	if !cfg.noDNS && names.BuiltIn {
		// Reverse DNS for the remote-host and connection screens, off the
		// capture path (internal/names: bounded, rate-limited).
		dns := names.New(names.Config{})
		defer dns.Close()
		mc.Names = dns
	}
	ctx, cancel := signalContext()
	defer cancel()
	runErr := make(chan error, 1)
	go func() {
		err := monitor.New(mc, run.src, run.attr, run.owners, sinks...).Run(ctx)
		close(updates)
		runErr <- err
	}()
	st := ui.ViewState{Mode: ui.ViewMode(cfg.viewMode), Order: sortOrder(cfg), Cmdline: cfg.cmdline, Basename: cfg.basename,
		Title: "hogs " + version}
	st.Devices = run.devices()
	tuiErr := ui.RunTUI(ctx, updates, st)
	cancel()
	if err := <-runErr; err != nil {
		return err
	}
	if tuiErr != nil {
		return fmt.Errorf("%w; use -t or --json for text output", tuiErr)
	}
	return nil
}

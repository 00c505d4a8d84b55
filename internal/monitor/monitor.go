// Package monitor runs hogs's pipeline: frames from a Source are decoded
// and counted in the connection table, an Attributor finds the process
// owning each new flow, and at every refresh the table becomes an
// immutable view (ui.View) that every Sink is shown.
//
// The contract:
//   - Run owns its goroutines: the capture loop (the only reader of the
//     Source), the handshake watcher of a live source, the resolver, and
//     the refresh loop that builds views and calls the sinks in order, one
//     refresh at a time. It returns when the source ends (a file), after
//     Config.Count refreshes, when its context is cancelled, or on the
//     first error of the source or a sink; everything it started has
//     stopped by then.
//   - Live refreshes follow a Ticker; a replay's follow the file's own
//     clock, driven from outside the capture loop: the capture loop hands
//     the refresh loop each refresh time the frames cross and waits until
//     that refresh is done, so a replay's output depends on the file only.
//     Empty stretches of a file are skipped after MaxQuietRefreshes.
//   - Totals never decrease. Flows idle longer than Config.Idle leave the
//     table with their totals kept by their owner; owners whose process has
//     exited and whose last traffic is older than Config.Idle fold into one
//     row per program (flow.Owners.Fold), so memory and every view stay
//     bounded by what is live plus flow.MaxFolded rows.
//   - A flood cannot stall it: a flow's socket is looked up only once it
//     can have one (conntable.Adder.AddSeen, Table.LookupCandidates), the
//     connections this host opens first, within Config.LookupRate lookups
//     a second; the backlog is in the view and the -x line. A refresh's
//     cost follows what it shows (the table sums unresolved flows), and
//     Sweep, which visits every flow, runs at most every Idle/10.
//   - A view is never changed after it was published: sinks may keep it.
package monitor

import (
	"context"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/rawcap"
	"hogs/ui"
)

// Source delivers frames: a live capture or a capture file.
type Source interface {
	// Next fills f with the next frame. It returns io.EOF at the end of a
	// file and net.ErrClosed once Close was called; any other error ends
	// the run.
	Next(f *rawcap.Frame) error
	// Capture returns the source's counters since it opened. It may be
	// called while another goroutine is in Next.
	Capture() ui.CaptureStats
	// Close ends the source; a Next waiting for frames returns.
	Close() error
}

// HandshakeSource is a Source that also delivers TCP handshake packets on
// a faster path than its counted frames (see rawcap.Live.NextHandshake):
// they open flows at once, so their sockets are looked up while they
// exist. Those packets are counted when Next delivers them.
type HandshakeSource interface {
	Source
	NextHandshake(f *rawcap.Frame) error
}

// IdleNotifier is a Source that calls fn before it waits for frames, so the
// packets the capture loop holds are added to the table first.
type IdleNotifier interface {
	OnIdle(fn func())
}

// DeviceLister is a Source that monitors devices by name; they may come
// and go while it runs.
type DeviceLister interface {
	Devices() []string
}

// Attributor finds the owners of flows.
type Attributor interface {
	// Resolve writes the owner of each key's socket to owners (as long
	// as keys): flow.Unresolved where none is found (yet).
	Resolve(keys []flow.Key, owners []flow.Owner) error
	// Recheck looks again at flows resolved lately and calls changed for
	// each whose socket has another owner now; changed reports whether
	// the flow is still in the table.
	Recheck(changed func(flow.Key, flow.Owner) bool) error
	// Alive reports whether process p still runs.
	Alive(p flow.Process) bool
	// Stats counts the attributor's work.
	Stats() AttributionStats
}

// AttributionStats counts an attributor's work.
type AttributionStats struct {
	// Attributor names the method in use, e.g. "proc"; Note says why a
	// better one is not in use.
	Attributor, Note string
	// Lookups are socket lookups (sock_diag queries or /proc/net reads);
	// Scans are walks of processes' file descriptors; ScansInVain those
	// that ended without their socket because it had closed; Links the
	// descriptor links they read.
	Lookups, TableReads, Scans uint64
	ScansInVain, Links         uint64
}

// Sink shows refreshes: it is called from the refresh loop, one view at a
// time, in order. A view must not be changed; it may be kept.
type Sink interface {
	Show(v *ui.View) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(v *ui.View) error

// Show calls f.
func (f SinkFunc) Show(v *ui.View) error { return f(v) }

// Ticker wakes the live refresh loop.
type Ticker interface {
	// Wait blocks until the next tick; false once Stop was called.
	Wait() bool
	// Stop ends the ticks, also a Wait in progress.
	Stop()
}

// Config sets up a Monitor.
type Config struct {
	// Interval is the time between refreshes (-d); capture time for a
	// replay.
	Interval time.Duration
	// Count ends the run after this many refreshes; 0 runs on.
	Count int
	// Idle is how long a flow may be idle before it expires (--idle), and
	// how long an exited process's row stays before it folds.
	Idle time.Duration
	// UDP counts UDP as well as TCP (-C).
	UDP bool
	// Order is the order of the view's rows.
	Order ui.SortOrder
	// Replay times frames by their timestamps and refreshes on the file's
	// clock; otherwise refreshes follow Ticker and frames the monotonic
	// clock.
	Replay bool
	// Filter, if set, keeps only the frames it matches (a replay's -f; a
	// live capture filters in the kernel).
	Filter interface{ Match(pkt []byte) bool }
	// MaxFlows caps the connection table (0: conntable's default).
	MaxFlows int
	// Classify, if set, decides what each new flow is before its bytes
	// show (conntable.Config.Classify): forwarded flows go to the owners'
	// Forwarded row, flows counted at a namespace boundary count once.
	Classify func(k flow.Key) conntable.Class
	// LookupRate bounds the socket lookups per second (0:
	// DefaultLookupRate): a flood of new flows cannot keep the resolver
	// busy. New connections of local sockets go first, then flows with
	// packets both ways; flows that cannot have a local socket are never
	// looked up (see conntable.Table.LookupCandidates).
	LookupRate int
	// NewTicker makes the live refresh ticker (nil: a timerfd).
	NewTicker func(every time.Duration) (Ticker, error)
	// Now is the monotonic clock in nanoseconds (nil: time since Run
	// started).
	Now func() int64
	// WallNow stamps views (nil: time.Now).
	WallNow func() time.Time
	// Names, if set, gives the host names of remote addresses for the
	// views (reverse DNS); it must not block.
	Names interface {
		Name(netip.Addr) (string, bool)
	}
	// Log receives diagnostics (-x): capture and resolver counters at
	// each refresh, resolver errors. Nil: none.
	Log io.Writer
}

// Monitor is one run of the pipeline.
type Monitor struct {
	cfg    Config
	src    Source
	attr   Attributor // nil: every flow stays unresolved (a replay)
	owners *flow.Owners
	sinks  []Sink
	table  *conntable.Table
	adder  *conntable.Adder // the capture loop's

	start    time.Time
	newFlows chan lookupRequest
	// resolving serialises the attributor between the resolver goroutine
	// and the refresh loop's retries; the fields after it are under it.
	resolving sync.Mutex
	found     []flow.Owner
	retryKeys []flow.Key
	lastRetry int64
	retried   bool
	budget    lookupBudget
	// backlog is the flows left waiting by the last retry pass plus
	// new ones the budget turned away since; hopeless the unresolved
	// flows not worth a lookup at the last pass.
	backlog, hopeless atomic.Int64

	logMu sync.Mutex

	intervals  ui.Intervals
	lastSweep  int64
	swept      bool
	lastFold   int64
	foldedInto map[flow.Owner]flow.Owner // the last fold pass's
	folded     atomic.Uint64
	latest     atomic.Pointer[ui.View]
	refreshes  int
}

// New returns a Monitor reading src, attributing flows with attr (nil for
// none) whose processes attr numbers in owners (nil: a registry of its
// own), and showing refreshes to sinks.
func New(cfg Config, src Source, attr Attributor, owners *flow.Owners, sinks ...Sink) *Monitor {
	if owners == nil {
		owners = flow.NewOwners()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Idle <= 0 {
		cfg.Idle = 50 * time.Second
	}
	if cfg.WallNow == nil {
		cfg.WallNow = time.Now
	}
	if cfg.LookupRate <= 0 {
		cfg.LookupRate = DefaultLookupRate
	}
	if cfg.NewTicker == nil {
		cfg.NewTicker = func(every time.Duration) (Ticker, error) { return newRefreshTicker(every) }
	}
	m := &Monitor{
		cfg:      cfg,
		src:      src,
		attr:     attr,
		owners:   owners,
		sinks:    sinks,
		table:    newTable(cfg, owners),
		newFlows: make(chan lookupRequest, 4096),
	}
	m.adder = m.table.NewAdder()
	m.budget = lookupBudget{rate: cfg.LookupRate}
	if m.cfg.Now == nil {
		m.cfg.Now = func() int64 { return int64(time.Since(m.start)) }
	}
	return m
}

// newTable makes the connection table, with the forwarded row's owner
// registered when flows are classified.
func newTable(cfg Config, owners *flow.Owners) *conntable.Table {
	tc := conntable.Config{MaxFlows: cfg.MaxFlows, Classify: cfg.Classify}
	if cfg.Classify != nil {
		tc.Forwarded = owners.Forwarded()
	}
	return conntable.New(tc)
}

// Latest returns the newest view published, nil before the first refresh.
func (m *Monitor) Latest() *ui.View { return m.latest.Load() }

// Run runs the pipeline until it ends (see the package documentation). The
// source is closed when Run returns.
func (m *Monitor) Run(ctx context.Context) error {
	m.start = time.Now()
	defer m.src.Close()
	if m.cfg.Replay {
		return m.runReplay(ctx)
	}
	return m.runLive(ctx)
}

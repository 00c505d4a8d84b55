// Package metrics is hogs's Prometheus endpoint: a sink of the monitor
// that turns each refresh's view into counters and renders them, on
// scrape, in the Prometheus text exposition format (0.0.4) or in
// OpenMetrics 1.0 when the scraper's Accept header asks for it.
//
// The refresh loop hands over each view with Publish and the monitor's own
// counters with PublishStats: both are one atomic pointer store, so the
// capture and refresh paths never wait for a scrape. A scrape takes the
// latest view, accounts it (under a lock only scrapes take), renders, and
// writes. Counters never decrease, whatever happens to rows between views
// (processes folded into their exited row, flows changing owner, groups
// going idle); see ledger. Cardinality is bounded: at most MaxSeries
// groups have series (the smallest fold into kind="other"), groups idle
// for IdleAfter lose theirs, and label values are short, valid UTF-8 and
// escaped.
//
// The HTTP server (Listen, Handler) is left out by the hogs_small build
// tag; Listen then fails with ErrNotBuiltIn.
package metrics

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"hogs/internal/flow"
	"hogs/ui"
)

// ErrNotBuiltIn is Listen's error in a build without the HTTP server
// (the hogs_small tag).
var ErrNotBuiltIn = errors.New("--listen: metrics endpoint not built in (this hogs was built with the hogs_small tag)")

// Defaults of Config.
const (
	DefaultMaxSeries = 500
	DefaultIdleAfter = 10 * time.Minute
	// MinMaxSeries leaves room for unknown, forwarded, other and one
	// process group.
	MinMaxSeries = 4
)

// Config sets up an Exporter. The zero Config is the defaults.
type Config struct {
	// GroupBy chooses the labels of the per-group series; 0 means
	// DefaultGroupBy (program, user, container).
	GroupBy GroupBy
	// MaxSeries bounds the groups with series of their own (each has one
	// series per direction in hogs_traffic_bytes_total and
	// hogs_traffic_packets_total), unknown, forwarded and other included;
	// 0 means DefaultMaxSeries.
	MaxSeries int
	// IdleAfter is how long a group may move no traffic before its series
	// are dropped; 0 means DefaultIdleAfter. Its counters resume where
	// they stopped if it moves traffic again while still remembered.
	IdleAfter time.Duration
	// ContainerOf names a process's container or service, the value of
	// the container label; nil means ContainerName (the name its Label
	// gives).
	ContainerOf func(*flow.Process) string
}

// ContainerName is the default container label of a process: a
// Kubernetes pod's NAMESPACE/POD where known, else its container's name
// (Docker's name, else the short ID) or its systemd service
// ("nginx.service"); "" (the label left out) for neither.
func ContainerName(p *flow.Process) string {
	if l := &p.Label; l.Pod != "" {
		return l.Namespace + "/" + l.Pod
	}
	return p.Label.Name
}

// Stats are the monitor's own counters, filled by the monitor (the view
// does not carry them). Counts are totals since hogs started.
type Stats struct {
	// Attributor names the attributor in use, e.g. "sock_diag",
	// "procfs", "kernel-events"; "" for none (a replay).
	Attributor string
	// Lookups counts the attributor's lookups by method, e.g.
	// {"sock_diag", n}, {"proc_net", n}, {"fd_scan", n}.
	Lookups []Lookup
	// FlowsCreated counts the flows ever added to the table
	// (conntable.Snapshot.NewFlows).
	FlowsCreated uint64
}

// Lookup is one attribution method's count.
type Lookup struct {
	Method string
	Count  uint64
}

// Exporter is the metrics sink. Publish and PublishStats may be called
// from one goroutine while any number of others scrape.
type Exporter struct {
	view  atomic.Pointer[ui.View]
	stats atomic.Pointer[Stats]

	mu        sync.Mutex // scrapes only
	ledger    *ledger
	extern    externCounters
	lastView  *ui.View
	lastStats *Stats
	clock     func() time.Time
}

// New returns an Exporter, or an error naming the setting that is wrong.
func New(cfg Config) (*Exporter, error) {
	if cfg.GroupBy == 0 {
		cfg.GroupBy = DefaultGroupBy
	}
	if cfg.MaxSeries == 0 {
		cfg.MaxSeries = DefaultMaxSeries
	}
	if cfg.MaxSeries < MinMaxSeries {
		return nil, fmt.Errorf("metrics max series %d: want at least %d (unknown, forwarded, other and one group)", cfg.MaxSeries, MinMaxSeries)
	}
	if cfg.IdleAfter == 0 {
		cfg.IdleAfter = DefaultIdleAfter
	}
	if cfg.IdleAfter < 0 {
		return nil, errors.New("metrics idle time: must be positive")
	}
	return &Exporter{ledger: newLedger(cfg), extern: newExternCounters(cfg.MaxSeries), clock: time.Now}, nil
}

// Publish hands over one refresh's view. The Exporter keeps v: the caller
// must not change it afterwards (a new View each refresh, as the monitor
// builds them).
func (e *Exporter) Publish(v *ui.View) { e.view.Store(v) }

// PublishStats hands over the monitor's counters; like Publish, it keeps s.
func (e *Exporter) PublishStats(s *Stats) { e.stats.Store(s) }

// Format is an exposition format.
type Format uint8

// The exposition formats.
const (
	FormatText        Format = iota // text/plain; version=0.0.4
	FormatOpenMetrics               // application/openmetrics-text; version=1.0.0
)

// ContentType is the format's Content-Type header.
func (f Format) ContentType() string {
	if f == FormatOpenMetrics {
		return "application/openmetrics-text; version=1.0.0; charset=utf-8"
	}
	return "text/plain; version=0.0.4; charset=utf-8"
}

// Scrape accounts the latest view (if it is new) and appends the
// exposition in format f to dst.
func (e *Exporter) Scrape(dst []byte, f Format) []byte {
	start := e.clock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if v := e.view.Load(); v != nil && v != e.lastView {
		e.ledger.add(v)
		e.extern.addView(v)
		e.lastView = v
	} else {
		e.ledger.flushCarry() // new series held their first traffic back for this scrape
	}
	if s := e.stats.Load(); s != nil && s != e.lastStats {
		e.extern.addStats(s)
		e.lastStats = s
	}
	return e.render(dst, f, start)
}

// ServerOptions bound what a client can make the server do; zero fields
// take the defaults.
type ServerOptions struct {
	// MaxScrapes is how many scrapes may run at once; more get 503.
	// Default 4.
	MaxScrapes int
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are
	// http.Server's. Defaults 5 s, 10 s, 30 s, 60 s.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ErrorLog receives the server's errors (a client that hung up, a
	// malformed request), one line each; nil drops them. They never stop
	// the capture.
	ErrorLog func(string)
}

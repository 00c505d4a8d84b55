// Package names finds the host names of remote addresses (reverse DNS) in
// the background, for the table's remote-host and connection screens.
//
// The contract: Name never blocks and never does I/O; it answers from a
// cache and queues an address it has not seen. Lookups run on a few
// goroutines of their own, at most Config.PerSecond a second, each bounded
// by Config.Timeout; an address whose lookup failed shows as the address
// (Name reports false) until its negative entry expires. The cache holds
// at most Config.MaxEntries addresses, the queue at most Config.MaxQueued
// (further addresses wait for a later refresh): memory stays bounded
// whatever the traffic. Names are what DNS says; callers sanitize them
// before showing them.
package names

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Config sets the limits; zero fields take the defaults.
type Config struct {
	// Lookup finds the names of an address (nil: net.DefaultResolver's
	// LookupAddr).
	Lookup func(ctx context.Context, addr string) ([]string, error)
	// PerSecond bounds lookups a second (default 10); Workers how many
	// run at once (default 2); Timeout each one (default 2 s).
	PerSecond, Workers int
	Timeout            time.Duration
	// MaxEntries bounds the cache (default 4096), MaxQueued the addresses
	// waiting (default 256).
	MaxEntries, MaxQueued int
	// TTL is how long a name is kept (default 10 min), NegativeTTL a
	// failure (default 1 min).
	TTL, NegativeTTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// maxNameLen is the longest DNS name (RFC 1035); longer answers are cut.
const maxNameLen = 253

type entry struct {
	name    string // "" while pending or after a failure
	pending bool
	expires time.Time
}

// Resolver answers host names from its cache and looks up the rest.
type Resolver struct {
	cfg   Config
	mu    sync.Mutex
	cache map[netip.Addr]*entry
	order []netip.Addr // insertion order, for eviction
	queue chan netip.Addr
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

// New starts a Resolver; Close stops it.
func New(cfg Config) *Resolver {
	if cfg.Lookup == nil {
		cfg.Lookup = systemLookup
	}
	if cfg.PerSecond <= 0 {
		cfg.PerSecond = 10
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 4096
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 256
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Resolver{cfg: cfg, cache: map[netip.Addr]*entry{}, queue: make(chan netip.Addr, cfg.MaxQueued), stop: make(chan struct{})}
	// One token a 1/PerSecond, shared by the workers.
	tokens := make(chan struct{})
	r.wg.Go(func() {
		t := time.NewTicker(time.Second / time.Duration(cfg.PerSecond))
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				select {
				case tokens <- struct{}{}:
				case <-r.stop:
					return
				}
			}
		}
	})
	for range cfg.Workers {
		r.wg.Go(func() { r.work(tokens) })
	}
	return r
}

// Name returns the host name of a, if one is known. An address not seen
// before (or whose entry expired) is queued for a lookup.
func (r *Resolver) Name(a netip.Addr) (string, bool) {
	a = a.Unmap()
	now := r.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.cache[a]
	if e != nil && (e.pending || now.Before(e.expires)) {
		return e.name, e.name != ""
	}
	if !a.IsValid() || a.IsUnspecified() {
		return "", false
	}
	select {
	case r.queue <- a:
	default:
		return "", false // the queue is full: asked again at a later refresh
	}
	if e == nil {
		if len(r.order) >= r.cfg.MaxEntries {
			r.evictLocked()
		}
		e = &entry{}
		r.cache[a] = e
		r.order = append(r.order, a)
	}
	e.pending = true
	return e.name, e.name != ""
}

// evictLocked drops the oldest quarter of the cache (pending entries
// included: their answer is then dropped).
func (r *Resolver) evictLocked() {
	n := len(r.order) / 4
	for _, a := range r.order[:n] {
		delete(r.cache, a)
	}
	r.order = append(r.order[:0], r.order[n:]...)
}

func (r *Resolver) work(tokens <-chan struct{}) {
	for {
		var a netip.Addr
		select {
		case <-r.stop:
			return
		case a = <-r.queue:
		}
		select {
		case <-r.stop:
			return
		case <-tokens:
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
		names, err := r.cfg.Lookup(ctx, a.String())
		cancel()
		name := ""
		if err == nil && len(names) > 0 {
			name = strings.TrimSuffix(names[0], ".")
			if len(name) > maxNameLen {
				name = name[:maxNameLen]
			}
		}
		r.mu.Lock()
		if e := r.cache[a]; e != nil {
			e.name, e.pending = name, false
			ttl := r.cfg.TTL
			if name == "" {
				ttl = r.cfg.NegativeTTL
			}
			e.expires = r.cfg.Now().Add(ttl)
		}
		r.mu.Unlock()
	}
}

// Len is the number of addresses cached (pending ones included).
func (r *Resolver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cache)
}

// Close stops the lookups; Name still answers from the cache.
func (r *Resolver) Close() {
	r.once.Do(func() { close(r.stop) })
	r.wg.Wait()
}

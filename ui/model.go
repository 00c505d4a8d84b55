// Package ui turns the connection table's state into what hogs shows: a
// model of rows, one per process plus nethogs's "unknown TCP"/"unknown UDP"
// pseudo rows, and the writers that print it (nethogs-compatible trace
// text, JSON lines) or draw it (the terminal table). Every writer takes the
// same View; none of them reads the system. The table is Render into a
// Grid, which a terminal driver copies to the terminal: termbox on
// /dev/tty, or ui's own (term_*.go: ANSI output, key parser, raw mode) on
// standard input and output where /dev/tty cannot be opened, and on
// /dev/tty in the small build (hogs_small), which has no termbox.
package ui

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"hogs/internal/flow"

	"hogs/decode"
	"hogs/internal/conntable"
)

// The names of the pseudo rows of traffic no process owns, as nethogs
// names them.
const (
	UnknownTCPName = "unknown TCP"
	UnknownUDPName = "unknown UDP"
	// ForwardedName is the row of traffic the host only routes (no socket
	// on the machine has it): one row, all protocols, what the host
	// received.
	ForwardedName = flow.ForwardedName
)

// Row is one line of the table: a process, or a pseudo row.
type Row struct {
	flow.Process
	// Owner is the table's owner number of the process; 0 for pseudo rows.
	Owner flow.Owner
	// Pseudo is set for the rows of traffic no process owns: their Name is
	// "unknown TCP" or "unknown UDP" and PID 0.
	Pseudo bool
	// Device is where the row's first flow was seen.
	Device string
	// Sent and Recv are totals since hogs started, flows already gone
	// included.
	Sent, Recv flow.Counter
	// SentRate and RecvRate are bytes per second over the rate window.
	SentRate, RecvRate float64
	// SentInterval and RecvInterval are what the row moved since the
	// previous refresh (see Intervals).
	SentInterval, RecvInterval flow.Counter
	// Flows are the row's current connections, largest first: all of a
	// process's; of the pseudo rows, the conntable.UnknownDetail largest.
	Flows []conntable.FlowStat
	// EverSent and EverRecv are, for the unknown rows, all that arrived
	// while its flow had no owner, since start: unlike Sent and Recv they
	// keep what a flow took along when its owner was found, so they never
	// decrease (a counter of unknown traffic counts them).
	EverSent, EverRecv flow.Counter
	// RetiredOwnedSent and RetiredOwnedRecv are the part of the totals of
	// the row's gone flows that they moved before their owner was found
	// (conntable.Retired.OwnedSent): unknown traffic then.
	RetiredOwnedSent, RetiredOwnedRecv flow.Counter
	// FlowCount is how many connections the row has now, listed in Flows
	// or not.
	FlowCount int
	// Group is set on the rows of a grouped process list (the terminal
	// UI's c key): the row sums the Procs rows whose key under Group is
	// GroupKey (and, by user, whose UID is UID).
	Group    Grouping
	GroupKey string
	Procs    int
}

// CaptureStats are a capture source's counters, totals since it opened.
type CaptureStats struct {
	Source            string // "live" or the replayed file
	Mode              string // receive path, for live capture
	Received, Dropped uint64
	// Bytes are the wire bytes of the packets counted (a file: of every
	// frame read).
	Bytes uint64
	// Devices are the packets and wire bytes counted per device.
	Devices []DeviceStats
}

// PipelineStats count the monitor's own work, since it started.
type PipelineStats struct {
	// Attributor names how flows are attributed ("proc"; "" for none,
	// as in a replay); AttributorNote says why kernel socket events are
	// not in use, "" when they are or were not asked for.
	Attributor, AttributorNote string
	// Lookups are socket lookups (sock_diag queries), TableReads reads of
	// /proc/net tables, FDScans walks of processes' file descriptors;
	// of them, FDScansInVain ended without their socket because it had
	// closed meanwhile; FDLinks are the descriptor links they read.
	Lookups, TableReads, FDScans uint64
	FDScansInVain, FDLinks       uint64
	// Flows is the number of flows tracked now; NewFlows those ever added.
	Flows    int
	NewFlows uint64
	// Owners is the number of owners registered now; Folded the exited
	// processes folded into their programs' rows.
	Owners int
	Folded uint64
	// Unresolved is the number of flows without an owner now; of them,
	// LookupBacklog wait for a socket lookup the budget (LookupRate a
	// second) has no room for yet, and NotWorthLookup cannot have a local
	// socket (a flood's), so are never looked up.
	Unresolved, LookupBacklog, NotWorthLookup int
	LookupRate                                int
}

// DeviceStats are what one device contributed.
type DeviceStats struct {
	Name           string
	Packets, Bytes uint64
}

// View is everything a writer shows for one refresh.
type View struct {
	Time time.Time
	// Mono is the refresh's time on the monitor's monotonic clock, the
	// clock of the flows' First and Last.
	Mono     int64
	Interval time.Duration
	Rows     []Row
	// Devices are the devices monitored at this refresh, which follow
	// devices that appear and vanish; nil leaves the title and footer to
	// ViewState.Devices.
	Devices  []string
	Capture  []CaptureStats
	Pipeline PipelineStats
	// Notes are what hogs cannot see (no /proc, other users' processes,
	// a capture that sees nothing): one line each, shown in the table's
	// footer. Raw: sanitized when shown.
	Notes []string
	// HostNames are the host names known for remote addresses (reverse
	// DNS, unmapped addresses as keys); nil with -n. Raw: sanitized when
	// shown.
	HostNames map[netip.Addr]string
	Evictions uint64
}

// Intervals turns rows' running totals into per-refresh amounts. It
// remembers each row's totals from the previous refresh.
type Intervals struct {
	previous map[RowID][2]flow.Counter
}

// RowID identifies a row across refreshes: the owner number and the PID,
// and for pseudo rows (which have neither) the name.
type RowID struct {
	Owner flow.Owner
	PID   int
	Name  string // pseudo rows only; a group row's key
	// Group is set for a group row (Row.Group); its PID is then the uid
	// of a user's group.
	Group Grouping
}

// RowIDOf returns the identity of r.
func RowIDOf(r *Row) RowID {
	if r.Group != GroupProcess {
		return RowID{Group: r.Group, Name: r.GroupKey, PID: int(r.UID)}
	}
	id := RowID{Owner: r.Owner, PID: r.PID}
	if r.Pseudo {
		id.Name = r.Name
	}
	return id
}

// Fill sets SentInterval and RecvInterval of rows against the previous
// call's totals (a row new since then counts from zero).
func (iv *Intervals) Fill(rows []Row) {
	next := make(map[RowID][2]flow.Counter, len(rows))
	for i := range rows {
		r := &rows[i]
		id := RowIDOf(r)
		prev := iv.previous[id]
		r.SentInterval = r.Sent.Since(prev[0])
		r.RecvInterval = r.Recv.Since(prev[1])
		next[id] = [2]flow.Counter{r.Sent, r.Recv}
	}
	iv.previous = next
}

// Fold carries the totals remembered for owner from's row over to owner
// into's, as the monitor folds an exited process's row into its program's:
// the bytes moved are no new traffic in into's next interval.
func (iv *Intervals) Fold(from, into flow.Owner) {
	var moved [2]flow.Counter
	found := false
	for id, c := range iv.previous {
		if id.Owner == from {
			moved, found = c, true
			delete(iv.previous, id)
		}
	}
	if !found {
		return
	}
	for id, c := range iv.previous {
		if id.Owner == into {
			iv.previous[id] = [2]flow.Counter{c[0].Add(moved[0]), c[1].Add(moved[1])}
			return
		}
	}
	iv.previous[RowID{Owner: into}] = moved
}

// Owners maps the table's owner numbers to processes. Lookup of an owner
// the resolver no longer knows reports false; its traffic then shows in
// the unknown rows.
type Owners interface {
	Lookup(o flow.Owner) (flow.Process, bool)
}

// Build aggregates a table snapshot into rows: one per owning process, and
// one pseudo row per transport protocol for flows without an owner (the
// TCP one always, the UDP one when udp is set, as nethogs with -C), from
// the snapshot's per-protocol sums. Rows come sorted by the given order;
// see Sort. Its cost follows the owned flows and the rows, not the
// unresolved flows.
func Build(snap conntable.Snapshot, owners Owners, udp bool, order SortOrder) []Row {
	byOwner := map[flow.Owner]*Row{}
	var unknown [2]Row
	unknown[conntable.UnknownTCP].Name = UnknownTCPName
	unknown[conntable.UnknownUDP].Name = UnknownUDPName
	for i := range unknown {
		u, r := &snap.Unknown[i], &unknown[i]
		r.Pseudo = true
		r.Sent, r.Recv, r.SentRate, r.RecvRate = u.Sent, u.Recv, u.SentRate, u.RecvRate
		r.EverSent, r.EverRecv = u.EverSent, u.EverRecv
		r.Flows = slices.Clone(u.Largest)
		r.FlowCount = u.Flows
		if len(u.Largest) > 0 {
			r.Device = u.Largest[0].Device
		}
	}
	// rowFor is the row of owner o, or the unknown row of proto for an
	// owner the registry no longer knows.
	rowFor := func(o flow.Owner, proto uint8) *Row {
		if r := byOwner[o]; r != nil {
			return r
		}
		if p, ok := owners.Lookup(o); ok {
			r := &Row{Process: p, Owner: o, Pseudo: p.Forwarded}
			byOwner[o] = r
			return r
		}
		if proto == decode.ProtoUDP {
			return &unknown[conntable.UnknownUDP]
		}
		return &unknown[conntable.UnknownTCP]
	}
	for _, f := range snap.Flows {
		r := rowFor(f.Owner, f.Key.Proto)
		if r.Device == "" {
			r.Device = f.Device
		}
		r.Sent = r.Sent.Add(f.Sent)
		r.Recv = r.Recv.Add(f.Recv)
		r.SentRate += f.SentRate
		r.RecvRate += f.RecvRate
		r.Flows = append(r.Flows, f)
		r.FlowCount++
	}
	for o, ret := range snap.Retired {
		// An owner the registry forgot: its protocol is not kept; its
		// bytes go to the TCP row, which nethogs always shows.
		r := rowFor(o, decode.ProtoTCP)
		r.Sent = r.Sent.Add(ret.Sent)
		r.Recv = r.Recv.Add(ret.Recv)
		r.RetiredOwnedSent = r.RetiredOwnedSent.Add(ret.OwnedSent)
		r.RetiredOwnedRecv = r.RetiredOwnedRecv.Add(ret.OwnedRecv)
	}
	rows := make([]Row, 0, len(byOwner)+2)
	for _, r := range byOwner {
		rows = append(rows, *r)
	}
	rows = append(rows, unknown[conntable.UnknownTCP])
	if u := &unknown[conntable.UnknownUDP]; udp || u.Sent.Packets+u.Recv.Packets > 0 {
		rows = append(rows, *u)
	}
	for i := range rows {
		slices.SortFunc(rows[i].Flows, conntable.CompareBySize)
	}
	Sort(rows, order, ModeKBps)
	return rows
}

// SortOrder picks the column rows are sorted by: the traffic columns
// largest first, PID and name in ascending order.
type SortOrder uint8

// The sort orders: nethogs sorts by received unless -s; the others are
// the terminal UI's (keys t, p, n).
const (
	SortRecv SortOrder = iota
	SortSent
	SortTotal // sent plus received
	SortPID
	SortName // the program's base name, then its path
)

// String is the order's name as the footer shows it.
func (o SortOrder) String() string {
	switch o {
	case SortSent:
		return "sent"
	case SortTotal:
		return "total"
	case SortPID:
		return "PID"
	case SortName:
		return "name"
	}
	return "received"
}

// Sort orders rows by the chosen column in the view mode's measure (rates
// for rate modes, totals otherwise), largest first, or by PID or name;
// ties go by PID, then name, so rows keep their places between refreshes.
// Pseudo rows sort like any other.
func Sort(rows []Row, order SortOrder, mode ViewMode) {
	slices.SortStableFunc(rows, func(a, b Row) int {
		as, ar := mode.Values(&a)
		bs, br := mode.Values(&b)
		return compareRows(order, &a, &b, as, ar, bs, br)
	})
}

// compareRows is Sort's comparison of rows a and b, whose numbers in the
// view mode are as, ar (sent, received) and bs, br; it returns early (a
// cmp.Or would compare the names every time).
func compareRows(order SortOrder, a, b *Row, as, ar, bs, br float64) int {
	var c int
	switch order {
	case SortSent:
		c = cmp.Compare(bs, as)
	case SortTotal:
		c = cmp.Compare(bs+br, as+ar)
	case SortPID:
	case SortName:
		c = strings.Compare(baseName(a.Name), baseName(b.Name))
	default:
		c = cmp.Compare(br, ar)
	}
	if c != 0 {
		return c
	}
	if c := cmp.Compare(a.PID, b.PID); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// ViewMode is nethogs's unit: what a row's numbers mean.
type ViewMode uint8

// The view modes, in nethogs's -v numbering, and bits/s as hogs's extra.
const (
	ModeKBps   ViewMode = iota // kB/s (1 kB = 1024 B)
	ModeKB                     // total kB
	ModeBytes                  // total bytes
	ModeMB                     // total MB
	ModeMBps                   // MB/s
	ModeGBps                   // GB/s
	ModeMbitps                 // Mbit/s (hogs only: 1 Mbit = 10^6 bits)
	ModeAuto                   // B/s, KiB/s, MiB/s ... per number (terminal UI only)
	modeCount
)

// NethogsModes is the number of modes nethogs has (-v 0..5).
const NethogsModes = 6

// Unit is the label nethogs prints for the mode.
func (m ViewMode) Unit() string {
	switch m {
	case ModeKBps:
		return "kB/s"
	case ModeKB:
		return "kB"
	case ModeBytes:
		return "bytes"
	case ModeMB:
		return "MB"
	case ModeMBps:
		return "MB/s"
	case ModeGBps:
		return "GB/s"
	case ModeMbitps:
		return "Mbit/s"
	case ModeAuto:
		return "/s"
	}
	return "?"
}

// Next is the mode after m in the TUI's `m` cycle.
func (m ViewMode) Next() ViewMode { return (m + 1) % modeCount }

// IsRate reports whether the mode shows rates rather than totals.
func (m ViewMode) IsRate() bool {
	return m == ModeKBps || m == ModeMBps || m == ModeGBps || m == ModeMbitps || m == ModeAuto
}

// Values returns a row's sent and received numbers in the mode's unit.
func (m ViewMode) Values(r *Row) (sent, recv float64) {
	switch m {
	case ModeKBps:
		return r.SentRate / 1024, r.RecvRate / 1024
	case ModeKB:
		return float64(r.Sent.Bytes) / 1024, float64(r.Recv.Bytes) / 1024
	case ModeBytes:
		return float64(r.Sent.Bytes), float64(r.Recv.Bytes)
	case ModeMB:
		return float64(r.Sent.Bytes) / (1 << 20), float64(r.Recv.Bytes) / (1 << 20)
	case ModeMBps:
		return r.SentRate / (1 << 20), r.RecvRate / (1 << 20)
	case ModeGBps:
		return r.SentRate / (1 << 30), r.RecvRate / (1 << 30)
	case ModeMbitps:
		return r.SentRate * 8 / 1e6, r.RecvRate * 8 / 1e6
	case ModeAuto:
		return r.SentRate, r.RecvRate
	}
	return 0, 0
}

// formatAddrPort writes an address and port the way nethogs does: the
// address as inet_ntop prints it, a colon, the port (no brackets for IPv6).
func formatAddrPort(b []byte, ap netip.AddrPort) []byte {
	b = ap.Addr().Unmap().AppendTo(b)
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(ap.Port()), 10)
}

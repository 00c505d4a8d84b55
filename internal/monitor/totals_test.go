package monitor

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"hogs/decode"
	"hogs/internal/flow"
	"hogs/rawcap"
	"hogs/ui"
)

// shiftingAttributor finds for a flow the process the test says owns its
// local port at the time (none: the flow stays unresolved), and on Recheck
// moves the flows it resolved to the port's current process, as a socket
// handed on to another process is. It notes the rows such a move may take
// bytes from (moved): unknown TCP or UDP by name, a process by PID.
type shiftingAttributor struct {
	owners   *flow.Owners
	mu       sync.Mutex
	pidOf    map[uint16]int // local port → PID; absent: no socket found
	exited   map[int]bool
	resolved map[flow.Key]int
	moved    map[any]bool
}

var _ Attributor = (*shiftingAttributor)(nil)

func newShiftingAttributor(owners *flow.Owners) *shiftingAttributor {
	return &shiftingAttributor{owners: owners, pidOf: map[uint16]int{}, exited: map[int]bool{}, resolved: map[flow.Key]int{}, moved: map[any]bool{}}
}

func (a *shiftingAttributor) intern(pid int) flow.Owner {
	return a.owners.Intern(flow.Process{PID: pid, StartTime: 1, Name: progName(pid), UID: 1000, User: "u"})
}

func (a *shiftingAttributor) Resolve(keys []flow.Key, owners []flow.Owner) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, k := range keys {
		owners[i] = flow.Unresolved
		if pid, ok := a.pidOf[k.Local.Port()]; ok && !a.exited[pid] {
			owners[i] = a.intern(pid)
			a.resolved[k] = pid
			a.moved[unknownName(k.Proto)] = true
		}
	}
	return nil
}

func (a *shiftingAttributor) Recheck(changed func(flow.Key, flow.Owner) bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, pid := range a.resolved {
		now, ok := a.pidOf[k.Local.Port()]
		if !ok || now == pid || a.exited[now] {
			continue
		}
		a.resolved[k] = now
		a.moved[pid] = true
		if !changed(k, a.intern(now)) {
			delete(a.resolved, k)
		}
	}
	return nil
}

func (a *shiftingAttributor) Alive(p flow.Process) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.exited[p.PID]
}

func (a *shiftingAttributor) Stats() AttributionStats {
	return AttributionStats{Attributor: "shifting"}
}

// takeMoved returns and forgets the rows moves took bytes from.
func (a *shiftingAttributor) takeMoved() map[any]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.moved
	a.moved = map[any]bool{}
	return m
}

func unknownName(proto uint8) string {
	if proto == decode.ProtoUDP {
		return "unknown UDP"
	}
	return "unknown TCP"
}

// set gives port to process pid (0: to none).
func (a *shiftingAttributor) set(port uint16, pid int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if pid == 0 {
		delete(a.pidOf, port)
	} else {
		a.pidOf[port] = pid
	}
}

func (a *shiftingAttributor) exit(pid int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.exited[pid] = true
}

// segment is a raw IPv4 TCP or UDP packet between local port lport and
// remote port rport, sent (out) or received, a TCP reset if rst.
func segment(proto uint8, lport, rport uint16, out, rst bool, wire int, ts time.Time) rawcap.Frame {
	f := tcpFrame(lport, out, wire, ts)
	b := f.Data
	b[9] = proto
	if out {
		binary.BigEndian.PutUint16(b[22:], rport)
	} else {
		binary.BigEndian.PutUint16(b[20:], rport)
	}
	if rst {
		b[33] = decode.TCPRst
	}
	return f
}

// TestTotalsNeverDecrease drives the monitor with random traffic (TCP and
// UDP, both directions, resets, a small flow cap so flows are evicted, a
// short idle time so they expire), owners found late, sockets handed on to
// other processes, processes exiting and folding, and a small lookup
// budget; after every refresh all rows add up to exactly the traffic sent
// (nothing lost, nothing counted twice), and each row's totals (packets
// and bytes, each way) are at least what that row showed before, unless a
// flow's owner was found or changed meanwhile and took its bytes from the
// row (the unknown TCP row, the process that handed the socket on). UDP
// flows never find an owner here, so the unknown UDP row must never go
// down. Run it under -race: the resolver goroutine works meanwhile.
func TestTotalsNeverDecrease(t *testing.T) {
	var attr *shiftingAttributor
	r := startLiveWith(t, Config{Idle: 3 * time.Second, MaxFlows: 128, UDP: true, LookupRate: 20},
		func(o *flow.Owners) Attributor { attr = newShiftingAttributor(o); return attr })
	rnd := rand.New(rand.NewPCG(14, 2026))
	ts := time.Unix(1_700_000_000, 0)
	var want [2]flow.Counter // sent, received
	prev := map[ui.RowID][2]flow.Counter{}
	// Rows a move took bytes from since the previous refresh; a move the
	// resolver goroutine makes after a snapshot shows one refresh later.
	var movedBefore map[any]bool
	nextPID := 100
	refreshes := 0
	for step := range 400 {
		var frames []rawcap.Frame
		for range 1 + rnd.IntN(40) {
			proto := decode.ProtoTCP
			if rnd.IntN(4) == 0 {
				proto = decode.ProtoUDP
			}
			lport := uint16(1000 + rnd.IntN(48))
			if proto == decode.ProtoUDP {
				lport = uint16(2000 + rnd.IntN(16)) // no process ever
			}
			rport := uint16(rnd.IntN(300)) // many remote ports: many flows
			out := rnd.IntN(2) == 0
			rst := proto == decode.ProtoTCP && out && rnd.IntN(5) == 0
			wire := 60 + rnd.IntN(1400)
			frames = append(frames, segment(proto, lport, rport, out, rst, wire, ts))
			i := 1
			if out {
				i = 0
			}
			want[i].Packets++
			want[i].Bytes += uint64(wire)
		}
		r.src.send(frames...)
		switch rnd.IntN(6) {
		case 0: // a port's socket is found, or handed on to a new process
			nextPID++
			attr.set(uint16(1000+rnd.IntN(48)), nextPID)
		case 1: // a process exits
			attr.exit(100 + rnd.IntN(nextPID-99))
		case 2: // a port's socket closes
			attr.set(uint16(1000+rnd.IntN(48)), 0)
		}
		if rnd.IntN(3) != 0 {
			continue
		}
		d := []time.Duration{300 * time.Millisecond, time.Second, 4 * time.Second, foldEvery}[rnd.IntN(4)]
		v := r.refresh(t, d)
		refreshes++
		moved := attr.takeMoved()
		mayDrop := func(row *ui.Row) bool {
			key := any(row.PID)
			if row.Pseudo {
				key = row.Name
			}
			return moved[key] || movedBefore[key]
		}
		movedBefore = moved
		var sum [2]flow.Counter
		next := map[ui.RowID][2]flow.Counter{}
		for i := range v.Rows {
			row := &v.Rows[i]
			id := ui.RowIDOf(row)
			cur := [2]flow.Counter{row.Sent, row.Recv}
			if p, ok := prev[id]; ok && !mayDrop(row) {
				for j := range cur {
					if cur[j].Packets < p[j].Packets || cur[j].Bytes < p[j].Bytes {
						t.Fatalf("step %d: row %q (%+v) went down from %+v to %+v", step, row.Name, id, p, cur)
					}
				}
			}
			next[id] = cur
			sum[0], sum[1] = sum[0].Add(row.Sent), sum[1].Add(row.Recv)
		}
		if sum != want {
			t.Fatalf("step %d: rows add up to %+v, want the traffic sent %+v", step, sum, want)
		}
		prev = next
	}
	last := r.m.Latest()
	t.Logf("%d refreshes; %d evictions; last view: %d rows", refreshes, last.Evictions, len(last.Rows))
	if refreshes < 50 || last.Evictions == 0 {
		t.Errorf("%d refreshes and %d evictions: the test did not exercise what it means to", refreshes, last.Evictions)
	}
}

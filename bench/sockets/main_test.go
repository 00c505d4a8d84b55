//go:build linux

package main

import (
	"slices"
	"testing"

	"hogs/bench/internal/trace"
	"hogs/internal/netlab"
)

func TestConns(t *testing.T) {
	final := trace.Block{
		Rows: []trace.Row{{Name: "c/42/0", PID: 42, Sent: 10, Recv: 5}, {Name: "unknown TCP/0/0", Sent: 3, Recv: 4}},
		Conns: []trace.Conn{
			{Local: "10.91.0.1:5000", Remote: "10.91.0.2:9300", PID: 42, Bytes: 15},
			{Local: "10.91.0.1:5001", Remote: "10.91.0.2:9300", PID: 0, Bytes: 7},
			{Local: "10.91.0.1:5003", Remote: "10.91.0.2:9300", PID: 43, Bytes: 1},
		},
	}
	r := &result{final: final, newPID: 42, newPIDs: map[int]bool{42: true}, newLocals: map[string]bool{"10.91.0.1:5000": true, "10.91.0.1:5001": true, "10.91.0.1:5002": true, "10.91.0.1:5003": true}}
	if c := r.conns(); c != (connCount{attributed: 1, unknown: 1, other: 1, missing: 1, bytes: 23}) {
		t.Errorf("conns() = %+v", c)
	}
}

// TestConnsContainers: with a client per container, a connection under
// any client's PID is attributed, and a client's address is found at
// either end (a monitor may take the server's end for the local one).
func TestConnsContainers(t *testing.T) {
	final := trace.Block{Conns: []trace.Conn{
		{Local: "10.93.1.2:5000", Remote: "10.94.0.2:9300", PID: 42, Bytes: 15},
		{Local: "10.94.0.2:9300", Remote: "10.93.1.3:5000", PID: 44, Bytes: 7},
		{Local: "10.94.0.2:9300", Remote: "10.93.1.4:5000", PID: 0, Bytes: 1},
		{Local: "10.94.0.2:9100", Remote: "10.93.1.4:6000", PID: 0, Bytes: 100}, // an idle connection
	}}
	r := &result{final: final, newPIDs: map[int]bool{42: true, 44: true},
		newLocals: map[string]bool{"10.93.1.2:5000": true, "10.93.1.3:5000": true, "10.93.1.4:5000": true, "10.93.1.5:5000": true}}
	if c := r.conns(); c != (connCount{attributed: 2, unknown: 1, missing: 1, bytes: 23}) {
		t.Errorf("conns() = %+v", c)
	}
}

func TestSpread(t *testing.T) {
	if got := spread(20000, 50); len(got) != 50 || got[0] != 400 || got[49] != 400 {
		t.Errorf("spread(20000, 50) = %v", got)
	}
	if got := spread(10, 4); !slices.Equal(got, []int{3, 3, 2, 2}) {
		t.Errorf("spread(10, 4) = %v", got)
	}
}

func TestChunks(t *testing.T) {
	if got := chunks(20000, 10000); !slices.Equal(got, []int{10000, 10000}) {
		t.Errorf("chunks(20000, 10000) = %v", got)
	}
	if got := chunks(25000, 10000); !slices.Equal(got, []int{10000, 10000, 5000}) {
		t.Errorf("chunks(25000, 10000) = %v", got)
	}
	if got := chunks(0, 10000); len(got) != 0 {
		t.Errorf("chunks(0, 10000) = %v", got)
	}
}

// TestProcsShare: phase 5's share counts only the rows of the launched
// processes, by PID, over the wire bytes.
func TestProcsShare(t *testing.T) {
	r := &result{
		procPIDs:   map[int]bool{101: true, 102: true, 103: true},
		procsWire:  netlab.Counters{RxBytes: 600, TxBytes: 400},
		procsFinal: trace.Block{Rows: []trace.Row{{Name: "c/101/0", PID: 101, Sent: 300, Recv: 100}, {Name: "c/102/0", PID: 102, Sent: 200, Recv: 100}, {Name: "other/7/0", PID: 7, Sent: 50}, {Name: "unknown TCP/0/0", Sent: 250}}},
	}
	if got := r.procsOwned(); got != 700 {
		t.Errorf("procsOwned() = %v, want 700", got)
	}
	if got := r.procsShare(); got != 70 {
		t.Errorf("procsShare() = %v, want 70", got)
	}
}

// TestServiceShares: with -service, a connection under the service's row
// (hogs's cgroup fallback, PID 0) counts on the service, not as unknown,
// and the shares split the bytes between the client's row, the service's
// row and unknown; phase 5's are what it added, over its wire bytes.
func TestServiceShares(t *testing.T) {
	svc := &netlab.ServiceCgroup{Unit: "hogs-bench-1.service"}
	final := trace.Block{
		Rows: []trace.Row{{Name: "c/42/0", PID: 42, Sent: 50, Recv: 10}, {Name: "hogs-bench-1.service/0/0", Sent: 20, Recv: 10}, {Name: "unknown TCP/0/0", Sent: 6, Recv: 4}},
		Conns: []trace.Conn{
			{Local: "10.91.0.1:5000", Remote: "10.91.0.2:9300", PID: 42, Bytes: 60, Row: "c/42/0"},
			{Local: "10.91.0.1:5001", Remote: "10.91.0.2:9300", PID: 0, Bytes: 30, Row: "hogs-bench-1.service/0/0"},
			{Local: "10.91.0.1:5002", Remote: "10.91.0.2:9300", PID: 0, Bytes: 10, Row: "unknown TCP/0/0"},
		},
	}
	procs := trace.Block{Rows: append(slices.Clone(final.Rows),
		trace.Row{Name: "p/50/0", PID: 50, Sent: 100, Recv: 0}, trace.Row{Name: "p/51/0", PID: 51, Sent: 60, Recv: 0})}
	procs.Rows[1].Sent += 30 // the service's row: 30 more in phase 5
	procs.Rows[2].Sent += 10 // unknown: 10 more
	r := &result{svc: svc, final: final, procsFinal: procs, newPIDs: map[int]bool{42: true}, procPIDs: map[int]bool{50: true, 51: true},
		newLocals: map[string]bool{"10.91.0.1:5000": true, "10.91.0.1:5001": true, "10.91.0.1:5002": true}}
	r.procsWire.RxBytes = 200
	if c := r.conns(); c != (connCount{attributed: 1, service: 1, unknown: 1, bytes: 100}) {
		t.Errorf("conns() = %+v", c)
	}
	if p, s, u := r.newShares(); p != 60 || s != 30 || u != 10 {
		t.Errorf("newShares() = %v, %v, %v; want 60, 30, 10", p, s, u)
	}
	if p, s, u := r.procsShares(); p != 80 || s != 15 || u != 5 {
		t.Errorf("procsShares() = %v, %v, %v; want 80, 15, 5", p, s, u)
	}
}

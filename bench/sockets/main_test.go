//go:build linux

package main

import (
	"slices"
	"testing"

	"hogs/bench/internal/trace"
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
	r := &result{final: final, newPID: 42, newLocals: map[string]bool{"10.91.0.1:5000": true, "10.91.0.1:5001": true, "10.91.0.1:5002": true, "10.91.0.1:5003": true}}
	if c := r.conns(); c != (connCount{attributed: 1, unknown: 1, other: 1, missing: 1, bytes: 23}) {
		t.Errorf("conns() = %+v", c)
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

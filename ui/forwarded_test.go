package ui

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"hogs/internal/conntable"
	"hogs/internal/flow"
)

// TestForwardedRow: the owner of forwarded traffic (flow.Owners.Forwarded)
// is a pseudo row named "forwarded": trace prints it as nethogs prints its
// pseudo rows (forwarded/0/0), JSON in forwarded[], not among processes or
// unknown rows.
func TestForwardedRow(t *testing.T) {
	owners := flow.NewOwners()
	fwd := owners.Forwarded()
	if owners.Forwarded() != fwd {
		t.Fatal("Forwarded registered twice")
	}
	snap := conntable.Snapshot{
		Flows: []conntable.FlowStat{
			{Key: flowKey(6, "192.0.2.7:40000", "198.51.100.1:443"), Owner: fwd, Device: "vU", Recv: flow.Counter{Packets: 3, Bytes: 3000}},
			{Key: flowKey(17, "198.51.100.1:53", "192.0.2.7:5353"), Owner: fwd, Device: "vC", Recv: flow.Counter{Packets: 1, Bytes: 100}},
		},
		Retired: map[flow.Owner]conntable.Retired{fwd: {Recv: flow.Counter{Packets: 1, Bytes: 500}, Flows: 1}},
	}
	v := View{Rows: Build(snap, owners, false, SortRecv)}
	var row *Row
	for i := range v.Rows {
		if v.Rows[i].Name == ForwardedName {
			row = &v.Rows[i]
		}
	}
	if row == nil || !row.Pseudo || row.Recv.Bytes != 3600 || row.Sent.Bytes != 0 || row.FlowCount != 2 || row.PID != 0 {
		t.Fatalf("forwarded row %+v", row)
	}
	var trace bytes.Buffer
	if err := WriteTrace(&trace, &v, TraceOptions{Mode: ModeBytes}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(trace.String(), "\nforwarded/0/0\t0\t3600\n") {
		t.Errorf("trace lacks forwarded/0/0 with 3600 received:\n%s", trace.String())
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, &v, JSONOptions{Connections: true}); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Processes []json.RawMessage
		Unknown   []struct{ Protocol string }
		Forwarded []struct {
			Received struct{ Total struct{ Bytes uint64 } }
			Count    int               `json:"connection_count"`
			Conns    []json.RawMessage `json:"connections"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Processes) != 0 || len(j.Unknown) != 1 || len(j.Forwarded) != 1 || j.Forwarded[0].Received.Total.Bytes != 3600 ||
		j.Forwarded[0].Count != 2 || len(j.Forwarded[0].Conns) != 2 {
		t.Errorf("JSON %s", out.String())
	}
}

package ui

import (
	"encoding/json"
	"hogs/internal/flow"
	"io"
	"time"

	"hogs/decode"
	"hogs/internal/conntable"
)

// JSONSchemaVersion is the "schema" field of every JSON line; it changes
// when a field changes meaning or goes away (new fields may appear within
// a version).
const JSONSchemaVersion = 1

// The JSON line, one per refresh (NDJSON). Field names are the schema the
// README documents; a test holds the two together.
type jsonRefresh struct {
	Schema       int             `json:"schema"`
	Time         string          `json:"time"`
	Interval     float64         `json:"interval_seconds"`
	Processes    []jsonProcess   `json:"processes"`
	Unknown      []jsonUnknown   `json:"unknown"`
	Forwarded    []jsonForwarded `json:"forwarded"`
	Capture      []jsonCapture   `json:"capture"`
	EvictedFlows uint64          `json:"evicted_flows"`
	Attribution  jsonAttribution `json:"attribution"`
}

type jsonAttribution struct {
	Attributor string `json:"attributor"`
	Note       string `json:"note"`
	// Backlog is the flows waiting for a socket lookup the lookup budget
	// has no room for yet.
	Backlog int `json:"lookup_backlog"`
}

type jsonCounter struct {
	Bytes   uint64 `json:"bytes"`
	Packets uint64 `json:"packets"`
}

type jsonTraffic struct {
	Interval jsonCounter `json:"interval"`
	Total    jsonCounter `json:"total"`
	Rate     float64     `json:"rate_bytes_per_second"`
}

type jsonProcess struct {
	PID         int               `json:"pid"`
	Exited      bool              `json:"exited"`
	Cgroup      string            `json:"cgroup"`
	Name        string            `json:"name"`
	Cmdline     []string          `json:"cmdline"`
	User        string            `json:"user"`
	UID         uint32            `json:"uid"`
	Device      string            `json:"device"`
	NSPID       int               `json:"ns_pid,omitempty"`    // absent when the same as pid, or unknown
	Container   *jsonContainer    `json:"container,omitempty"` // absent for no container
	Service     string            `json:"service,omitempty"`   // absent for none
	Sent        jsonTraffic       `json:"sent"`
	Received    jsonTraffic       `json:"received"`
	Connections *[]jsonConnection `json:"connections,omitempty"` // nil without --connections; else an array, [] when none
}

// jsonForwarded is the row of traffic the host only routes.
type jsonForwarded struct {
	Sent            jsonTraffic       `json:"sent"`
	Received        jsonTraffic       `json:"received"`
	ConnectionCount int               `json:"connection_count"`
	Connections     *[]jsonConnection `json:"connections,omitempty"`
}

// jsonContainer is a process's container (flow.Label): the Kubernetes
// fields only for a pod's.
type jsonContainer struct {
	ID        string `json:"id,omitempty"` // absent for a pod's own cgroup
	Name      string `json:"name"`
	Runtime   string `json:"runtime"`
	PodUID    string `json:"pod_uid,omitempty"`
	Pod       string `json:"pod,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

type jsonUnknown struct {
	Protocol string      `json:"protocol"`
	Sent     jsonTraffic `json:"sent"`
	Received jsonTraffic `json:"received"`
	// ConnectionCount is how many connections the row has; Connections
	// lists the largest conntable.UnknownDetail of them.
	ConnectionCount int               `json:"connection_count"`
	Connections     *[]jsonConnection `json:"connections,omitempty"`
}

type jsonConnection struct {
	Protocol string      `json:"protocol"`
	Local    string      `json:"local"`
	Remote   string      `json:"remote"`
	Device   string      `json:"device"`
	Sent     jsonCounter `json:"sent"`
	Received jsonCounter `json:"received"`
	SentRate float64     `json:"sent_rate_bytes_per_second"`
	RecvRate float64     `json:"received_rate_bytes_per_second"`
}

type jsonCapture struct {
	Source  string       `json:"source"`
	Mode    string       `json:"mode,omitempty"`
	Packets uint64       `json:"packets"`
	Bytes   uint64       `json:"bytes"`
	Drops   uint64       `json:"drops"`
	Devices []jsonDevice `json:"devices"`
}

type jsonDevice struct {
	Device  string `json:"device"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// JSONOptions are the flags that change JSON output.
type JSONOptions struct {
	Connections bool // --connections: per-connection records
}

// WriteJSON writes one refresh as a JSON object on one line; with
// Connections, a process lists all its connections and an unknown row its
// largest conntable.UnknownDetail (connection_count says how many it has),
// so a line stays bounded under a flood. Strings from
// /proc are valid JSON whatever bytes they hold: invalid UTF-8 becomes
// U+FFFD, control characters are escaped.
func WriteJSON(w io.Writer, snap *View, opts JSONOptions) error {
	out := jsonRefresh{
		Schema:       JSONSchemaVersion,
		Time:         snap.Time.UTC().Format(time.RFC3339Nano),
		Interval:     snap.Interval.Seconds(),
		Processes:    []jsonProcess{},
		Unknown:      []jsonUnknown{},
		Forwarded:    []jsonForwarded{},
		Capture:      []jsonCapture{},
		EvictedFlows: snap.Evictions,
		Attribution: jsonAttribution{Attributor: snap.Pipeline.Attributor, Note: snap.Pipeline.AttributorNote,
			Backlog: snap.Pipeline.LookupBacklog},
	}
	for i := range snap.Rows {
		r := &snap.Rows[i]
		sent := jsonTraffic{Interval: counter(r.SentInterval), Total: counter(r.Sent), Rate: r.SentRate}
		recv := jsonTraffic{Interval: counter(r.RecvInterval), Total: counter(r.Recv), Rate: r.RecvRate}
		var conns *[]jsonConnection
		if opts.Connections {
			c := connections(r.Flows)
			conns = &c
		}
		if r.Pseudo && r.Name == ForwardedName {
			out.Forwarded = append(out.Forwarded, jsonForwarded{Sent: sent, Received: recv, ConnectionCount: r.FlowCount, Connections: conns})
			continue
		}
		if r.Pseudo {
			proto := "tcp"
			if r.Name == UnknownUDPName {
				proto = "udp"
			}
			out.Unknown = append(out.Unknown, jsonUnknown{Protocol: proto, Sent: sent, Received: recv,
				ConnectionCount: r.FlowCount, Connections: conns})
			continue
		}
		cmdline := r.Cmdline
		if cmdline == nil {
			cmdline = []string{}
		}
		p := jsonProcess{PID: r.PID, Exited: r.Exited, Cgroup: r.Cgroup, Name: r.Name, Cmdline: cmdline, User: r.User,
			UID: r.UID, Device: r.Device, Sent: sent, Received: recv, Connections: conns}
		if r.NSPID != r.PID {
			p.NSPID = r.NSPID
		}
		if l := &r.Label; containersBuilt && l.Container() {
			p.Container = &jsonContainer{ID: l.ID, Name: l.Name, Runtime: l.Runtime, PodUID: l.PodUID, Pod: l.Pod, Namespace: l.Namespace}
		} else if containersBuilt {
			p.Service = l.Service()
		}
		out.Processes = append(out.Processes, p)
	}
	for _, c := range snap.Capture {
		devices := make([]jsonDevice, 0, len(c.Devices))
		for _, d := range c.Devices {
			devices = append(devices, jsonDevice{Device: d.Name, Packets: d.Packets, Bytes: d.Bytes})
		}
		out.Capture = append(out.Capture, jsonCapture{Source: c.Source, Mode: c.Mode, Packets: c.Received, Bytes: c.Bytes, Drops: c.Dropped, Devices: devices})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func counter(c flow.Counter) jsonCounter { return jsonCounter{Bytes: c.Bytes, Packets: c.Packets} }

func connections(flows []conntable.FlowStat) []jsonConnection {
	out := make([]jsonConnection, 0, len(flows))
	for _, f := range flows {
		proto := "tcp"
		if f.Key.Proto == decode.ProtoUDP {
			proto = "udp"
		}
		out = append(out, jsonConnection{Protocol: proto, Local: f.Key.Local.String(), Remote: f.Key.Remote.String(),
			Device: f.Device, Sent: counter(f.Sent), Received: counter(f.Recv), SentRate: f.SentRate, RecvRate: f.RecvRate})
	}
	return out
}

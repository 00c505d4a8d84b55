package metrics

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// expo appends one exposition: families with # HELP and # TYPE (and
// # UNIT in OpenMetrics), samples without timestamps, # EOF at the end of
// OpenMetrics.
type expo struct {
	b  []byte
	om bool
}

type metricType uint8

const (
	counter metricType = iota
	gauge
	info
)

// family starts a family. name is the family's name as OpenMetrics has
// it (a counter's without _total, an info's without _info); unit, if set,
// must be its last word.
func (w *expo) family(name string, t metricType, unit, help string) {
	text := name // the text format names a family by its samples
	switch {
	case t == counter && !w.om:
		text += "_total"
	case t == info && !w.om:
		text += "_info"
	}
	w.b = append(w.b, "# HELP "...)
	w.b = append(w.b, text...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, help...)
	w.b = append(w.b, "\n# TYPE "...)
	w.b = append(w.b, text...)
	w.b = append(w.b, ' ')
	switch {
	case t == counter:
		w.b = append(w.b, "counter"...)
	case t == info && w.om:
		w.b = append(w.b, "info"...)
	default:
		w.b = append(w.b, "gauge"...)
	}
	w.b = append(w.b, '\n')
	if w.om && unit != "" {
		w.b = append(w.b, "# UNIT "...)
		w.b = append(w.b, name...)
		w.b = append(w.b, ' ')
		w.b = append(w.b, unit...)
		w.b = append(w.b, '\n')
	}
}

// endLabels closes the label set, or drops the brace of an empty one.
func (w *expo) endLabels() {
	if n := len(w.b); w.b[n-1] == '{' {
		w.b[n-1] = ' '
		return
	}
	w.b = append(w.b, "} "...)
}

// sampleStart appends a sample's name and opening brace; the caller adds
// labels, then ends it with value.
func (w *expo) sampleStart(name, suffix string) {
	w.b = append(w.b, name...)
	w.b = append(w.b, suffix...)
	w.b = append(w.b, '{')
}

func (w *expo) uint(v uint64) {
	w.endLabels()
	w.b = strconv.AppendUint(w.b, v, 10)
	w.b = append(w.b, '\n')
}

func (w *expo) float(v float64) {
	w.endLabels()
	w.b = strconv.AppendFloat(w.b, v, 'f', -1, 64)
	w.b = append(w.b, '\n')
}

// Help texts. They contain no backslash, double quote or line feed, so need no
// escaping in either format.
const (
	helpTrafficBytes   = "Bytes on the wire (link-layer frames) attributed to each group since hogs started, by direction (transmit: sent by this host's processes)."
	helpTrafficPackets = "Packets attributed to each group since hogs started, by direction."
	helpDeviceBytes    = "Wire bytes hogs counted on each device, both directions, since hogs started; devices past the series limit add up in device other."
	helpDevicePackets  = "Packets hogs counted on each device, both directions, since hogs started."
	helpCaptured       = "Packets the capture source received."
	helpDropped        = "Packets the capture source dropped (the kernel's ring overflowed): traffic hogs did not count."
	helpFlows          = "Flows in hogs's connection table at the last refresh."
	helpEvicted        = "Flows evicted from the connection table to keep it within its size limit."
	helpCreated        = "Flows ever added to the connection table."
	helpLookups        = "Lookups the attributor made to find flows' processes, by method."
	helpAttributor     = "The attributor hogs uses to find the process of a flow (value 1)."
	helpGroups         = "Groups hogs remembers: exposed ones have series of their own; hidden ones are folded into kind other, or idle."
	helpMaxSeries      = "The limit on groups with series of their own (--metrics-max-series)."
	helpRefresh        = "When the view this scrape shows was taken, in seconds since the Unix epoch."
	helpScrape         = "Seconds this scrape took to account the latest view and render up to this line."
)

var directions = [2]string{`,direction="transmit"`, `,direction="receive"`}

func (e *Exporter) render(dst []byte, f Format, start time.Time) []byte {
	w := expo{b: dst, om: f == FormatOpenMetrics}
	l, x := e.ledger, &e.extern

	for fi, fam := range [2]string{"hogs_traffic_bytes", "hogs_traffic_packets"} {
		if fi == 0 {
			w.family(fam, counter, "bytes", helpTrafficBytes)
		} else {
			w.family(fam, counter, "", helpTrafficPackets)
		}
		for _, g := range l.exposed {
			c := g.counted
			for d, n := range [2][2]uint64{{c.sent.Bytes, c.recv.Bytes}, {c.sent.Packets, c.recv.Packets}}[fi] {
				w.sampleStart(fam, "_total")
				w.b = append(w.b, g.labels...)
				w.b = append(w.b, directions[d]...)
				w.uint(n)
			}
		}
	}

	devices := x.sortedDevices(nil)
	hasOther := x.otherDevice != (struct{ packets, bytes uint64 }{})
	for fi, fam := range [2]string{"hogs_device_bytes", "hogs_device_packets"} {
		help, unit := helpDeviceBytes, "bytes"
		if fi == 1 {
			help, unit = helpDevicePackets, ""
		}
		w.family(fam, counter, unit, help)
		for _, d := range devices {
			w.sampleStart(fam, "_total")
			w.b = appendLabel(w.b, "device", d.name)
			w.uint([2]uint64{d.bytes.total, d.packets.total}[fi])
		}
		if hasOther {
			w.sampleStart(fam, "_total")
			w.b = appendLabel(w.b, "device", "other")
			w.uint([2]uint64{x.otherDevice.bytes, x.otherDevice.packets}[fi])
		}
	}

	sources := make([]*sourceState, 0, len(x.sources))
	for _, s := range x.sources {
		sources = append(sources, s)
	}
	slices.SortFunc(sources, func(a, b *sourceState) int {
		return cmp.Or(strings.Compare(a.key.source, b.key.source), strings.Compare(a.key.mode, b.key.mode))
	})
	for fi, fam := range [2]string{"hogs_capture_packets", "hogs_capture_dropped_packets"} {
		w.family(fam, counter, "", [2]string{helpCaptured, helpDropped}[fi])
		for _, s := range sources {
			w.sampleStart(fam, "_total")
			w.b = appendLabel(w.b, "source", s.key.source)
			if s.key.mode != "" {
				w.b = append(w.b, ',')
				w.b = appendLabel(w.b, "mode", s.key.mode)
			}
			w.uint([2]uint64{s.received.total, s.dropped.total}[fi])
		}
	}

	w.family("hogs_flows", gauge, "", helpFlows)
	w.sampleStart("hogs_flows", "")
	w.uint(uint64(x.flows))
	w.family("hogs_flows_evicted", counter, "", helpEvicted)
	w.sampleStart("hogs_flows_evicted", "_total")
	w.uint(x.evicted.total)
	if x.haveStats {
		w.family("hogs_flows_created", counter, "", helpCreated)
		w.sampleStart("hogs_flows_created", "_total")
		w.uint(x.created.total)
		w.family("hogs_attribution_lookups", counter, "", helpLookups)
		methods := make([]string, 0, len(x.lookups))
		for m := range x.lookups {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		for _, m := range methods {
			w.sampleStart("hogs_attribution_lookups", "_total")
			w.b = appendLabel(w.b, "method", m)
			w.uint(x.lookups[m].total)
		}
		w.family("hogs_attributor", info, "", helpAttributor)
		w.sampleStart("hogs_attributor", "_info")
		w.b = appendLabel(w.b, "attributor", cmp.Or(x.attributor, "none"))
		w.uint(1)
	}

	w.family("hogs_metrics_groups", gauge, "", helpGroups)
	w.sampleStart("hogs_metrics_groups", "")
	w.b = appendLabel(w.b, "state", "exposed")
	w.uint(uint64(len(l.exposed)))
	w.sampleStart("hogs_metrics_groups", "")
	w.b = appendLabel(w.b, "state", "hidden")
	w.uint(uint64(len(l.groups) + 1 - len(l.exposed)))
	w.family("hogs_metrics_max_series", gauge, "", helpMaxSeries)
	w.sampleStart("hogs_metrics_max_series", "")
	w.uint(uint64(l.maxSeries))
	if !x.refreshed.IsZero() {
		w.family("hogs_last_refresh_timestamp_seconds", gauge, "seconds", helpRefresh)
		w.sampleStart("hogs_last_refresh_timestamp_seconds", "")
		w.float(float64(x.refreshed.UnixMilli()) / 1e3)
	}
	w.family("hogs_scrape_duration_seconds", gauge, "seconds", helpScrape)
	w.sampleStart("hogs_scrape_duration_seconds", "")
	w.float(e.clock().Sub(start).Seconds())
	if w.om {
		w.b = append(w.b, "# EOF\n"...)
	}
	return w.b
}

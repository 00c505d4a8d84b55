package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"hogs/decode"
	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/rawcap"
)

// benchSettings shape `hogs -r FILE --bench`: passes timed per stage, each
// pass repeating the file until it has run at least minPass, on clock (a
// monotonic reading; tests give a fake one).
type benchSettings struct {
	passes  int
	minPass time.Duration
	clock   func() time.Duration
}

// maxBenchBytes bounds the frames --bench holds in memory: the timing runs
// on frames already read, so that file reading is not part of it.
const maxBenchBytes = 1 << 30

func defaultBenchSettings() benchSettings {
	start := time.Now()
	return benchSettings{passes: 7, minPass: 200 * time.Millisecond, clock: func() time.Duration { return time.Since(start) }}
}

// benchFrames are a capture's frames back to back in one buffer.
type benchFrames struct {
	data  []byte
	ends  []int // ends[i] is where frame i ends in data
	links []decode.LinkType
}

func (f *benchFrames) frame(i int) []byte {
	start := 0
	if i > 0 {
		start = f.ends[i-1]
	}
	return f.data[start:f.ends[i]:f.ends[i]]
}

// loadBenchFrames reads every frame of the capture at path into memory.
func loadBenchFrames(path string) (*benchFrames, error) {
	r, err := rawcap.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var (
		out benchFrames
		f   rawcap.Frame
	)
	for {
		err := r.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(out.data)+len(f.Data) > maxBenchBytes {
			return nil, fmt.Errorf("%s: more than %d MiB of frames; --bench holds them all in memory: cut the file (editcap -c)", path, maxBenchBytes>>20)
		}
		out.data = append(out.data, f.Data...)
		out.ends = append(out.ends, len(out.data))
		out.links = append(out.links, f.LinkType)
	}
	if len(out.ends) == 0 {
		return nil, fmt.Errorf("%s: no frames to time", path)
	}
	return &out, nil
}

// benchFile times decoding, and decoding plus the flow table, on the
// frames of -r's file, and prints the report.
func benchFile(cfg config, w io.Writer) error {
	frames, err := loadBenchFrames(cfg.readFile)
	if err != nil {
		return err
	}
	return writeBench(w, cfg.readFile, frames, defaultBenchSettings())
}

// benchStage is one thing timed: run handles every frame once.
type benchStage struct {
	name string
	run  func()
}

// writeBench runs the stages and prints, per stage, ns/packet and
// packets/s as minimum, median and maximum over the passes.
func writeBench(w io.Writer, name string, frames *benchFrames, s benchSettings) error {
	var p decode.Packet
	decodeAll := func() {
		for i := range frames.ends {
			decode.Decode(frames.links[i], frames.frame(i), &p)
		}
	}
	tab := conntable.New(conntable.Config{})
	var k flow.Key
	now := int64(0)
	accountAll := func() {
		for i := range frames.ends {
			data := frames.frame(i)
			decode.Decode(frames.links[i], data, &p)
			if out, ok := conntable.KeyOf(&p, decode.DirUnknown, &k); ok {
				tab.Add(k, out, len(data), now, "bench")
			}
		}
		now += 1e6
	}
	accountAll() // warm: the table holds the file's flows before timing

	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d packets (%s), %d passes of at least %v each\n",
		name, len(frames.ends), linkCounts(frames.links), s.passes, s.minPass)
	fmt.Fprintf(&b, "%-20s %30s %30s\n", "", "ns/packet min/median/max", "packets/s min/median/max")
	for _, st := range []benchStage{{"decode", decodeAll}, {"decode + flow table", accountAll}} {
		perPacket := make([]float64, s.passes)
		for pass := range perPacket {
			start := s.clock()
			rounds := 0
			var elapsed time.Duration
			for rounds == 0 || elapsed < s.minPass {
				st.run()
				rounds++
				elapsed = s.clock() - start
			}
			perPacket[pass] = float64(elapsed.Nanoseconds()) / float64(rounds*len(frames.ends))
		}
		slices.Sort(perPacket)
		lo, mid, hi := perPacket[0], perPacket[len(perPacket)/2], perPacket[len(perPacket)-1]
		fmt.Fprintf(&b, "%-20s %30s %30s\n", st.name,
			fmt.Sprintf("%.2f / %.2f / %.2f", lo, mid, hi),
			fmt.Sprintf("%s / %s / %s", rate(hi), rate(mid), rate(lo)))
	}
	return writeAll(w, b.String(), "the benchmark report")
}

// rate turns ns/packet into packets per second: 1234, 12.3k, 45.6M.
func rate(nsPerPacket float64) string {
	perSecond := 1e9 / nsPerPacket
	switch {
	case nsPerPacket <= 0:
		return "inf"
	case perSecond >= 1e6:
		return fmt.Sprintf("%.1fM", perSecond/1e6)
	case perSecond >= 1e3:
		return fmt.Sprintf("%.1fk", perSecond/1e3)
	}
	return fmt.Sprintf("%.0f", perSecond)
}

// linkCounts says how many frames each link type has: "ethernet 40".
func linkCounts(links []decode.LinkType) string {
	counts := map[decode.LinkType]int{}
	for _, l := range links {
		counts[l]++
	}
	keys := make([]decode.LinkType, 0, len(counts))
	for l := range counts {
		keys = append(keys, l)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, l := range keys {
		parts[i] = fmt.Sprintf("%s %d", l, counts[l])
	}
	return strings.Join(parts, ", ")
}

package monitor

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"hogs/rawcap"
	"hogs/ui"
)

// pcapBytes is a little-endian pcap file (link type linkType) holding
// records of (seconds, microseconds, data, claimed original length).
func pcapBytes(linkType uint32, records ...[4]any) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], linkType)
	b.Write(h)
	for _, r := range records {
		data := r[2].([]byte)
		rh := make([]byte, 16)
		binary.LittleEndian.PutUint32(rh[0:], r[0].(uint32))
		binary.LittleEndian.PutUint32(rh[4:], r[1].(uint32))
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(data)))
		binary.LittleEndian.PutUint32(rh[12:], r[3].(uint32))
		b.Write(rh)
		b.Write(data)
	}
	return b.Bytes()
}

// FuzzReplay runs capture-file bytes through the whole replay pipeline
// (reader, decoder, table, refreshes, the trace writer) and checks that
// neither the output nor the number of refreshes grows beyond a bound
// proportional to the input: a gap of a year, a bad microseconds field,
// timestamp 0 or a flood of tiny records must not turn into millions of
// refreshes or lines.
func FuzzReplay(f *testing.F) {
	eth := append(make([]byte, 12), 0x08, 0x00)
	ip := []byte{0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0x01, 0xbb}
	frame := append(append(append([]byte{}, eth...), ip...), make([]byte, 16)...)
	n := uint32(len(frame))
	f.Add(pcapBytes(1, [4]any{uint32(1000), uint32(0), frame, n}, [4]any{uint32(1000 + 365*86400), uint32(0), frame, n})) // a year apart
	f.Add(pcapBytes(1, [4]any{uint32(1000), uint32(0), frame, n}, [4]any{uint32(1000), uint32(4294967295), frame, n}))    // bad µs
	f.Add(append(pcapBytes(1), make([]byte, 4096)...))                                                                    // zeros: timestamp 0
	f.Add(pcapBytes(1, [4]any{uint32(0), uint32(0), frame, uint32(4294967295)}))                                          // huge claimed length
	f.Add(pcapBytes(1, [4]any{uint32(1), uint32(0), frame, n}, [4]any{uint32(2), uint32(0), frame, n})[:70])              // truncated
	f.Add(pcapBytes(147, [4]any{uint32(1), uint32(0), frame, n}))                                                         // unsupported link type
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := rawcap.NewFileReader(bytes.NewReader(file))
		if err != nil {
			return
		}
		var out bytes.Buffer
		refreshes := 0
		sink := SinkFunc(func(v *ui.View) error {
			refreshes++
			return ui.WriteTrace(&out, v, ui.TraceOptions{Mode: ui.ModeBytes})
		})
		m := New(Config{Replay: true, UDP: true, Interval: time.Second}, &File{Reader: r, Name: "fuzz"}, nil, nil, sink)
		m.Run(context.Background())
		// At most one record per 16 bytes, each crossing at most
		// MaxQuietRefreshes+1 refreshes, and the last; each refresh's
		// text is bounded by the unknown-connection limit.
		maxRefreshes := (len(file)/16+1)*(MaxQuietRefreshes+1) + 1
		if refreshes > maxRefreshes {
			t.Fatalf("%d refreshes for %d bytes of file (bound %d)", refreshes, len(file), maxRefreshes)
		}
		if limit := refreshes * 16 << 10; out.Len() > limit {
			t.Fatalf("%d bytes of trace in %d refreshes for %d bytes of file", out.Len(), refreshes, len(file))
		}
	})
}

//go:build linux

package nsattr

import (
	"io"
	"testing"

	"hogs/decode"
	"hogs/internal/allocs"
	"hogs/internal/netns"
	"hogs/rawcap"
	"hogs/ui"
)

// listSource delivers its frames, then io.EOF.
type listSource struct {
	frames []rawcap.Frame
	closed bool
}

func (s *listSource) Next(f *rawcap.Frame) error {
	if len(s.frames) == 0 {
		return io.EOF
	}
	*f, s.frames = s.frames[0], s.frames[1:]
	return nil
}
func (s *listSource) Capture() ui.CaptureStats { return ui.CaptureStats{Source: "list", Received: 9} }
func (s *listSource) Close() error             { s.closed = true; return nil }

func TestSourceTagsVethFrames(t *testing.T) {
	const big = denseIfindexes + 5
	frames := []rawcap.Frame{
		{Interface: 7, Direction: decode.DirIn},           // host veth: the container sent it
		{Interface: 7, Direction: decode.DirOut},          // host veth: the container receives it
		{Interface: 2, Direction: decode.DirIn},           // uplink
		{Interface: big, Direction: decode.DirUnknown},    // a large ifindex
		{Interface: 9, Direction: decode.DirIn},           // a veth whose peer is in no known namespace
		{Interface: -1, Direction: decode.DirIn},          // nonsense index
		{Interface: 7, Direction: decode.DirIn, NetNS: 5}, // a stale tag is overwritten
	}
	want := []struct {
		ns  uint32
		dir decode.Direction
	}{
		{4026532001, decode.DirOut},
		{4026532001, decode.DirIn},
		{0, decode.DirIn},
		{4026532002, decode.DirUnknown},
		{0, decode.DirIn},
		{0, decode.DirIn},
		{4026532001, decode.DirOut},
	}
	inner := &listSource{frames: frames}
	s := NewSource(inner)
	s.SetPeers(map[int32]netns.Peer{7: {NetNS: 4026532001, Index: 2}, big: {NetNS: 4026532002, Index: 3}}, 9)
	for i, w := range want {
		var f rawcap.Frame
		if err := s.Next(&f); err != nil {
			t.Fatal(err)
		}
		if f.NetNS != w.ns || f.Direction != w.dir {
			t.Errorf("frame %d: netns %d, direction %v; want %d, %v", i, f.NetNS, f.Direction, w.ns, w.dir)
		}
	}
	var f rawcap.Frame
	if err := s.Next(&f); err != io.EOF {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
	if s.Capture().Received != 9 || s.Close() != nil || !inner.closed {
		t.Error("Capture or Close not passed on")
	}
	// Before SetPeers, and after an empty table, nothing is tagged.
	s2 := NewSource(&listSource{frames: []rawcap.Frame{{Interface: 7, Direction: decode.DirIn}}})
	if s2.Next(&f); f.NetNS != 0 || f.Direction != decode.DirIn {
		t.Errorf("untagged source changed the frame: %+v", f)
	}
}

func TestSourceNextAllocatesNothing(t *testing.T) {
	frame := rawcap.Frame{Interface: 7, Direction: decode.DirIn}
	inner := &loopSource{f: frame}
	s := NewSource(inner)
	s.SetPeers(map[int32]netns.Peer{7: {NetNS: 1}, denseIfindexes + 1: {NetNS: 2}}, 0)
	var f rawcap.Frame
	if n := allocs.Least(3, 1000, func() { s.Next(&f) }); n != 0 {
		t.Errorf("Next allocates %v times per frame", n)
	}
}

// loopSource delivers the same frame forever.
type loopSource struct{ f rawcap.Frame }

func (s *loopSource) Next(f *rawcap.Frame) error { *f = s.f; return nil }
func (s *loopSource) Capture() ui.CaptureStats   { return ui.CaptureStats{} }
func (s *loopSource) Close() error               { return nil }

// TestSourceKicksForNewDevices: a frame of a device above the table's
// top (made after it) kicks; frames of devices the table knows do not.
func TestSourceKicksForNewDevices(t *testing.T) {
	frames := []rawcap.Frame{{Interface: 7}, {Interface: 3}, {Interface: 12}, {Interface: 7}, {Interface: 13}}
	s := NewSource(&listSource{frames: frames})
	var kicked []int
	var cur rawcap.Frame
	s.SetKick(func() { kicked = append(kicked, cur.Interface) })
	s.SetPeers(map[int32]netns.Peer{7: {NetNS: 1}}, 10)
	for s.Next(&cur) == nil {
	}
	if len(kicked) != 2 || kicked[0] != 12 || kicked[1] != 13 {
		t.Errorf("kicked for %v, want [12 13]", kicked)
	}
}

package monitor

import (
	"testing"
	"time"

	"hogs/rawcap"
)

// TestFrameClock: packets are placed by their kernel timestamps relative
// to the last anchor; the monotonic clock is read for the first packet,
// every anchorEvery packets, and when the kernel's clock steps back or
// forward by more than anchorGap, not for timestamps a little out of order;
// and time never runs backwards.
func TestFrameClock(t *testing.T) {
	reads := 0
	mono := int64(0)
	c := frameClock{mono: func() int64 { reads++; mono += int64(time.Hour); return mono }}
	base := time.Unix(1_700_000_000, 0)
	var last int64
	step := 10 * time.Microsecond
	n := 3 * anchorEvery
	for i := range n {
		f := rawcap.Frame{Timestamp: base.Add(time.Duration(i) * step)}
		switch {
		case i == 40:
			f.Timestamp = base.Add(-time.Hour) // the wall clock stepped back
		case i == 60:
			base = base.Add(time.Hour) // ... and forward again
			f.Timestamp = base.Add(time.Duration(i) * step)
		case i > 60 && i%2 == 0:
			// Out of order by 3 steps, as the two directions' packets are.
			f.Timestamp = f.Timestamp.Add(-3 * step)
		}
		got := c.at(&f)
		if got < last {
			t.Fatalf("packet %d at %d, before the previous %d", i, got, last)
		}
		if i > 60 && i < anchorEvery && i%2 == 1 && got != mono+int64(time.Duration(i-60)*step) {
			t.Errorf("packet %d at %d, want the anchor at packet 60 (%d) + %v", i, got, mono, time.Duration(i-60)*step)
		}
		last = got
	}
	// Anchors: packets 0, 40 (back), 41 (forward again), 60 (forward an
	// hour), then every anchorEvery.
	if want := 4 + n/anchorEvery - 1; reads != want {
		t.Errorf("monotonic clock read %d times for %d packets, want %d", reads, n, want)
	}
	// A source without timestamps reads the clock every time.
	reads = 0
	for range 5 {
		c.at(&rawcap.Frame{})
	}
	if reads != 5 {
		t.Errorf("without timestamps: %d reads for 5 packets", reads)
	}
}

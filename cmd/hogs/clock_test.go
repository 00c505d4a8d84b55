package main

import (
	"testing"
	"time"

	"hogs/rawcap"
)

// TestFrameClock: packets are placed by their kernel timestamps relative
// to the last anchor, the monotonic clock is read once per 32 packets, and
// time never runs backwards even when the kernel's clock steps back.
func TestFrameClock(t *testing.T) {
	reads := 0
	mono := int64(1000)
	c := frameClock{mono: func() int64 { reads++; return mono }}
	base := time.Unix(1_700_000_000, 0)
	var last int64
	for i := range 100 {
		f := rawcap.Frame{Timestamp: base.Add(time.Duration(i) * time.Millisecond)}
		if i == 50 {
			f.Timestamp = base // the wall clock stepped back
		}
		got := c.at(&f)
		if got < last {
			t.Fatalf("packet %d at %d, before the previous %d", i, got, last)
		}
		last = got
		if i == 1 && got != 1000+int64(time.Millisecond) {
			t.Errorf("packet 1 at %d, want anchor + 1 ms", got)
		}
	}
	if reads != 4 {
		t.Errorf("monotonic clock read %d times for 100 packets, want 4", reads)
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

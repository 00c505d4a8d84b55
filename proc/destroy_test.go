package proc

import (
	"fmt"
	"slices"
	"testing"
)

// TestDestroyWatcherReplay reads the recorded destroy datagrams (what
// TestDestroyWatcherLive checked against the sockets) into the same
// events, then reports the fake's timeout as the end.
func TestDestroyWatcherReplay(t *testing.T) {
	r := recordings(t, "destroy")["destroy"]
	fake := &fakeNetlink{queue: r.datagrams}
	w := newDestroyWatcher(fake)
	var got []string
	for {
		ev, err := w.Next()
		if err != nil {
			break
		}
		got = append(got, fmt.Sprintf("%+v", ev))
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(r.events))
	// The datagrams hold other sockets' events too (the listeners').
	for _, ev := range want {
		if !slices.Contains(got, ev) {
			t.Errorf("event %s not read back; got %q", ev, got)
		}
	}
}

package monitor

import (
	"testing"
	"time"
)

// TestRefreshTicker: ticks come at the interval, and Stop ends a Wait
// that is blocked and every Wait after it.
func TestRefreshTicker(t *testing.T) {
	ticks, err := newRefreshTicker(20 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 3 {
		if !ticks.Wait() {
			t.Fatalf("tick %d: Wait returned false before Stop", i)
		}
	}
	if took := time.Since(start); took < 55*time.Millisecond || took > 2*time.Second {
		t.Errorf("3 ticks of 20 ms took %v", took)
	}
	ticks.Stop()
	if ticks.Wait() {
		t.Error("Wait after Stop returned true")
	}

	slow, err := newRefreshTicker(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() { done <- slow.Wait() }()
	time.Sleep(20 * time.Millisecond)
	slow.Stop()
	select {
	case ok := <-done:
		if ok {
			t.Error("a Wait interrupted by Stop returned true")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end a blocked Wait")
	}
}

package allocs

import "testing"

var sink []byte

func TestLeast(t *testing.T) {
	if n := Least(3, 100, func() {}); n != 0 {
		t.Errorf("a function that allocates nothing: %v", n)
	}
	if n := Least(3, 100, func() { sink = make([]byte, 64) }); n != 1 {
		t.Errorf("a function that allocates once: %v", n)
	}
}

package kevents

import (
	"os"
	"testing"
)

func TestInitialPIDNamespace(t *testing.T) {
	for link, want := range map[string]bool{
		"pid:[4026531836]": true,
		"pid:[4026532710]": false, // a container's
		"":                 false,
		"net:[4026531836]": false,
	} {
		if got := initialPIDNamespace(link); got != want {
			t.Errorf("initialPIDNamespace(%q) = %v, want %v", link, got, want)
		}
	}
	// The tests run on the host: its link is the initial namespace's
	// unless they themselves run in a container.
	if link, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		t.Logf("this process: %s (initial: %v)", link, initialPIDNamespace(link))
	}
}

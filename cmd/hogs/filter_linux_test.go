package main

import (
	"os"
	"testing"

	"hogs/internal/netlab"
)

// TestLiveFilterRelations: -f expressions with loads, arithmetic and len
// run in the kernel (scratch memory, comparisons with X, negation) and
// keep what they say. A 300 kB upload is counted whole under "greater
// 1000" less its small segments, barely under "less 100" (handshake and
// bare ACKs only), not at all under a relation no TCP packet meets.
func TestLiveFilterRelations(t *testing.T) {
	for _, tt := range []struct {
		filter   string
		min, max float64 // the client's sent bytes
	}{
		{"greater 1000", 290000, 400000},
		{"less 100", 1, 5000},
		{"tcp[tcpflags] & tcp-syn != 0 or ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) > 1000", 290000, 400000},
		{"-len = -1 or tcp[13] & 0 != 0", 0, 0},
	} {
		t.Run(tt.filter, func(t *testing.T) {
			nsA, nsB := netlab.QuietVethPair(t)
			server := startRole(t, nsB, "echo-server", "10.77.0.2:7200", "1")
			server.line(t)
			h := startHogs(t, nsA, "-t", "-v", "2", "-d", "0.5", "-f", tt.filter)
			waitForOutput(t, h, "Refreshing:")
			cli := inNamespace(nsA, mustExecutable(t))
			cli.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-client", "HOGS_TEST_ADDR=10.77.0.2:7200", "HOGS_TEST_BYTES=300000")
			if out, err := cli.CombinedOutput(); err != nil {
				t.Fatalf("client: %v %s", err, out)
			}
			last := h.last(t)
			v, _ := last.byPID(cli.Process.Pid)
			if v[0] < tt.min || v[0] > tt.max {
				t.Errorf("-f %q: the client sent %v bytes by hogs, want %v to %v\n%s\n%s", tt.filter, v[0], tt.min, tt.max, h.out.String(), h.err.String())
			}
		})
	}
}

package trace

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary monitor output to every parser: none may
// panic, Parse finds one block per refresh line (up to a bad row), every
// row it keeps has numbers that parsed, and a -x line's fields survive.
func FuzzParse(f *testing.F) {
	f.Add(nethogsOutput)                                  // nethogs trace with the lines to skip
	f.Add("Refreshing:\nx/1/0\tmany\t1\n")                // bad number
	f.Add("Refreshing:\n\t\t\n/a\tb/7/0\t1e308\t-0\n")    // tabs in the name, extreme numbers
	f.Add(`{"processes":[{"pid":1,"connections":[{}]}]}`) // JSON refresh
	f.Add("hogs: r: 1 packets, 2 dropped; 3 flows (4 evicted); 5 sock_diag lookups, 6 /proc/net reads, 7 fd scans")
	f.Fuzz(func(t *testing.T, out string) {
		blocks, err := Parse(out)
		refreshes := 0
		for _, line := range strings.Split(out, "\n") {
			if line == RefreshLine {
				refreshes++
			}
		}
		if err == nil && len(blocks) < refreshes {
			t.Errorf("%d blocks for %d refresh lines", len(blocks), refreshes)
		}
		if len(blocks) > refreshes {
			t.Errorf("%d blocks for %d refresh lines", len(blocks), refreshes)
		}
		for _, b := range blocks {
			for _, r := range b.Rows {
				if strings.Contains(r.Name, "\n") || r.PID < 0 {
					t.Errorf("row %+v", r)
				}
			}
		}
		ParseRows(strings.Split(out, "\n"))
		ParseJSON(out)
		for _, x := range AllX(out) {
			if !strings.Contains(out, x.Line) {
				t.Errorf("-x line %q not in the input", x.Line)
			}
		}
	})
}

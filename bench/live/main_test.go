//go:build linux

package main

import (
	"strings"
	"testing"
	"time"
)

// TestScenarios checks the scenario table: unique names, roles that exist,
// and generator arguments their role accepts.
func TestScenarios(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenarios {
		if seen[s.name] {
			t.Errorf("scenario %q twice", s.name)
		}
		seen[s.name] = true
		tr := s.traffic
		if roles[tr.sink] == nil || roles[tr.gen] == nil {
			t.Errorf("%s: roles %q / %q not in the role table", s.name, tr.sink, tr.gen)
		}
		args := tr.args(s, 3*time.Second)
		if tr.gen == "gen-udp" {
			if len(args) != 3 || args[1] != "3s" {
				t.Errorf("%s: gen-udp arguments %q", s.name, args)
			}
			if s.size < 1 || s.size > 1472 {
				t.Errorf("%s: datagram size %d", s.name, s.size)
			}
		}
		if e := tr.expect(s, 3*time.Second); e == "" || (s.rate > 0 && !strings.Contains(e, "3s")) {
			t.Errorf("%s: expectation %q", s.name, e)
		}
		for _, m := range s.monitors {
			if m != "hogs" && m != "nethogs" {
				t.Errorf("%s: unknown monitor %q", s.name, m)
			}
		}
	}
	if _, ok := findScenario("udp-50k"); !ok {
		t.Error("udp-50k not found")
	}
	if _, ok := findScenario("nope"); ok {
		t.Error("unknown scenario found")
	}
}

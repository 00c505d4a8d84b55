//go:build linux && !hogs_small

package main

import (
	"hogs/internal/netns"
	"hogs/internal/nsattr"
)

// conntrackBuiltIn: the Boundary asks connection tracking about NATed
// copies of containers' flows.
const conntrackBuiltIn = false

// conntrackTracker is the connection tracking the Boundary asks about the
// NATed copies of containers' flows; nil until package conntrack is in.
func conntrackTracker(sc *netns.Scanner) nsattr.Tracker { return nil }

//go:build linux && !hogs_small

package main

import (
	"hogs/internal/conntable"
	"hogs/internal/conntrack"
	"hogs/internal/flow"
	"hogs/internal/netns"
	"hogs/internal/nsattr"
)

// conntrackBuiltIn: the Boundary asks connection tracking about NATed
// copies of containers' flows.
const conntrackBuiltIn = true

// tracker is conntrack's Classifier as the Boundary's Tracker: it asks
// the monitor's namespace's table, and judges the ends it finds by the
// Boundary's addresses.
type tracker struct {
	c    *conntrack.Classifier
	conn *conntrack.Conn
}

// newTracker opens connection tracking in the monitor's namespace (asking
// it needs CAP_NET_ADMIN: without, the Boundary says so once).
func newTracker(sc *netns.Scanner, b *nsattr.Boundary) (*tracker, error) {
	conn, err := conntrack.Open()
	if err != nil {
		return nil, err
	}
	self := sc.Self()
	return &tracker{conn: conn, c: conntrack.NewClassifier(conntrack.Config{
		Table: func(ns uint32) conntrack.Getter {
			if ns == 0 || ns == self {
				return conn
			}
			return nil
		},
		IsLocal:     b.IsLocal,
		IsContainer: b.IsContainer,
	})}, nil
}

// Classify is nsattr.Tracker.
func (t *tracker) Classify(k flow.Key) (conntable.Class, error) {
	c, err := t.c.Classify(k)
	switch c {
	case conntrack.CountedElsewhere:
		return conntable.Elsewhere, err
	case conntrack.Forwarded:
		return conntable.Forwarded, err
	}
	return conntable.Local, err
}

func (t *tracker) Close() error { return t.conn.Close() }

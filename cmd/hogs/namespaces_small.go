//go:build !linux || hogs_small

package main

import (
	"errors"
	"io"

	"hogs/internal/conntable"
	"hogs/internal/flow"
	"hogs/internal/monitor"
	"hogs/proc"
)

// namespacesBuiltIn: the small build counts the monitor's own network
// namespace only (see the README's "Containers").
const namespacesBuiltIn = false

// conntrackBuiltIn: no connection tracking either.
const conntrackBuiltIn = false

type namespaces struct{}

func openNamespaces(owners *flow.Owners, fsys proc.FS, cgroupOwner func(uint64) (flow.Process, bool)) (*namespaces, error) {
	return nil, errors.New("network namespaces not built in")
}

func (n *namespaces) attach(live monitor.Live) {}
func (n *namespaces) source() monitor.Source   { return nil }

func (n *namespaces) wrap(own monitor.Attributor) monitor.Attributor { return own }
func (n *namespaces) start(later io.Writer) []string                 { return nil }
func (n *namespaces) classify(k flow.Key) conntable.Class            { return conntable.Local }
func (n *namespaces) close() error                                   { return nil }

// deferCgroupOwners: no other namespace is resolved in the small build.
func (n *namespaces) deferCgroupOwners() {}

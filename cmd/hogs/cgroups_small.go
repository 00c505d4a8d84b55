//go:build hogs_small

package main

import (
	"io"

	"hogs/internal/flow"
)

// usageGroupKey: the small build has no grouping, so no c key.
const usageGroupKey = ""

// labelling labels nothing in the small build: it leaves out the cgroup
// labeller, so processes have no container or service, and sockets whose
// process hogs cannot find stay unknown.
func labelling(cfg config, stderr io.Writer) (func(pid int) flow.Label, func(uint64) (flow.Process, bool)) {
	return nil, nil
}

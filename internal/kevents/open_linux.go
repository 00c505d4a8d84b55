//go:build linux && !hogs_small

package kevents

import (
	"errors"
	"os"
	"runtime/debug"
)

// BuiltIn reports whether this build has kernel socket events (the
// hogs_small build tag leaves them out).
const BuiltIn = true

// Open loads and attaches the programs and returns an Attributor reading
// their records. It fails, saying why, when the kernel has no BTF, the
// process lacks CAP_BPF and CAP_PERFMON (or root), or the kernel refuses
// the programs or the tracepoints, or hogs runs in a PID namespace of its
// own; the caller then uses cfg.Fallback alone. Close the Attributor to
// detach everything.
func Open(cfg Config) (*Attributor, error) {
	if link, err := os.Readlink("/proc/self/ns/pid"); err == nil && !initialPIDNamespace(link) {
		return nil, errInContainer
	}
	k, err := loadKernel(cfg.BTF)
	if err != nil {
		return nil, err
	}
	a, err := newAttributor(cfg, k)
	if err != nil {
		k.Close()
		return nil, err
	}
	// Reading the kernel's BTF (several MB of type information, needed
	// only to assemble the programs) grew the heap; give those pages back
	// now rather than carry them for the whole run.
	debug.FreeOSMemory()
	return a, nil
}

// errInContainer: the programs record the PIDs of the initial PID
// namespace (the host's), which a process in a PID namespace of its own
// (a container's) neither sees in its /proc nor can tell from its own
// PIDs; attributing with them would name the wrong processes.
var errInContainer = errors.New("hogs runs in a PID namespace of its own (a container): the kernel's events name processes by the host's PIDs")

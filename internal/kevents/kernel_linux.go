//go:build linux && !hogs_small

package kevents

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// programLicense is the license the programs declare: the helpers they
// call (bpf_probe_read_kernel) are for GPL-compatible programs only.
const programLicense = "Dual MIT/GPL"

// kernelRecords are the loaded programs, attached, and the maps they fill.
type kernelRecords struct {
	coll         *ebpf.Collection
	flows, ports *ebpf.Map
	links        []link.Link
}

// The raw tracepoints each program is attached to.
var attachments = []struct{ program, tracepoint string }{
	{"hogs_state", "inet_sock_set_state"},
	{"hogs_udp", "sock_send_length"},
	{"hogs_udp", "sock_recv_length"},
}

// loadKernel checks the privileges, reads the kernel's BTF, assembles and
// loads the programs and attaches them. On error nothing stays loaded.
func loadKernel(btfPath string) (*kernelRecords, error) {
	if err := checkCapabilities(); err != nil {
		return nil, err
	}
	spec, err := loadBTF(btfPath)
	if err != nil {
		return nil, err
	}
	o, err := kernelOffsets(spec)
	if err != nil {
		return nil, err
	}
	cs := &ebpf.CollectionSpec{
		Maps: mapSpecs(),
		Programs: map[string]*ebpf.ProgramSpec{
			"hogs_state": {Name: "hogs_state", Type: ebpf.RawTracepoint, License: programLicense, Instructions: stateProgram(o)},
			"hogs_udp":   {Name: "hogs_udp", Type: ebpf.RawTracepoint, License: programLicense, Instructions: udpProgram(o)},
		},
	}
	coll, err := ebpf.NewCollectionWithOptions(cs, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: spec}})
	if err != nil {
		return nil, fmt.Errorf("loading the socket programs: %w", permissionHint(err))
	}
	k := &kernelRecords{coll: coll, flows: coll.Maps[mapFlows], ports: coll.Maps[mapPorts]}
	for _, a := range attachments {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: a.tracepoint, Program: coll.Programs[a.program]})
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("attaching to tracepoint %s: %w", a.tracepoint, permissionHint(err))
		}
		k.links = append(k.links, l)
	}
	return k, nil
}

// loadBTF reads the kernel's type information ("" : the running kernel's).
func loadBTF(path string) (*btf.Spec, error) {
	if path == "" {
		path = "/sys/kernel/btf/vmlinux"
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("no kernel BTF (%w): a kernel built with CONFIG_DEBUG_INFO_BTF is needed", err)
	}
	defer f.Close()
	spec, err := btf.LoadSpecFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading kernel BTF %s: %w", path, err)
	}
	return spec, nil
}

// Capability numbers (linux/capability.h).
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// checkCapabilities fails unless the process may load tracing programs:
// CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN.
func checkCapabilities() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("reading capabilities: %w", err)
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	if has(capSysAdmin) || (has(capBPF) && has(capPerfmon)) {
		return nil
	}
	return errors.New("needs CAP_BPF and CAP_PERFMON (or root)")
}

// permissionHint adds what to do to a permission error.
func permissionHint(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (needs CAP_BPF and CAP_PERFMON, or root)", err)
	}
	return err
}

// flow looks up a flow key; false when absent.
func (k *kernelRecords) flow(key []byte, r *record) bool {
	return lookup(k.flows, key, r)
}

// port looks up a port key; false when absent.
func (k *kernelRecords) port(key []byte, r *record) bool {
	return lookup(k.ports, key, r)
}

func lookup(m *ebpf.Map, key []byte, r *record) bool {
	var buf [recordSize]byte
	if err := m.Lookup(key, buf[:]); err != nil {
		return false
	}
	return decodeRecord(buf[:], r)
}

// Close detaches the programs and frees them and their maps.
func (k *kernelRecords) Close() error {
	var errs []error
	for _, l := range k.links {
		errs = append(errs, l.Close())
	}
	k.links = nil
	if k.coll != nil {
		k.coll.Close()
		k.coll = nil
	}
	return errors.Join(errs...)
}

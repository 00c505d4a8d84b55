//go:build linux && !hogs_small

package kevents

// Open loads and attaches the programs and returns an Attributor reading
// their records. It fails, saying why, when the kernel has no BTF, the
// process lacks CAP_BPF and CAP_PERFMON (or root), or the kernel refuses
// the programs or the tracepoints; the caller then uses cfg.Fallback
// alone. Close the Attributor to detach everything.
func Open(cfg Config) (*Attributor, error) {
	k, err := loadKernel(cfg.BTF)
	if err != nil {
		return nil, err
	}
	a, err := newAttributor(cfg, k)
	if err != nil {
		k.Close()
		return nil, err
	}
	return a, nil
}

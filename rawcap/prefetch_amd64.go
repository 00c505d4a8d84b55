package rawcap

// prefetch asks the CPU to start loading the four cache lines from addr on
// into its caches, without waiting for them. Prefetches never fault: an
// address outside mapped memory is ignored.
//
//go:noescape
func prefetch(addr uintptr)

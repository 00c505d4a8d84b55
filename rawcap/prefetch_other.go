//go:build !amd64

package rawcap

// prefetch does nothing where hogs has no prefetch instruction wired up.
func prefetch(addr uintptr) {}

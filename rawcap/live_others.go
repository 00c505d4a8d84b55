//go:build !linux

package rawcap

import (
	"errors"
	"runtime"
)

// errNotLinux: live capture uses AF_PACKET sockets, which only Linux has.
var errNotLinux = errors.New("live capture is not implemented on " + runtime.GOOS + ": hogs needs Linux packet sockets")

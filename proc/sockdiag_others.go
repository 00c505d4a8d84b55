//go:build !linux

package proc

import (
	"fmt"
	"runtime"
)

// OpenSockDiag fails outside Linux: sock_diag is a Linux netlink family.
func OpenSockDiag() (*SockDiag, error) {
	return nil, fmt.Errorf("%w (this is %s)", ErrLinuxOnly, runtime.GOOS)
}

// OpenDestroyWatcher fails outside Linux: sock_diag is a Linux netlink
// family.
func OpenDestroyWatcher() (*DestroyWatcher, error) {
	return nil, fmt.Errorf("%w (this is %s)", ErrLinuxOnly, runtime.GOOS)
}

func isNoBufs(error) bool { return false }

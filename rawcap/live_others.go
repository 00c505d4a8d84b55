//go:build !linux

package rawcap

import (
	"errors"
	"runtime"
)

// errNotLinux: live capture uses AF_PACKET sockets, which only Linux has.
var errNotLinux = errors.New("live capture is not implemented on " + runtime.GOOS + ": hogs needs Linux packet sockets")

// Live is the live capture of Linux; elsewhere OpenLive fails and there is
// none to call the methods on.
type Live struct{}

// OpenLive fails: hogs captures live only on Linux.
func OpenLive(LiveConfig) (*Live, error) { return nil, errNotLinux }

// Mode is empty.
func (l *Live) Mode() string { return "" }

// Plan is empty.
func (l *Live) Plan() *Plan { return Selection{}.Plan(nil) }

// Next fails.
func (l *Live) Next(*Frame) error { return errNotLinux }

// NextHandshake fails.
func (l *Live) NextHandshake(*Frame) error { return errNotLinux }

// OnIdle does nothing.
func (l *Live) OnIdle(func()) {}

// DeviceCounts is empty.
func (l *Live) DeviceCounts() []DeviceCount { return nil }

// Stats fails.
func (l *Live) Stats() (Stats, error) { return Stats{}, errNotLinux }

// SetPromiscuous fails.
func (l *Live) SetPromiscuous(int, bool) error { return errNotLinux }

// Close does nothing.
func (l *Live) Close() error { return nil }

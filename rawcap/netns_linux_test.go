package rawcap

import "hogs/internal/netnstest"

// The namespace helpers the live tests share with other packages.
var (
	newNetns      = netnstest.New
	inNetns       = netnstest.Run
	ipCmd         = netnstest.IP
	runIP         = netnstest.RunIP
	quietVethPair = netnstest.QuietVethPair
	sysctl        = netnstest.Sysctl
	linkMAC       = netnstest.MAC
	readCounters  = netnstest.ReadCounters
)

type linkCounters = netnstest.Counters

package rawcap

import "hogs/internal/netlab"

// The namespace helpers the live tests share with other packages.
var (
	newNetns      = netlab.New
	inNetns       = netlab.Run
	ipCmd         = netlab.IP
	runIP         = netlab.RunIP
	quietVethPair = netlab.QuietVethPair
	sysctl        = netlab.Sysctl
	linkMAC       = netlab.MAC
	readCounters  = netlab.ReadCounters
)

type linkCounters = netlab.Counters

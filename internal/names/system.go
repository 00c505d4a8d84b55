//go:build !hogs_small

package names

import (
	"context"
	"net"
)

// BuiltIn reports whether this build can look names up (the hogs_small
// build leaves Go's DNS client out).
const BuiltIn = true

// systemLookup asks the system's resolver (Go's DNS client, /etc/hosts).
func systemLookup(ctx context.Context, addr string) ([]string, error) {
	return net.DefaultResolver.LookupAddr(ctx, addr)
}

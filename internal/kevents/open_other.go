//go:build !linux || hogs_small

package kevents

import "errors"

// BuiltIn reports whether this build has kernel socket events: not this
// one.
const BuiltIn = false

// Open fails: this build has no kernel socket events (the hogs_small
// build tag, or not Linux). The caller uses cfg.Fallback alone.
func Open(cfg Config) (*Attributor, error) {
	return nil, errors.New("kernel socket events not built in")
}

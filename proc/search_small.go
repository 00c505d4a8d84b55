//go:build hogs_small

package proc

// See search_full.go: the small build walks the index's processes newest
// first, without these shortcuts.
const (
	probeTasks = false
	netnsOrder = false
	reuseHints = false
	hotReads   = 0
)

//go:build hogs_small

package ui

// containersBuilt is false in the small build: it labels nothing and,
// for its size budget, leaves out what shows labels and grouping (the c
// key does nothing, the list is always by process).
const containersBuilt = false

func (sc *renderScratch) group(rows []Row, by Grouping) []Row { return rows }

func (sc *renderScratch) appendGroupName(b []byte, r *Row) []byte { return sc.display(b, r.Name) }

const helpGroup = ""

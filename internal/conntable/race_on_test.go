//go:build race

package conntable

// raceEnabled: the race detector slows the flood tests tenfold.
const raceEnabled = true

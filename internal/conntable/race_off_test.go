//go:build !race

package conntable

const raceEnabled = false

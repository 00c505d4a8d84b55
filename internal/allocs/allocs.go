// Package allocs measures allocations for the tests' allocation gates.
//
// One testing.AllocsPerRun can count allocations of other goroutines (the
// runtime's, the test framework's); the least of several runs is the
// figure a gate compares with zero.
package allocs

import "testing"

// Least returns the least of rounds testing.AllocsPerRun(runs, f)
// measurements: f's allocations per call.
func Least(rounds, runs int, f func()) float64 {
	least := -1.0
	for range rounds {
		if n := testing.AllocsPerRun(runs, f); least < 0 || n < least {
			least = n
		}
	}
	return least
}

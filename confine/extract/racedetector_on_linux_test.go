//go:build race && !pathguard_osroot

package extract_test

// raceEnabled: the race detector slows the million-entry test tenfold.
const raceEnabled = true

//go:build !race && !pathguard_osroot

package extract_test

const raceEnabled = false

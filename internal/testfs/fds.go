package testfs

import (
	"os"
	"testing"
)

// OpenFDs counts the descriptors the process has open: the entries of
// /proc/self/fd, among them the one used to read it, which is there on
// every call alike. A test compares two counts to see what the calls
// between them left open; tests that count must not run in parallel with
// tests that open files. It fails t where /proc/self/fd cannot be read.
func OpenFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("testfs: counting descriptors: %v", err)
	}
	return len(ents)
}

//go:build !unix

package fuzz

import "testing"

// tempDir returns tb.TempDir(): see the Unix version.
func tempDir(tb testing.TB) string { return tb.TempDir() }

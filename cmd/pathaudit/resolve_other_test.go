//go:build !linux

package main

import (
	"testing"

	"github.com/pathguard/pathguard/internal/testfs"
)

// TestResolveUnsupported: outside Linux a Root delegates to os.Root, which
// cannot say where a link leads; resolve says so and fails.
func TestResolveUnsupported(t *testing.T) {
	root := testfs.New(t, "a/f=x")
	code, rep := runJSON(t, "resolve", root, "a/f")
	if code != exitError || rep.Inside || rep.ErrorKind != "unsupported" {
		t.Errorf("pathaudit resolve ROOT a/f = %d, %+v; want 2, error_kind \"unsupported\"", code, rep)
	}
}

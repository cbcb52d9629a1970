//go:build !linux

package canon_test

import (
	"errors"
	"testing"

	"github.com/pathguard/pathguard/canon"
)

func TestResolveUnsupported(t *testing.T) {
	got, err := canon.Resolve(t.TempDir(), "a")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Resolve(dir, \"a\") = %q, %v, want errors.ErrUnsupported", got, err)
	}
	checkPathError(t, "Resolve", err, "resolve", "a")
}

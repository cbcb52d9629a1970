package securepath

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/internal/testfs"
)

// TestCheckMagicLinks: Check refuses a procfs magic link on the way with
// ELOOP, as the engine does, rather than judging whatever the link's text
// names (/proc/self/root/tmp would judge /tmp).
func TestCheckMagicLinks(t *testing.T) {
	for _, p := range []string{"/proc/self/cwd", "/proc/self/root/tmp", "/proc/self/root", "/proc/thread-self/cwd", "/proc/self/fd/0"} {
		rep, err := Check(p, nil)
		if !errors.Is(err, syscall.ELOOP) {
			t.Errorf("Check(%q) = %v, %v, want ELOOP", p, rep, err)
		}
	}
}

// TestCheckHopLimit: Check follows a chain of 40 links (the kernel's
// MAXSYMLINKS) and refuses 41 with ELOOP, an assertion rather than a
// walk that never ends.
func TestCheckHopLimit(t *testing.T) {
	dir := t.TempDir()
	tree := []string{"d/"}
	for i := range 40 {
		tree = append(tree, fmt.Sprintf("h%d => h%d", i, i+1))
	}
	tree = append(tree, "h40 => d")
	testfs.Make(t, dir, tree...)
	if _, err := Check(filepath.Join(dir, "h1"), nil); err != nil {
		t.Errorf("Check(h1), 40 links = %v, want a report", err)
	}
	if _, err := Check(filepath.Join(dir, "h0"), nil); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Check(h0), 41 links = %v, want ELOOP", err)
	}
}

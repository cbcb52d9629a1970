//go:build !pathguard_osroot

package confine_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestErrorsMatchOSRoot: every method fails with the error type os.Root's
// does (*os.LinkError for Rename, Link and Symlink, *fs.PathError
// otherwise) and the same Op, whichever step failed: a missing parent, a
// name that escapes, a name through a file. Code written against os.Root's
// errors reads ours unchanged.
func TestErrorsMatchOSRoot(t *testing.T) {
	names := []string{"missing/x", "../x", "f/x", "up/x"}
	opsEach(t, func(t *testing.T, c opsConfig) {
		if c.inRoot {
			names = []string{"missing/x", "f/x"} // nothing escapes in InRoot
		}
		tree := []string{"f=data", "up => .."}
		theirs, err := os.OpenRoot(testfs.New(t, tree...))
		if err != nil {
			t.Fatal(err)
		}
		defer theirs.Close()
		ours := opsOpen(t, testfs.New(t, tree...), c)
		compareErrors(t, theirs, ours, names)
		var le *os.LinkError
		if err := ours.Rename("nowhere", "f2"); !errors.As(err, &le) || le.Old != "nowhere" || le.New != "f2" {
			t.Errorf("Rename(nowhere, f2) = %#v, want a *os.LinkError naming both", err)
		}
	})
}

// TestModesMatchOSRoot: Chmod takes the setuid, setgid and sticky bits as
// os.Root's does; Mkdir, MkdirAll and OpenFile refuse them, saying the
// mode is unsupported (and matching ErrInvalid), as os.Root's do.
func TestModesMatchOSRoot(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		dir := testfs.New(t, "d/", "f=data")
		r := opsOpen(t, dir, c)
		for _, mode := range []fs.FileMode{0o755 | fs.ModeSticky, 0o755 | fs.ModeSetgid, 0o700 | fs.ModeSetuid} {
			if err := r.Chmod("d", mode); err != nil {
				t.Errorf("Chmod(d, %v) = %v, want nil as os.Root", mode, err)
				continue
			}
			fi, err := os.Lstat(filepath.Join(dir, "d"))
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode() &^ fs.ModeDir; got != mode {
				t.Errorf("Chmod(d, %v) left mode %v", mode, got)
			}
		}
		for _, perm := range []fs.FileMode{0o755 | fs.ModeSticky, 0o4755, fs.ModeDir | 0o755} {
			errs := map[string]error{
				"Mkdir":    r.Mkdir("new", perm),
				"MkdirAll": r.MkdirAll("new/sub", perm),
				"OpenFile": opsClose(r.OpenFile("new", os.O_CREATE|os.O_WRONLY, perm)),
			}
			for method, err := range errs {
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Err.Error() != "unsupported file mode" || !errors.Is(err, resolve.ErrInvalid) {
					t.Errorf("%s(new, %v) = %v, want an unsupported file mode matching ErrInvalid", method, perm, err)
				}
			}
			if _, err := os.Lstat(filepath.Join(dir, "new")); err == nil {
				t.Errorf("perm %v: new was created", perm)
			}
		}
	})
}

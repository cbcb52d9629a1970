package confine_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/testfs"
)

// errMethods calls every method that os.Root and confine.Root share, on
// one name (in the position that fails for a two-name method).
var errMethods = []struct {
	name string
	do   func(r rootOps, n string) error
}{
	{"Open", func(r rootOps, n string) error { return opsClose(r.Open(n)) }},
	{"Create", func(r rootOps, n string) error { return opsClose(r.Create(n)) }},
	{"OpenFile", func(r rootOps, n string) error { return opsClose(r.OpenFile(n, os.O_RDWR, 0)) }},
	{"Stat", func(r rootOps, n string) error { _, err := r.Stat(n); return err }},
	{"Lstat", func(r rootOps, n string) error { _, err := r.Lstat(n); return err }},
	{"Mkdir", func(r rootOps, n string) error { return r.Mkdir(n, 0o755) }},
	{"MkdirAll", func(r rootOps, n string) error { return r.MkdirAll(n, 0o755) }},
	{"Remove", func(r rootOps, n string) error { return r.Remove(n) }},
	{"RemoveAll", func(r rootOps, n string) error { return r.RemoveAll(n + "/x") }},
	{"Rename", func(r rootOps, n string) error { return r.Rename(n, "f2") }},
	{"Link", func(r rootOps, n string) error { return r.Link(n, "f2") }},
	{"Symlink", func(r rootOps, n string) error { return r.Symlink("f", n) }},
	{"Readlink", func(r rootOps, n string) error { _, err := r.Readlink(n); return err }},
	{"Chmod", func(r rootOps, n string) error { return r.Chmod(n, 0o600) }},
	{"Chown", func(r rootOps, n string) error { return r.Chown(n, -1, -1) }},
	{"Lchown", func(r rootOps, n string) error { return r.Lchown(n, -1, -1) }},
	{"Chtimes", func(r rootOps, n string) error { return r.Chtimes(n, opsTime, opsTime) }},
	{"ReadFile", func(r rootOps, n string) error { _, err := r.ReadFile(n); return err }},
	{"WriteFile", func(r rootOps, n string) error { return r.WriteFile(n, nil, 0o644) }},
}

// rootOps is the method set os.Root and confine.Root share.
type rootOps interface {
	Open(string) (*os.File, error)
	Create(string) (*os.File, error)
	OpenFile(string, int, fs.FileMode) (*os.File, error)
	Stat(string) (fs.FileInfo, error)
	Lstat(string) (fs.FileInfo, error)
	Mkdir(string, fs.FileMode) error
	MkdirAll(string, fs.FileMode) error
	Remove(string) error
	RemoveAll(string) error
	Rename(string, string) error
	Link(string, string) error
	Symlink(string, string) error
	Readlink(string) (string, error)
	Chmod(string, fs.FileMode) error
	Chown(string, int, int) error
	Lchown(string, int, int) error
	Chtimes(string, time.Time, time.Time) error
	ReadFile(string) ([]byte, error)
	WriteFile(string, []byte, fs.FileMode) error
}

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
		for _, m := range errMethods {
			for _, n := range names {
				what := fmt.Sprintf("%s(%q)", m.name, n)
				want, got := m.do(theirs, n), m.do(ours, n)
				if want == nil || got == nil {
					if (want == nil) != (got == nil) {
						t.Errorf("%s = %v, os.Root: %v", what, got, want)
					}
					continue
				}
				gotOp, _, _ := errShape(got)
				wantOp, _, _ := errShape(want)
				if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) || gotOp != wantOp {
					t.Errorf("%s = %v (%T, Op %q), os.Root: %v (%T, Op %q)", what, got, got, gotOp, want, want, wantOp)
				}
			}
		}
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

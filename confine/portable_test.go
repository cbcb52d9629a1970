package confine_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/resolve"
)

// The tests in this file run on every system, against the default Root:
// on Linux the native one, elsewhere (and on Linux with the
// pathguard_osroot build tag, as .ci/run does) the delegation to os.Root.

// opsTime is a time no file in the tests has by accident.
var opsTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

func opsClose(f *os.File, err error) error {
	if f != nil {
		f.Close()
	}
	return err
}

// errShape returns the Op and the names of err when it is a *fs.PathError
// or a *os.LinkError, the two types os.Root's methods return.
func errShape(err error) (op string, names []string, ok bool) {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &le):
		return le.Op, []string{le.Old, le.New}, true
	case errors.As(err, &pe):
		return pe.Op, []string{pe.Path}, true
	}
	return "", nil, false
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

// compareErrors calls every shared method on each of names on both roots
// and fails unless both succeed, or both fail with the same error type
// and Op.
func compareErrors(t *testing.T, theirs *os.Root, ours *confine.Root, names []string) {
	t.Helper()
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
}

// portableTree makes a directory holding root/f, root/d/ and a file
// outside the root, and returns the directory.
func portableTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{"root", "root/d"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"root/f", "secret"} {
		if err := os.WriteFile(filepath.Join(base, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return base
}

// portableRoot opens a Root on the root of a new portableTree; t's
// cleanup closes it.
func portableRoot(t *testing.T) (base string, r *confine.Root) {
	t.Helper()
	base = portableTree(t)
	r, err := confine.OpenRoot(filepath.Join(base, "root"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return base, r
}

func TestPortableErrorsMatchOSRoot(t *testing.T) {
	theirs, err := os.OpenRoot(filepath.Join(portableTree(t), "root"))
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	_, ours := portableRoot(t)
	compareErrors(t, theirs, ours, []string{"missing/x", "../secret", "f/x"})
}

// TestPortableEscapes: every way out is ErrEscape, matched with errors.Is,
// and the file outside is untouched.
func TestPortableEscapes(t *testing.T) {
	base, r := portableRoot(t)
	names := []string{"../secret", "d/../../secret", "/secret"}
	if runtime.GOOS != "windows" {
		if err := os.Symlink("../secret", filepath.Join(base, "root", "up")); err != nil {
			t.Fatal(err)
		}
		names = append(names, "up")
	}
	for _, n := range names {
		if _, err := r.ReadFile(n); !errors.Is(err, confine.ErrEscape) {
			t.Errorf("ReadFile(%q) = %v, want ErrEscape", n, err)
		}
		if err := r.WriteFile(n, []byte("x"), 0o644); !errors.Is(err, confine.ErrEscape) {
			t.Errorf("WriteFile(%q) = %v, want ErrEscape", n, err)
		}
		if err := r.Chmod(n, 0o600); !errors.Is(err, confine.ErrEscape) {
			t.Errorf("Chmod(%q) = %v, want ErrEscape", n, err)
		}
		if n == "up" {
			continue // Rename replaces a final link itself, inside the root
		}
		if err := r.Rename("f", n); !errors.Is(err, confine.ErrEscape) {
			t.Errorf("Rename(f, %q) = %v, want ErrEscape", n, err)
		}
	}
	if data, err := os.ReadFile(filepath.Join(base, "secret")); err != nil || string(data) != "secret" {
		t.Errorf("the file outside the root changed: %q, %v", data, err)
	}
}

// TestPortableRemoveAllDots: a name ending in "." or ".." is refused
// before anything is removed (os.Root empties the root for "a/..").
func TestPortableRemoveAllDots(t *testing.T) {
	base, r := portableRoot(t)
	dir := filepath.Join(base, "root")
	if err := r.MkdirAll("a/b", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a/..", "a/../", "a/b/..", "missing/..", ".", "a/."} {
		if err := r.RemoveAll(name); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("RemoveAll(%q) = %v, want EINVAL", name, err)
		}
	}
	for _, name := range []string{"f", "a/b"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("RemoveAll of names ending in a dot removed %s: %v", name, err)
		}
	}
	if err := r.RemoveAll("../.."); !errors.Is(err, confine.ErrEscape) {
		t.Errorf("RemoveAll(../..) = %v, want ErrEscape", err)
	}
}

// TestPortableOperations: the everyday calls work and agree with the disk.
func TestPortableOperations(t *testing.T) {
	base, r := portableRoot(t)
	dir := filepath.Join(base, "root")
	steps := []struct {
		what string
		err  error
	}{
		{"MkdirAll", r.MkdirAll("a/b/c", 0o755)},
		{"WriteFile", r.WriteFile("a/b/c/g", []byte("hello"), 0o600)},
		{"Rename", r.Rename("a/b/c/g", "a/g")},
		{"Chmod", r.Chmod("d", 0o700|fs.ModeSticky)},
		{"Remove", r.Remove("f")},
	}
	for _, s := range steps {
		if s.err != nil {
			t.Fatalf("%s: %v", s.what, s.err)
		}
	}
	if data, err := r.ReadFile("a/g"); err != nil || string(data) != "hello" {
		t.Errorf("ReadFile(a/g) = %q, %v", data, err)
	}
	ents, err := r.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != "[a d]" {
		t.Errorf("ReadDir(.) = %v, want [a d]", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "d")); err != nil || (runtime.GOOS != "windows" && fi.Mode()&fs.ModeSticky == 0) {
		t.Errorf("Chmod(d, sticky) left %v, %v", fi.Mode(), err)
	}
	if err := r.Mkdir("x", 0o755|fs.ModeSetuid); !errors.Is(err, resolve.ErrInvalid) {
		t.Errorf("Mkdir(x, setuid) = %v, want an unsupported mode matching ErrInvalid", err)
	}
	if err := fstest.TestFS(r.FS(), "a/g", "d"); err != nil {
		t.Error(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stat("d"); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Stat after Close = %v, want fs.ErrClosed", err)
	}
}

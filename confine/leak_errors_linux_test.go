//go:build !pathguard_osroot

package confine_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// fdCalls is how often each call is repeated between two counts of the
// open descriptors: a leak of one fd per call shows as fdCalls.
const fdCalls = 8

// noLeak runs do once (whatever it opens once and keeps, it may keep),
// then fdCalls times, and fails t if the process's descriptors grew. It
// returns do's last error.
func noLeak(t *testing.T, what string, do func() error) error {
	t.Helper()
	do()
	before := testfs.OpenFDs(t)
	var err error
	for range fdCalls {
		err = do()
	}
	// Only growth counts: a Root or file another test dropped may be
	// closed by its cleanup at any time, never opened.
	if after := testfs.OpenFDs(t); after > before {
		t.Errorf("%s (last error %v): %d calls left %d descriptors open, want 0", what, err, fdCalls, after-before)
	}
	return err
}

// TestNoFDLeakOnErrors makes every mutating operation (and the lookups)
// fail every way it can fail, one call at a time, and counts the
// descriptors around each: escapes, loops, non-directories in the middle
// and at the end, existing and missing names, invalid names, refused
// links (NoSymlinks), a closed Root, and NewRoot and OpenRoot failing.
// Every error path must release what it opened.
func TestNoFDLeakOnErrors(t *testing.T) {
	// Mutating calls change the tree: each operation gets a fresh one.
	tree := func(t *testing.T) (root string) {
		dir := testfs.New(t, "outside/secret=S", "root/f=F", "root/a/g=G", "root/lnk => a",
			"root/loop => loop", "root/esc => ../outside", "root/dang => nothere/x")
		root = filepath.Join(dir, "root")
		testfs.Make(t, root, "abs => "+filepath.Join(dir, "outside"))
		return root
	}
	root := tree(t)

	// Names that fail in one way or another (some succeed once in InRoot
	// mode, or for some operations: the first call does it, the
	// repeated ones then fail with EEXIST or ENOENT).
	names := []string{
		"../x", "esc/x", "esc", "abs/x", "a/../../x", // escapes
		"loop", "loop/x", // ELOOP
		"f/x", "f/", // ENOTDIR
		"a", "lnk", // EEXIST for what creates
		"nothere/x", "dang/x", // ENOENT
		"", "a\x00b", strings.Repeat("n", 256), // ErrInvalid
		"lnk/x", // ErrSymlink under NoSymlinks
	}
	type op struct {
		name string
		do   func(r *confine.Root, n string) error
	}
	ops := []op{
		{"OpenFile(O_CREATE)", func(r *confine.Root, n string) error {
			return opsClose(r.OpenFile(n, os.O_WRONLY|os.O_CREATE, 0o644))
		}},
		{"OpenFile(O_CREATE|O_EXCL)", func(r *confine.Root, n string) error {
			return opsClose(r.OpenFile(n, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644))
		}},
		{"Create", func(r *confine.Root, n string) error { return opsClose(r.Create(n)) }},
		{"WriteFile", func(r *confine.Root, n string) error { return r.WriteFile(n, []byte("w"), 0o644) }},
		{"Mkdir", func(r *confine.Root, n string) error { return r.Mkdir(n, 0o755) }},
		{"MkdirAll", func(r *confine.Root, n string) error { return r.MkdirAll(n, 0o755) }},
		{"MkdirAll/sub", func(r *confine.Root, n string) error { return r.MkdirAll(n+"/sub", 0o755) }},
		{"Symlink", func(r *confine.Root, n string) error { return r.Symlink("f", n) }},
		{"Link/new", func(r *confine.Root, n string) error { return r.Link("f", n) }},
		{"Link/old", func(r *confine.Root, n string) error { return r.Link(n, "a/h") }},
		{"Rename/new", func(r *confine.Root, n string) error { return r.Rename("nothere", n) }},
		{"Rename/old", func(r *confine.Root, n string) error { return r.Rename(n, "a/moved") }},
		{"Remove", func(r *confine.Root, n string) error { return r.Remove(n) }},
		{"RemoveAll", func(r *confine.Root, n string) error { return r.RemoveAll(n) }},
		// 0o755: a directory chmodded must stay traversable for the
		// cleanup of an unprivileged run.
		{"Chmod", func(r *confine.Root, n string) error { return r.Chmod(n, 0o755) }},
		{"Chown", func(r *confine.Root, n string) error { return r.Chown(n, -1, -1) }},
		{"Lchown", func(r *confine.Root, n string) error { return r.Lchown(n, -1, -1) }},
		{"Chtimes", func(r *confine.Root, n string) error { return r.Chtimes(n, opsTime, opsTime) }},
		{"Readlink", func(r *confine.Root, n string) error { _, err := r.Readlink(n); return err }},
		{"ReadFile", func(r *confine.Root, n string) error { _, err := r.ReadFile(n); return err }},
		{"OpenRoot", func(r *confine.Root, n string) error {
			c, err := r.OpenRoot(n)
			if err == nil {
				c.Close()
			}
			return err
		}},
	}
	type config struct {
		name  string
		extra []confine.Option
	}
	configs := []config{{"plain", nil}, {"NoSymlinks", []confine.Option{confine.NoSymlinks()}}}
	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		for _, c := range configs {
			t.Run(c.name, func(t *testing.T) {
				errs := map[string]bool{}
				for _, o := range ops {
					work := tree(t)
					r, err := confine.OpenRoot(work, openOpts(m, b, c.extra...)...)
					if err != nil {
						t.Fatal(err)
					}
					for _, n := range names {
						err := noLeak(t, fmt.Sprintf("%s(%q)", o.name, n), func() error { return o.do(r, n) })
						if err != nil {
							errs[leakClass(err)] = true
						}
					}
					r.Close()
					// A closed Root: every call fails at once.
					if err := noLeak(t, o.name+" on a closed Root", func() error { return o.do(r, "f") }); !errors.Is(err, fs.ErrClosed) {
						t.Errorf("%s on a closed Root = %v, want fs.ErrClosed", o.name, err)
					}
				}
				// Every way of failing was met (ErrEscape only where a
				// name can escape, ErrSymlink only where links are
				// refused).
				want := []string{"invalid"}
				for _, e := range []syscall.Errno{syscall.ENOTDIR, syscall.EEXIST, syscall.ENOENT} {
					want = append(want, e.Error())
				}
				if !m.inRoot {
					want = append(want, "escape")
				}
				if c.extra != nil {
					want = append(want, "symlink") // "loop" too
				} else {
					want = append(want, syscall.ELOOP.Error())
				}
				for _, w := range want {
					if !errs[w] {
						t.Errorf("no call failed with %s (met: %v)", w, errs)
					}
				}
			})
		}
	})

	t.Run("NewRoot", func(t *testing.T) {
		file, err := os.Open(filepath.Join(root, "f"))
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		closed, err := os.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		closed.Close()
		for _, b := range backends {
			for what, f := range map[string]*os.File{"a file": file, "a closed file": closed, "nil": nil} {
				if err := noLeak(t, "NewRoot("+what+")", func() error {
					r, err := confine.NewRoot(f, b.opt)
					if err == nil {
						r.Close()
					}
					return err
				}); err == nil {
					t.Errorf("NewRoot(%s, %s) succeeded", what, b.name)
				}
			}
		}
	})

	t.Run("OpenRoot", func(t *testing.T) {
		for _, b := range backends {
			for _, d := range []string{filepath.Join(root, "f"), filepath.Join(root, "nothere"), filepath.Join(root, "loop"), "", "a\x00b"} {
				if err := noLeak(t, fmt.Sprintf("OpenRoot(%q)", d), func() error {
					r, err := confine.OpenRoot(d, b.opt)
					if err == nil {
						r.Close()
					}
					return err
				}); err == nil {
					t.Errorf("OpenRoot(%q, %s) succeeded", d, b.name)
				}
			}
		}
	})
}

// leakClass is errClass, telling a refused link (ErrSymlink) from ELOOP.
func leakClass(err error) string {
	if errors.Is(err, confine.ErrSymlink) {
		return "symlink"
	}
	return errClass(err)
}

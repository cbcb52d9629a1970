//go:build !pathguard_osroot

package confine_test

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// supportBackends are the two backends Restrict and Mknod are run under.
var supportBackends = []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk}

func TestRestrictNoSymlinks(t *testing.T) {
	for _, b := range supportBackends {
		for _, inRoot := range []bool{false, true} {
			name := b.String()
			opts := []confine.Option{confine.WithResolver(b)}
			if inRoot {
				name += "/InRoot"
				opts = append(opts, confine.InRoot())
			}
			t.Run(name, func(t *testing.T) {
				dir := testfs.New(t, "d/f=x", "l => d", "abs => /etc")
				r, err := confine.OpenRoot(dir, opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				v, err := r.Restrict(confine.NoSymlinks())
				if err != nil {
					t.Fatalf("Restrict(NoSymlinks) = %v", err)
				}
				if got := v.Resolver(); got != b {
					t.Errorf("Restrict: Resolver() = %v, want the parent's %v", got, b)
				}
				if _, err := v.Open("l/f"); !errors.Is(err, confine.ErrSymlink) {
					t.Errorf("view: Open(l/f) = %v, want ErrSymlink", err)
				}
				if _, err := v.Open("d/f"); err != nil {
					t.Errorf("view: Open(d/f) = %v", err)
				}
				// The parent keeps its own policy.
				f, err := r.Open("l/f")
				if err != nil {
					t.Errorf("parent: Open(l/f) = %v", err)
				} else {
					f.Close()
				}
				// The view keeps the parent's mode: an absolute name is
				// an escape in Beneath, the root itself in InRoot.
				_, err = v.Stat("/d")
				if inRoot && err != nil || !inRoot && !errors.Is(err, confine.ErrEscape) {
					t.Errorf("view: Stat(/d) = %v (InRoot %v)", err, inRoot)
				}
				// The view's own descriptor: closing it leaves r open.
				if err := v.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := v.Open("d/f"); !errors.Is(err, fs.ErrClosed) {
					t.Errorf("closed view: Open = %v, want fs.ErrClosed", err)
				}
				if _, err := r.Stat("d/f"); err != nil {
					t.Errorf("parent after the view closed: Stat = %v", err)
				}
				// A view of a view keeps NoSymlinks.
				v2, err := r.Restrict(confine.NoSymlinks())
				if err != nil {
					t.Fatal(err)
				}
				defer v2.Close()
				v3, err := v2.Restrict()
				if err != nil {
					t.Fatal(err)
				}
				defer v3.Close()
				if _, err := v3.Open("l/f"); !errors.Is(err, confine.ErrSymlink) {
					t.Errorf("view of a view: Open(l/f) = %v, want ErrSymlink", err)
				}
			})
		}
	}
}

func TestRestrictRefusesNonRestrictions(t *testing.T) {
	r, err := confine.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, o := range map[string]confine.Option{
		"InRoot":       confine.InRoot(),
		"WithResolver": confine.WithResolver(confine.ResolverWalk),
	} {
		if v, err := r.Restrict(o); !errors.Is(err, canon.ErrInvalid) {
			t.Errorf("Restrict(%s) = %v, want canon.ErrInvalid", name, err)
			if v != nil {
				v.Close()
			}
		}
	}
	r.Close()
	if _, err := r.Restrict(confine.NoSymlinks()); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Restrict on a closed Root = %v, want fs.ErrClosed", err)
	}
}

func TestMknod(t *testing.T) {
	for _, b := range supportBackends {
		t.Run(b.String(), func(t *testing.T) {
			outside := testfs.New(t, "secret=x")
			dir := testfs.New(t, "d/", "f=x")
			testfs.Make(t, dir, "out => "+outside, "outf => "+filepath.Join(outside, "fifo"))
			before := testfs.Snapshot(t, outside)
			r, err := confine.OpenRoot(dir, confine.WithResolver(b))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.Mknod("d/p", fs.ModeNamedPipe|0o640, 0); err != nil {
				t.Fatalf("Mknod(d/p) = %v", err)
			}
			fi, err := os.Lstat(filepath.Join(dir, "d/p"))
			if err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
				t.Fatalf("d/p: %v, %v; want a FIFO", fi, err)
			}
			for _, c := range []struct {
				name string
				mode fs.FileMode
				want error
			}{
				{"d/p", fs.ModeNamedPipe | 0o600, fs.ErrExist},
				{"f", fs.ModeNamedPipe | 0o600, fs.ErrExist},
				{"outf", fs.ModeNamedPipe | 0o600, fs.ErrExist}, // a link is never followed
				{"out/fifo", fs.ModeNamedPipe | 0o600, confine.ErrEscape},
				{"../fifo", fs.ModeNamedPipe | 0o600, confine.ErrEscape},
				{"q", 0o600, canon.ErrInvalid},                                    // a regular file
				{"q", fs.ModeDir | 0o700, canon.ErrInvalid},                       // a directory
				{"q", fs.ModeNamedPipe | fs.ModeSetuid | 0o600, canon.ErrInvalid}, // set-id
				{"q", fs.ModeSymlink, canon.ErrInvalid},
			} {
				if err := r.Mknod(c.name, c.mode, 0); !errors.Is(err, c.want) {
					t.Errorf("Mknod(%q, %v) = %v, want %v", c.name, c.mode, err, c.want)
				}
			}
			v, err := r.Restrict(confine.NoSymlinks())
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			testfs.Make(t, dir, "ld => d")
			if err := v.Mknod("ld/p2", fs.ModeNamedPipe|0o600, 0); !errors.Is(err, confine.ErrSymlink) {
				t.Errorf("NoSymlinks: Mknod(ld/p2) = %v, want ErrSymlink", err)
			}
			if _, err := os.Lstat(filepath.Join(dir, "d/p2")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("d/p2 was created through a link: %v", err)
			}
			if got := testfs.Snapshot(t, outside); !maps.Equal(got, before) {
				t.Errorf("outside changed: %v, was %v", got, before)
			}
		})
	}
}

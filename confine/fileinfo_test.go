//go:build linux && !pathguard_osroot

package confine_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestFileInfoIsOs: Stat, Lstat, ReadDir's Info and FS().Stat return
// package os's own FileInfo, so os.SameFile compares them with os.Stat's,
// as it does for os.Root's, and Sys is a *syscall.Stat_t. Both backends.
func TestFileInfoIsOs(t *testing.T) {
	dir := testfs.New(t, "d/f=hello", "l => d/f")
	for _, rv := range []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk} {
		r, err := confine.OpenRoot(dir, confine.WithResolver(rv))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		want, err := os.Stat(filepath.Join(dir, "d/f"))
		if err != nil {
			t.Fatal(err)
		}
		wantLink, err := os.Lstat(filepath.Join(dir, "l"))
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, fi os.FileInfo, err error, want os.FileInfo, name string) {
			t.Helper()
			if err != nil {
				t.Fatalf("%v: %s = %v", rv, what, err)
			}
			if !os.SameFile(fi, want) {
				t.Errorf("%v: os.SameFile(%s, os's) = false, want true", rv, what)
			}
			if _, ok := fi.Sys().(*syscall.Stat_t); !ok {
				t.Errorf("%v: %s.Sys() = %T, want *syscall.Stat_t", rv, what, fi.Sys())
			}
			if fi.Name() != name || fi.Mode() != want.Mode() || fi.Size() != want.Size() {
				t.Errorf("%v: %s = %s %v %d, want %s %v %d", rv, what, fi.Name(), fi.Mode(), fi.Size(), name, want.Mode(), want.Size())
			}
		}
		fi, err := r.Stat("l")
		check("Stat(l)", fi, err, want, "l")
		fi, err = r.Lstat("d/f")
		check("Lstat(d/f)", fi, err, want, "f")
		fi, err = r.Lstat("l")
		check("Lstat(l)", fi, err, wantLink, "l")
		ents, err := r.ReadDir("d")
		if err != nil || len(ents) != 1 {
			t.Fatalf("%v: ReadDir(d) = %v, %v", rv, ents, err)
		}
		fi, err = ents[0].Info()
		check("ReadDir(d)[0].Info()", fi, err, want, "f")
		fi, err = r.FS().(interface {
			Stat(string) (os.FileInfo, error)
		}).Stat("d/f")
		check("FS().Stat(d/f)", fi, err, want, "f")
	}
}

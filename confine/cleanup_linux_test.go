//go:build !pathguard_osroot

package confine_test

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/pathguard/pathguard/confine"
)

// fdsOn counts this process's descriptors open on dir.
func fdsOn(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("reading /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == dir {
			n++
		}
	}
	return n
}

// TestDroppedRootReleasesFD: a Root (and a sub-Root) dropped without Close
// gives its descriptor back once collected, as os.Root does.
func TestDroppedRootReleasesFD(t *testing.T) {
	for _, res := range []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk} {
		t.Run(res.String(), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(dir+"/sub", 0o755); err != nil {
				t.Fatal(err)
			}
			func() {
				for range 5 {
					r, err := confine.OpenRoot(dir, confine.WithResolver(res))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := r.OpenRoot("sub"); err != nil {
						t.Fatal(err)
					}
				}
			}()
			if n := fdsOn(t, dir) + fdsOn(t, dir+"/sub"); n != 10 {
				t.Fatalf("%d descriptors on the roots before collection, want 10", n)
			}
			deadline := time.Now().Add(30 * time.Second)
			for fdsOn(t, dir)+fdsOn(t, dir+"/sub") > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d descriptors still open 30 s after the Roots were dropped", fdsOn(t, dir)+fdsOn(t, dir+"/sub"))
				}
				runtime.GC()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// TestClosedRootCleanupStopped: once Close has released the descriptor,
// collecting the Root must not close the same number again, which by then
// may belong to another file.
func TestClosedRootCleanupStopped(t *testing.T) {
	dir := t.TempDir()
	var files []*os.File
	for range 20 {
		func() {
			r, err := confine.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
		}()
		// Likely to take the number the Root just released.
		f, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for range 20 {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	for _, f := range files {
		if _, err := f.Stat(); err != nil {
			t.Errorf("a file opened after a Root's Close was closed under it: %v", err)
		}
		f.Close()
	}
}

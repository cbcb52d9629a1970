//go:build !pathguard_osroot

package confine_test

import (
	"runtime"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestRootFootprint: a Root holds one descriptor and O(1) memory whatever
// it opens. 100k opens through one Root, through a link and "..", leave the
// process's descriptors and the live heap no higher than after a warm-up,
// under each backend. The bounds are far below what a leak of one fd or
// one small object per open would leave (100k of them).
func TestRootFootprint(t *testing.T) {
	const (
		opens = 100_000
		// Live heap growth allowed: 100k leaked 8-byte objects would be
		// 800 KiB; unrelated runtime noise is a few KiB.
		maxHeapGrowth = 256 << 10
		maxObjGrowth  = 1000
	)
	dir := testfs.New(t, "a/b/f=x", "l => a/b")
	name := "l/../b/f" // a link, then "..": the walk's stack is used
	for _, rv := range []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk} {
		t.Run(rv.String(), func(t *testing.T) {
			// Roots that earlier tests dropped without Close are closed
			// by runtime cleanups after a collection, in the background:
			// the process's count can fall at any time, so only growth
			// is a failure.
			liveHeap()
			before := testfs.OpenFDs(t)
			r, err := confine.OpenRoot(dir, confine.WithResolver(rv))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := testfs.OpenFDs(t); got > before+1 {
				t.Fatalf("open descriptors after OpenRoot = %d, want at most %d (one held fd)", got, before+1)
			}
			open := func(n int) {
				for range n {
					f, err := r.Open(name)
					if err != nil {
						t.Fatalf("Open(%q): %v", name, err)
					}
					if err := f.Close(); err != nil {
						t.Fatal(err)
					}
				}
			}
			open(1000) // warm-up: lazily made runtime and package state
			heap0, objs0 := liveHeap()
			fds0 := testfs.OpenFDs(t)
			open(opens)
			heap1, objs1 := liveHeap()
			fds1 := testfs.OpenFDs(t)
			if fds1 > fds0 {
				t.Errorf("open descriptors: %d before %d opens, %d after", fds0, opens, fds1)
			}
			if heap1 > heap0+maxHeapGrowth || objs1 > objs0+maxObjGrowth {
				t.Errorf("live heap: %d bytes in %d objects before %d opens, %d bytes in %d objects after (allowed growth %d bytes, %d objects)",
					heap0, objs0, opens, heap1, objs1, maxHeapGrowth, maxObjGrowth)
			}
		})
	}
}

// liveHeap returns the bytes and the number of objects live on the heap
// after a full collection.
func liveHeap() (bytes, objects uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC() // the first may leave cleanups queued for the second
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.HeapObjects
}

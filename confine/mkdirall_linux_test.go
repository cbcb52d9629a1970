//go:build !pathguard_osroot

package confine_test

import (
	"math/bits"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestMkdirAllLinear holds MkdirAll to a cost linear in its name (issue 8:
// a 4093-byte name took 15 s when each prefix was resolved afresh from
// the root). It counts two things, never time:
//
//   - the components of the names MkdirAll asks the engine to resolve,
//     at most twice those of the name: under the walk each is an openat,
//     and resolving every prefix anew asks for about depth²/2;
//   - the openat2 calls, which the engine may spend on finding how much
//     of the name exists: at most about 2 log2 of its depth.
func TestMkdirAllLinear(t *testing.T) {
	// 2046 components, 4091 bytes: just under PATH_MAX.
	const depth = 2046
	name := strings.TrimSuffix(strings.Repeat("a/", depth), "/")
	opsEach(t, func(t *testing.T, c opsConfig) {
		r := opsOpen(t, testfs.New(t), c)
		// Nothing there, then half of it there, then all of it.
		for _, n := range []string{name[:depth], name, name} {
			levels := strings.Count(n, "/") + 1
			components, calls := 0, 0
			restoreLookup := resolve.SetLookupHookForTest(func(n string) {
				components += strings.Count(n, "/") + 1
			})
			restoreOpenat2 := resolve.SetOpenat2ForTest(func(dirfd int, path string, how *unix.OpenHow) (int, error) {
				calls++
				return sys.Openat2(dirfd, path, how)
			})
			err := r.MkdirAll(n, 0o755)
			restoreOpenat2()
			restoreLookup()
			if err != nil {
				t.Fatalf("MkdirAll(%d levels) = %v", levels, err)
			}
			t.Logf("MkdirAll(%d levels): %d components asked, %d openat2 calls", levels, components, calls)
			if limit := 2 * levels; components > limit {
				t.Errorf("MkdirAll(%d levels) asked to resolve %d components, want at most %d", levels, components, limit)
			}
			if limit := 2*bits.Len(uint(levels)) + 2; calls > limit {
				t.Errorf("MkdirAll(%d levels) made %d openat2 calls, want at most %d", levels, calls, limit)
			}
			if fi, err := r.Stat(n); err != nil || !fi.IsDir() {
				t.Errorf("Stat after MkdirAll(%d levels) = %v, %v; want a directory", levels, fi, err)
			}
		}
	})
}

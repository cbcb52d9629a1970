package resolve

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

// TestHopLimit asserts the symlink hop limit in both backends and modes:
// a chain of 40 links (the kernel's MAXSYMLINKS) is followed, 41 is ELOOP,
// a loop is ELOOP. A walk that never counted hops would follow the 41-link
// chain and fail here at once, not by running forever on the loop.
func TestHopLimit(t *testing.T) {
	tree := []string{"f=F", "loop1 => loop2", "loop2 => loop1"}
	for i := range 40 {
		tree = append(tree, fmt.Sprintf("h%d => h%d", i, i+1))
	}
	tree = append(tree, "h40 => f")
	dir := testfs.New(t, tree...)
	for key, e := range newEngines(t, dir, 0) {
		for name, wantErr := range map[string]error{"h1": nil, "h0": unix.ELOOP, "h2/": unix.ENOTDIR, "h0/": unix.ELOOP} {
			fd, err := openRetrying(e, name, unix.O_RDONLY)
			if err == nil {
				unix.Close(fd)
			}
			if !errors.Is(err, wantErr) && !(err == nil && wantErr == nil) {
				// Fatal: a walk that never counts hops would then loop
				// forever below.
				t.Fatalf("%s: Open(%q) = %v, want %v", key, name, err, wantErr)
			}
		}
		w := e.newWalker()
		_, err := w.walk("loop1", walkOpts{follow: true})
		w.close()
		if !errors.Is(err, unix.ELOOP) || w.hops != maxHops+1 {
			t.Errorf("%s: walk(loop1) = %v after %d hops, want ELOOP at hop %d", key, err, w.hops, maxHops+1)
		}
	}
}

//go:build linux && !pathguard_osroot

package confine

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

// TestChmodFallbackOvermount: Chmod's /proc/self/fd fallback is not misled
// by a tmpfs mounted over /proc/self/fd (or over /proc/self) whose
// entries are links to a victim outside the root: the file inside gets
// the mode, the victim keeps its own. It runs in a child of the test
// binary with a private mount namespace.
func TestChmodFallbackOvermount(t *testing.T) {
	if testfs.InMountNamespace(t) {
		chmodOvermountChild(t)
	}
}

func chmodOvermountChild(t *testing.T) {
	SetFchmodat2ForTest(t, fchmodat2Gone(unix.ENOSYS))
	base := testfs.New(t, "victim=v", "root/f=x")
	victim := filepath.Join(base, "victim")
	if err := os.Chmod(victim, 0o600); err != nil {
		t.Fatal(err)
	}
	self := "/proc/" + strconv.Itoa(os.Getpid())
	for i, target := range []string{self + "/fd", self} {
		if err := unix.Mount("tmpfs", target, "tmpfs", 0, "size=1m"); err != nil {
			t.Fatalf("mount over %s: %v", target, err)
		}
		fake := target
		if target == self {
			fake = filepath.Join(target, "fd")
			if err := os.Mkdir(fake, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for n := range 256 {
			if err := os.Symlink(victim, filepath.Join(fake, strconv.Itoa(n))); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range []Resolver{ResolverOpenat2, ResolverWalk} {
			r, err := OpenRoot(filepath.Join(base, "root"), WithResolver(b))
			if err != nil {
				t.Fatal(err)
			}
			want := os.FileMode(0o640 - 0o10*i)
			if b == ResolverWalk {
				want &^= 0o40
			}
			if err := r.Chmod("f", want); err != nil {
				t.Errorf("over %s, %v: Chmod(f) = %v", target, b, err)
			}
			r.Close()
			if fi, err := os.Stat(filepath.Join(base, "root/f")); err != nil || fi.Mode().Perm() != want {
				t.Errorf("over %s, %v: f's mode %v, %v, want %v", target, b, fi.Mode(), err, want)
			}
			if fi, err := os.Stat(victim); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("over %s, %v: the victim outside the root became %v: Chmod was misled by the overmount", target, b, fi.Mode())
			}
		}
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Fatal(err)
		}
	}
}

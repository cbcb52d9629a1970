//go:build linux && !pathguard_osroot

package confine

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/sys"
	"github.com/pathguard/pathguard/internal/testfs"
)

// SetFchmodat2ForTest replaces the fchmodat2 call Chmod tries first and
// restores it when t ends, so tests can take the /proc/self/fd fallback
// that kernels before 6.6 (or a seccomp filter) force.
func SetFchmodat2ForTest(t testing.TB, fn func(dirfd int, path string, mode uint32, flags int) error) {
	old := fchmodat2
	fchmodat2 = fn
	t.Cleanup(func() { fchmodat2 = old })
}

// fchmodat2Gone is fchmodat2 on a kernel that lacks it, or behind a
// seccomp filter that refuses it.
func fchmodat2Gone(errno unix.Errno) func(int, string, uint32, int) error {
	return func(int, string, uint32, int) error { return errno }
}

func TestOpsChmodFallback(t *testing.T) {
	for _, errno := range []unix.Errno{unix.ENOSYS, unix.EPERM} {
		for _, res := range []Resolver{ResolverOpenat2, ResolverWalk} {
			for _, inRoot := range []bool{false, true} {
				name := errno.Error() + "/" + res.String()
				opts := []Option{WithResolver(res)}
				if inRoot {
					name += "/InRoot"
					opts = append(opts, InRoot())
				}
				t.Run(name, func(t *testing.T) {
					SetFchmodat2ForTest(t, fchmodat2Gone(errno))
					base := testfs.New(t, "outside/secret=s", "root/f=x", "root/l => f", "root/esc => ../outside/secret", "root/d/")
					secret := filepath.Join(base, "outside/secret")
					r, err := OpenRoot(filepath.Join(base, "root"), opts...)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					for name, want := range map[string]fs.FileMode{"f": 0o600, "l": 0o640, "d": 0o711} {
						if err := r.Chmod(name, want); err != nil {
							t.Fatalf("Chmod(%q) through the fallback = %v", name, err)
						}
						got, err := r.Stat(name)
						if err != nil || got.Mode().Perm() != want {
							t.Errorf("after Chmod(%q, %v): mode %v, %v", name, want, got.Mode(), err)
						}
					}
					err = r.Chmod("esc", 0o777)
					if !inRoot && !errors.Is(err, ErrEscape) {
						t.Errorf("Chmod(esc) = %v, want ErrEscape", err)
					}
					if fi, _ := os.Stat(secret); fi.Mode().Perm() != 0o644 {
						t.Errorf("outside secret mode = %v, want 0644", fi.Mode())
					}
				})
			}
		}
	}
}

// The fallback acts on the fd, never on a link: given the O_PATH fd of a
// link itself, it refuses, as fchmodat2 does (EOPNOTSUPP), and the
// link's target keeps its mode.
func TestOpsFchmodFdRefusesLink(t *testing.T) {
	dir := testfs.New(t, "f=x", "l => f")
	fd, err := sys.OpenPath(unix.AT_FDCWD, filepath.Join(dir, "l"))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(fd)
	for _, gone := range []bool{false, true} {
		if gone {
			SetFchmodat2ForTest(t, fchmodat2Gone(unix.ENOSYS))
		}
		if err := fchmodFd(fd, 0o600); err != unix.EOPNOTSUPP {
			t.Errorf("fchmodFd(link fd), fchmodat2 gone=%v: %v, want EOPNOTSUPP", gone, err)
		}
		if fi, _ := os.Stat(filepath.Join(dir, "f")); fi.Mode().Perm() != 0o644 {
			t.Errorf("fchmodat2 gone=%v: target mode = %v, want 0644 unchanged", gone, fi.Mode())
		}
	}
}

// The chmod fallback's /proc/self/fd comes from the one procfs handle
// (internal/procfs, where its checks and the overmount test live).
func TestOpsProcHandle(t *testing.T) {
	fd, err := procSelfFd()
	if err != nil {
		t.Skipf("no procfs: %v", err)
	}
	sys.Close(fd)
}

package resolve

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMagicLinkOfAnotherProcess: a magic link of a process the caller may
// not ptrace (pid 1, for anyone but root) is ELOOP in both backends, as
// for the caller's own: openat2's EACCES from the ptrace check, which the
// kernel makes before RESOLVE_NO_MAGICLINKS, must not tell the backends
// apart.
func TestMagicLinkOfAnotherProcess(t *testing.T) {
	for key, r := range newEngines(t, "/proc", 0) {
		for _, name := range []string{"1/root", "1/root/", "1/exe", "1/cwd", "1/root/etc/passwd", "1/task/1/root"} {
			for _, flags := range []int{unix.O_PATH, unix.O_RDONLY} {
				fd, err := r.Open(name, flags, 0)
				if err == nil {
					unix.Close(fd)
				}
				if !errors.Is(err, unix.ELOOP) {
					t.Errorf("%s: Open(%q, %#x) = %v, want ELOOP", key, name, flags, err)
				}
			}
		}
	}
}

package procfs

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

// handles returns the process's handle and, when that one is private, a
// handle on the shared /proc as well: both must refuse to be misled.
func handles(t *testing.T) map[string]*Handle {
	t.Helper()
	h, err := Get()
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	m := map[string]*Handle{"Get": h}
	if h.Private() {
		s, err := openShared()
		if err != nil {
			t.Fatalf("openShared: %v", err)
		}
		t.Cleanup(func() { unix.Close(s.fd) })
		m["shared"] = s
	}
	return m
}

func TestReadlinkAndReadFile(t *testing.T) {
	f, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for key, h := range handles(t) {
		got, err := h.Readlink(int(f.Fd()))
		if err != nil || got != f.Name() {
			t.Errorf("%s: Readlink = %q, %v, want %q", key, got, err, f.Name())
		}
		for _, magic := range []string{"self/cwd/.", "self/root/etc", "self/fd/0/x"} {
			fd, err := h.Open(magic, unix.O_PATH)
			if err == nil {
				unix.Close(fd)
			}
			if !errors.Is(err, unix.ELOOP) {
				t.Errorf("%s: Open(%q) = %v, want ELOOP (a magic link)", key, magic, err)
			}
		}
		if _, err := h.ReadFile("sys/fs/protected_symlinks"); err != nil {
			t.Errorf("%s: ReadFile(sys/fs/protected_symlinks) = %v", key, err)
		}
	}
}

// TestOvermount runs, in a private mount namespace (a child process of
// this test binary), the handle's lookups with a tmpfs mounted over
// /proc/self/fd, holding links that lie about every fd, and then over
// /proc/self: the private handle still answers truly, the shared one
// refuses (EXDEV), and neither reports the planted links.
func TestOvermount(t *testing.T) {
	if testfs.InMountNamespace(t) {
		overmountChild(t)
	}
}

func overmountChild(t *testing.T) {
	f, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := f.Name()
	self := "/proc/" + strconv.Itoa(os.Getpid())
	for _, target := range []string{self + "/fd", self} {
		if err := unix.Mount("tmpfs", target, "tmpfs", 0, "size=1m"); err != nil {
			t.Fatalf("mount over %s: %v", target, err)
		}
		fake := target
		if target == self {
			if err := os.Mkdir(filepath.Join(target, "fd"), 0o755); err != nil {
				t.Fatal(err)
			}
			fake = filepath.Join(target, "fd")
		}
		for i := range 64 {
			if err := os.Symlink("/planted", filepath.Join(fake, strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd()))); got != "/planted" {
			t.Fatalf("the overmount of %s does not work: the shared /proc says %q", target, got)
		}
		for key, h := range handles(t) {
			got, err := h.Readlink(int(f.Fd()))
			switch {
			case got == "/planted":
				t.Errorf("over %s: %s: Readlink = %q: misled by the overmount", target, key, got)
			case h.Private() && (err != nil || got != want):
				t.Errorf("over %s: %s (private): Readlink = %q, %v, want %q", target, key, got, err, want)
			case !h.Private() && !errors.Is(err, unix.EXDEV):
				t.Errorf("over %s: %s (shared): Readlink = %q, %v, want EXDEV", target, key, got, err)
			}
		}
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Fatal(err)
		}
	}
}

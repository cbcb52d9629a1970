package resolve

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

// protectSymlinks turns fs.protected_symlinks on for the kernel (restored
// at cleanup) and for the walk, or skips the test where it cannot.
func protectSymlinks(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: chown of a link to another user, and the sysctl")
	}
	const knob = "/proc/sys/fs/protected_symlinks"
	old, err := os.ReadFile(knob)
	if err != nil {
		t.Skipf("cannot read %s: %v", knob, err)
	}
	if err := os.WriteFile(knob, []byte("1"), 0); err != nil {
		t.Skipf("cannot set %s: %v", knob, err)
	}
	t.Cleanup(func() { os.WriteFile(knob, old, 0) })
	saved := protectedSymlinks
	protectedSymlinks = func() bool { return true }
	t.Cleanup(func() { protectedSymlinks = saved })
}

// TestProtectedSymlinks turns fs.protected_symlinks on for the kernel and
// for the walk, and checks that both refuse a trailing link owned by a
// stranger in a sticky world-writable directory, and follow the rest.
func TestProtectedSymlinks(t *testing.T) {
	protectSymlinks(t)

	dir := testfs.New(t, "f=x", "d/g=y", "pub/", "pub/theirs => ../f", "pub/mine => ../f", "pub/mid => ../d")
	pub := filepath.Join(dir, "pub")
	if err := os.Chmod(pub, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"theirs", "mid"} {
		if err := os.Lchown(filepath.Join(pub, l), 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		wantErr error
		reason  string
	}{
		{"pub/theirs", unix.EACCES, "a stranger's trailing link in a sticky world-writable dir"},
		{"pub/mine", nil, "the follower's own link"},
		{"pub/mid/g", nil, "a link in the middle of the path is not subject to the rule"},
		{"pub/mid", unix.EACCES, "the same link as the trailing component is"},
		{"pub/mid/", unix.EACCES, "link/ is still the trailing link"},
	}
	for key, r := range newEngines(t, dir, 0) {
		for _, c := range cases {
			fd, err := r.Open(c.name, unix.O_RDONLY, 0)
			if err == nil {
				unix.Close(fd)
			}
			if !errors.Is(err, c.wantErr) && !(err == nil && c.wantErr == nil) {
				t.Errorf("%s: Open(%q) = %v, want %v (%s)", key, c.name, err, c.wantErr, c.reason)
			}
		}
	}
}

// TestProtectedSymlinksBeforeNoSymlinks pins the kernel's order in
// pick_link: the protected_symlinks refusal (EACCES) comes before
// RESOLVE_NO_SYMLINKS (ELOOP), in both backends.
func TestProtectedSymlinksBeforeNoSymlinks(t *testing.T) {
	protectSymlinks(t)

	dir := testfs.New(t, "f=x", "pub/", "pub/theirs => ../f")
	if err := os.Chmod(filepath.Join(dir, "pub"), os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(dir, "pub/theirs"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for key, r := range newEngines(t, dir, NoSymlinks) {
		fd, err := r.Open("pub/theirs", unix.O_RDONLY, 0)
		if err == nil {
			unix.Close(fd)
		}
		if !errors.Is(err, unix.EACCES) {
			t.Errorf("%s: Open(%q) = %v, want EACCES", key, "pub/theirs", err)
		}
	}
}

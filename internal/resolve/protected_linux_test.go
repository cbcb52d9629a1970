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

// TestProtectedSymlinksParent: the rule is for the trailing link of the
// lookup only, so a link that ends the parent of a name an operation acts
// on (mkdirat, unlinkat, symlinkat... of "pub/mid/new") is followed, as
// the kernel's own mkdirat of that name does.
func TestProtectedSymlinksParent(t *testing.T) {
	protectSymlinks(t)

	dir := testfs.New(t, "d/g=y", "pub/", "pub/mid => ../d")
	pub := filepath.Join(dir, "pub")
	if err := os.Chmod(pub, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(pub, "mid"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	// The kernel's answer for the same shape of name.
	if err := os.Mkdir(filepath.Join(pub, "mid/kernel"), 0o755); err != nil {
		t.Fatalf("kernel: mkdir pub/mid/kernel: %v", err)
	}
	for key, r := range newEngines(t, dir, 0) {
		for _, name := range []string{"pub/mid/new", "pub/mid/g", "pub/mid//x/", "pub/./mid/new"} {
			fd, last, _, err := r.Parent(name)
			if err != nil {
				t.Errorf("%s: Parent(%q) = %v, want the directory d (the link is not trailing)", key, name, err)
				continue
			}
			if got, want := inode(t, fd), statInode(t, filepath.Join(dir, "d")); got != want || last == "" {
				t.Errorf("%s: Parent(%q) = %v, %q, want d's inode %v", key, name, got, last, want)
			}
			unix.Close(fd)
		}
	}
}

func statInode(t *testing.T, name string) [2]uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	return [2]uint64{st.Dev, st.Ino}
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

//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// mountTmpfs mounts a fresh tmpfs on dir for the rest of t (root only).
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0755"); err != nil {
		t.Skipf("cannot mount tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

// bindMount binds src onto dst for the rest of t (root only).
func bindMount(t *testing.T, src, dst string) {
	t.Helper()
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })
}

// TestNoXDev: with NoXDev, crossing a mount point inside the root (a tmpfs,
// or a bind mount of a directory of the root onto another, which shares
// st_dev) is ErrCrossDevice and not ErrEscape; an escape is ErrEscape and
// not ErrCrossDevice; both match EXDEV. Both backends, both modes.
func TestNoXDev(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	dir := testfs.New(t, "secret=OUTSIDE", "root/secret=INNER", "root/f=F", "root/mnt/", "root/src/s=S", "root/dst/",
		"root/lm => mnt", "root/lb => dst/s", "root/esc => ../secret", "root/a/b/")
	root := filepath.Join(dir, "root")
	mountTmpfs(t, filepath.Join(root, "mnt"))
	testfs.Make(t, filepath.Join(root, "mnt"), "m=M", "up => ../f", "out => ../../secret", "d/")
	bindMount(t, filepath.Join(root, "src"), filepath.Join(root, "dst"))

	const (
		cross  = "cross"
		escape = "escape"
	)
	cases := []struct {
		open   string
		want   string // cross, escape, or the content
		inRoot string // when it differs
		reason string
		// escapes: without NoXDev the name escapes (Beneath)
		escapes bool
	}{
		{open: "f", want: "F", reason: "no mount on the way"},
		{open: "a/b/../../f", want: "F", reason: "no mount on the way"},
		{open: "src/s", want: "S", reason: "the bind mount's source is not a mount point"},
		{open: "mnt/m", want: cross, reason: "into a tmpfs"},
		{open: "mnt", want: cross, reason: "the mount point itself is on the other mount"},
		{open: "mnt/", want: cross, reason: "with a trailing slash"},
		{open: "lm/m", want: cross, reason: "through a link to the mount point"},
		{open: "dst/s", want: cross, reason: "a bind mount shares st_dev and is still a crossing"},
		{open: "lb", want: cross, reason: "a link into the bind mount"},
		{open: "../secret", want: escape, inRoot: "INNER", reason: "an escape is ErrEscape, not ErrCrossDevice"},
		{open: "esc", want: escape, inRoot: "INNER", reason: "a link out of the root"},
		{open: "a/../../secret", want: escape, inRoot: "INNER", reason: "an escape after a directory"},
		{open: "mnt/../f", want: cross, reason: "into the mount and back out is still a crossing"},
		{open: "mnt/d/../../f", want: cross, reason: "into the mount and back out is still a crossing"},
		{open: "mnt/../../secret", want: cross, escapes: true,
			reason: "the crossing comes first: nothing beyond the mount point is looked up"},
		{open: "mnt/out", want: cross, escapes: true,
			reason: "a link on the mount is never read, so where it leads does not count"},
	}
	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		r, err := confine.OpenRoot(root, openOpts(m, b, confine.NoXDev())...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		plain, err := confine.OpenRoot(root, openOpts(m, b)...)
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		for _, c := range cases {
			want := c.want
			if m.inRoot && c.inRoot != "" {
				want = c.inRoot
			}
			f, err := r.Open(c.open)
			got := ""
			if err == nil {
				got = describeFile(t, f)
				f.Close()
			}
			switch want {
			case cross:
				if !errors.Is(err, confine.ErrCrossDevice) || !errors.Is(err, unix.EXDEV) || errors.Is(err, confine.ErrEscape) {
					t.Errorf("Open(%q) = %q, %v, want %v and not %v (%s)", c.open, got, err, confine.ErrCrossDevice, confine.ErrEscape, c.reason)
				}
				// Without NoXDev the same name is fine (or escapes).
				f, err := plain.Open(c.open)
				if c.escapes && !m.inRoot {
					if !errors.Is(err, confine.ErrEscape) {
						t.Errorf("without NoXDev: Open(%q) = %v, want %v", c.open, err, confine.ErrEscape)
					}
				} else if err != nil {
					t.Errorf("without NoXDev: Open(%q) = %v, want success", c.open, err)
				} else {
					f.Close()
				}
			case escape:
				if !errors.Is(err, confine.ErrEscape) || !errors.Is(err, unix.EXDEV) || errors.Is(err, confine.ErrCrossDevice) {
					t.Errorf("Open(%q) = %q, %v, want %v and not %v (%s)", c.open, got, err, confine.ErrEscape, confine.ErrCrossDevice, c.reason)
				}
			default:
				if err != nil || got != want {
					t.Errorf("Open(%q) = %q, %v, want %q (%s)", c.open, got, err, want, c.reason)
				}
			}
		}
		// A final link that is not followed does not escape: only the
		// crossing is refused.
		if _, err := r.Lstat("mnt/out"); !errors.Is(err, confine.ErrCrossDevice) || errors.Is(err, confine.ErrEscape) {
			t.Errorf("Lstat(%q) = %v, want %v", "mnt/out", err, confine.ErrCrossDevice)
		}
		f, err := r.OpenFile("mnt/out", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, confine.ErrCrossDevice) || errors.Is(err, confine.ErrEscape) {
			t.Errorf("OpenFile(%q, O_CREATE|O_EXCL) = %v, want %v", "mnt/out", err, confine.ErrCrossDevice)
		}
		// A Root opened on the mount itself may use it freely, but not
		// leave it.
		sr, err := confine.OpenRoot(filepath.Join(root, "mnt"), openOpts(m, b, confine.NoXDev())...)
		if err != nil {
			t.Fatal(err)
		}
		defer sr.Close()
		if f, err := sr.Open("m"); err != nil {
			t.Errorf("on the mount: Open(%q) = %v, want success", "m", err)
		} else {
			f.Close()
		}
		f, err = sr.Open("up")
		if err == nil {
			f.Close()
		}
		if m.inRoot {
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("on the mount: Open(%q) = %v, want %v", "up", err, os.ErrNotExist)
			}
		} else if !errors.Is(err, confine.ErrEscape) || errors.Is(err, confine.ErrCrossDevice) {
			t.Errorf("on the mount: Open(%q) = %v, want %v", "up", err, confine.ErrEscape)
		}
	})
}

// TestNoXDevRemoveAll: RemoveAll's own descent never enters another mount
// under NoXDev: a tmpfs inside the root, reached as the name itself or
// found inside a directory being removed, is refused with ErrCrossDevice
// and nothing on it is removed. Both backends, both modes.
func TestNoXDevRemoveAll(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		dir := testfs.New(t, "root/mnt/", "root/d/inner/", "root/d/f=F")
		root := filepath.Join(dir, "root")
		mountTmpfs(t, filepath.Join(root, "mnt"))
		testfs.Make(t, filepath.Join(root, "mnt"), "precious=P", "sub/x=X")
		mountTmpfs(t, filepath.Join(root, "d/inner"))
		testfs.Make(t, filepath.Join(root, "d/inner"), "precious=P")
		r, err := confine.OpenRoot(root, openOpts(m, b, confine.NoXDev())...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, name := range []string{"mnt", "mnt/sub", "d"} {
			if err := r.RemoveAll(name); !errors.Is(err, confine.ErrCrossDevice) {
				t.Errorf("RemoveAll(%q) = %v, want %v", name, err, confine.ErrCrossDevice)
			}
		}
		for _, p := range []string{"mnt/precious", "mnt/sub/x", "d/inner/precious"} {
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				t.Errorf("%s was removed through a mount crossing: %v", p, err)
			}
		}
	})
}

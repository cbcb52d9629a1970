package resolve

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

// TestParent: the parent of the last component is resolved with every
// check, the last component is never followed, and both backends agree.
func TestParent(t *testing.T) {
	root := testfs.New(t, "secret=OUT", "r/a/b/f=F", "r/l => a/b", "r/esc => ../", "r/abs => /a")
	cases := []struct {
		name     string
		dir      string // the directory reached, relative to r ("" on error)
		last     string
		slash    bool
		wantErr  error
		inRootOK bool // InRoot resolves what Beneath refuses
	}{
		{name: "a/b/f", dir: "a/b", last: "f"},
		{name: "f", dir: ".", last: "f"},
		{name: "l/f", dir: "a/b", last: "f"},
		{name: "a/b/", dir: "a", last: "b", slash: true},
		{name: "l", dir: ".", last: "l"},
		{name: "a/..", dir: "a", last: ".."},
		{name: "esc/x", wantErr: ErrEscape, inRootOK: true},
		{name: "../x", wantErr: ErrEscape, inRootOK: true},
		{name: "abs/x", wantErr: ErrEscape, inRootOK: true},
		{name: "nothere/x", wantErr: syscall.ENOENT},
		{name: "a/b/f/x", wantErr: syscall.ENOTDIR},
		{name: "", wantErr: ErrInvalid},
	}
	rs := newEngines(t, root+"/r", 0)
	want := map[string][2]uint64{}
	for _, d := range []string{".", "a", "a/b"} {
		fd, err := unix.Open(root+"/r/"+d, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		want[d] = inode(t, fd)
		unix.Close(fd)
	}
	for key, r := range rs {
		for _, c := range cases {
			fd, last, slash, err := r.Parent(c.name)
			if c.wantErr != nil && !(c.inRootOK && r.Mode() == InRoot) {
				if !errors.Is(err, c.wantErr) {
					t.Errorf("%s: Parent(%q) = %v, want %v", key, c.name, err, c.wantErr)
				}
				if err == nil {
					unix.Close(fd)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: Parent(%q) = %v, want success", key, c.name, err)
				continue
			}
			got := inode(t, fd)
			unix.Close(fd)
			if c.dir != "" && (got != want[c.dir] || last != c.last || slash != c.slash) {
				t.Errorf("%s: Parent(%q) = %v, %q, %v, want %s, %q, %v", key, c.name, got, last, slash, c.dir, c.last, c.slash)
			}
		}
	}
}

// TestOpenFlags: O_DIRECTORY, O_TMPFILE, O_PATH|O_NOFOLLOW and O_CREAT on
// directories give the same answer in both backends.
func TestOpenFlags(t *testing.T) {
	root := testfs.New(t, "f=F", "d/", "ld => d", "lf => f")
	cases := []struct {
		name    string
		flags   int
		wantErr error
	}{
		{"d", unix.O_RDONLY | unix.O_DIRECTORY, nil},
		{"f", unix.O_RDONLY | unix.O_DIRECTORY, syscall.ENOTDIR},
		{"ld", unix.O_RDONLY | unix.O_DIRECTORY, nil},
		{"lf", unix.O_RDONLY | unix.O_DIRECTORY, syscall.ENOTDIR},
		{"ld", unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW, syscall.ENOTDIR},
		{"lf", unix.O_PATH | unix.O_NOFOLLOW, nil},
		{"lf", unix.O_RDONLY | unix.O_NOFOLLOW, syscall.ELOOP},
		{"d", unix.O_TMPFILE | unix.O_RDWR, nil},
		{"f", unix.O_TMPFILE | unix.O_RDWR, syscall.ENOTDIR},
		{"d", unix.O_RDWR | unix.O_CREAT, syscall.EISDIR},
		{".", unix.O_RDONLY | unix.O_CREAT, syscall.EISDIR},
		{"d", unix.O_WRONLY, syscall.EISDIR},
		{"ld/", unix.O_PATH | unix.O_NOFOLLOW, nil},
	}
	rs := newEngines(t, root, 0)
	for key, r := range rs {
		for _, c := range cases {
			fd, err := r.Open(c.name, c.flags, 0o600)
			if err == nil {
				unix.Close(fd)
			}
			if (c.wantErr == nil) != (err == nil) || (c.wantErr != nil && !errors.Is(err, c.wantErr)) {
				t.Errorf("%s: Open(%q, %#x) = %v, want %v", key, c.name, c.flags, err, c.wantErr)
			}
		}
	}
}

// TestCreateTrailingSlash: O_CREAT of "x/" is EISDIR and creates nothing,
// but a name that leads outside is an escape first, in both backends.
func TestCreateTrailingSlash(t *testing.T) {
	dir := testfs.New(t, "root/d/", "root/f", "root/out => ../outside", "outside/")
	cases := []struct {
		name    string
		beneath error
		inRoot  error
		reason  string
	}{
		{"new/", unix.EISDIR, unix.EISDIR, "a new name with a slash"},
		{"d/", unix.EISDIR, unix.EISDIR, "an existing directory"},
		{"f/", unix.EISDIR, unix.EISDIR, "an existing file"},
		{"../outside/new/", ErrEscape, unix.EISDIR, "an escape by .. is an escape before EISDIR"},
		{"out/new/", ErrEscape, unix.EISDIR, "an escape by a link is an escape before EISDIR"},
	}
	for key, r := range newEngines(t, filepath.Join(dir, "root"), 0) {
		for _, c := range cases {
			fd, err := r.Open(c.name, unix.O_CREAT|unix.O_WRONLY, 0o644)
			if err == nil {
				unix.Close(fd)
			}
			want := c.beneath
			if r.Mode() == InRoot {
				want = c.inRoot
			}
			if !errors.Is(err, want) {
				t.Errorf("%s: Open(%q, O_CREAT) = %v, want %v (%s)", key, c.name, err, want, c.reason)
			}
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "outside")); len(ents) != 0 {
		t.Errorf("something was created outside: %v", ents)
	}
	if _, err := os.Lstat(filepath.Join(dir, "root/new")); err == nil {
		t.Errorf("root/new was created")
	}
}

// TestCreateThroughSlashLink: O_CREAT through a link whose text ends in a
// slash is EISDIR when the entry is a file, as the kernel says, in both
// backends; to a directory, EISDIR as well; to nothing, EISDIR.
func TestCreateThroughSlashLink(t *testing.T) {
	dir := testfs.New(t, "file=F", "d/", "tofile => file/", "todir => d/", "tonew => new/")
	for key, r := range newEngines(t, dir, 0) {
		for _, name := range []string{"tofile", "todir", "tonew"} {
			fd, err := r.Open(name, unix.O_CREAT|unix.O_WRONLY, 0o644)
			if err == nil {
				unix.Close(fd)
			}
			if !errors.Is(err, unix.EISDIR) {
				t.Errorf("%s: Open(%q, O_CREAT) = %v, want EISDIR", key, name, err)
			}
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "new")); err == nil {
		t.Errorf("new was created")
	}
}

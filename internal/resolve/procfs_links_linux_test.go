package resolve

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// plainProcLinks lists every symlink below /proc outside the per-process
// directories (/proc/<pid>, and self and thread-self, which lead there),
// relative to /proc.
func plainProcLinks(t *testing.T) []string {
	t.Helper()
	var links []string
	err := filepath.WalkDir("/proc", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "/proc" {
				return err
			}
			return nil // an entry that vanished or may not be read
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "/proc"), "/")
		if d.IsDir() && rel != "" && !strings.Contains(rel, "/") && strings.Trim(rel, "0123456789") == "" {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSymlink != 0 {
			links = append(links, rel)
		}
		return nil
	})
	if err != nil {
		t.Skipf("cannot walk /proc: %v", err)
	}
	if len(links) == 0 {
		t.Skip("no symlinks below /proc")
	}
	return links
}

// TestPlainProcLinks: both backends agree on every plain procfs link (those
// outside the per-process directories), followed or not, with the root at
// /proc and at /: openat2 follows them by their text, and so must the walk
// (it used to refuse every procfs link outside /proc itself with ELOOP,
// /proc/fs/xfs/stat among them).
func TestPlainProcLinks(t *testing.T) {
	// thread-self names the calling thread: both backends must look it
	// up from the same one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	links := plainProcLinks(t)
	t.Logf("%d plain procfs links: %v", len(links), links)
	for _, root := range []string{"/proc", "/"} {
		engines := newEngines(t, root, 0)
		for _, link := range links {
			name := link
			if root == "/" {
				name = "proc/" + link
			}
			for _, mode := range []string{"Beneath", "InRoot"} {
				for _, flags := range []int{unix.O_PATH, unix.O_PATH | unix.O_NOFOLLOW, unix.O_RDONLY} {
					var got [2]string
					for i, b := range []string{"openat2", "walk"} {
						fd, err := openRetrying(engines[mode+"/"+b], name, flags)
						got[i] = outcome(t, fd, err)
					}
					if got[0] != got[1] {
						t.Errorf("%s %s: Open(%q, %#x): openat2 %s, walk %s", root, mode, name, flags, got[0], got[1])
					}
				}
			}
		}
	}
}

// outcome is an Open's result as a comparable string: the inode reached
// (the fd is closed) or the errno.
func outcome(t *testing.T, fd int, err error) string {
	t.Helper()
	if err != nil {
		var errno unix.Errno
		switch {
		case errors.As(err, &errno):
			return errno.Error()
		case errors.Is(err, ErrEscape):
			return "escape"
		}
		return err.Error()
	}
	defer unix.Close(fd)
	return inodeString(inode(t, fd))
}

// TestPlainProcLinkIsFollowed pins the case the issue names: under InRoot
// at /, proc/fs/xfs/stat (a link to /sys/fs/xfs/stats/stats) is read in
// both backends.
func TestPlainProcLinkIsFollowed(t *testing.T) {
	if _, err := os.Lstat("/proc/fs/xfs/stat"); err != nil {
		t.Skip("no /proc/fs/xfs/stat here")
	}
	for _, b := range []string{"openat2", "walk"} {
		r := newEngines(t, "/", 0)["InRoot/"+b]
		fd, err := openRetrying(r, "proc/fs/xfs/stat", unix.O_RDONLY)
		if err != nil {
			t.Errorf("%s: Open(proc/fs/xfs/stat) = %v, want the file", b, err)
			continue
		}
		unix.Close(fd)
	}
}

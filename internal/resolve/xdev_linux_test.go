package resolve

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

// TestNoXDevLooksNoFurther: under NoXDev a lookup that meets a mount point
// looks up nothing beyond it, in either backend or mode, also to tell a
// crossing from an escape: the links on the other mount (a tmpfs mounted
// strictatime, where every readlink sets the link's atime) keep their
// atime, and every such name is ErrCrossDevice.
func TestNoXDevLooksNoFurther(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	dir := testfs.New(t, "secret=OUT", "root/f=F", "root/mnt/", "root/lm => mnt")
	root := filepath.Join(dir, "root")
	mnt := filepath.Join(root, "mnt")
	if err := unix.Mount("tmpfs", mnt, "tmpfs", unix.MS_STRICTATIME, "size=1m,mode=0755"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	testfs.Make(t, mnt, "m=M", "d/", "out => ../../secret", "in => m", "up => ../f", "d/deep => ../../../secret")
	links := []string{"out", "in", "up", "d/deep"}
	old := unix.NsecToTimespec(1e9)
	for _, l := range links {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(mnt, l), []unix.Timespec{old, old}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"mnt/out", "mnt/in", "mnt/up", "mnt/d/deep", "lm/out", "mnt/../../secret", "mnt/d/deep/x", "mnt/out/"}
	for key, r := range newEngines(t, root, NoXDev) {
		for _, name := range names {
			for _, flags := range []int{unix.O_RDONLY, unix.O_PATH, unix.O_PATH | unix.O_NOFOLLOW, unix.O_RDWR | unix.O_CREAT} {
				fd, err := openRetrying(r, name, flags)
				if err == nil {
					unix.Close(fd)
				}
				if !errors.Is(err, ErrCrossDevice) {
					t.Errorf("%s: Open(%q, %#x) = %v, want ErrCrossDevice", key, name, flags, err)
				}
			}
			if _, err := untilQuiet(func() (string, error) { return r.Resolve(name) }); !errors.Is(err, ErrCrossDevice) {
				t.Errorf("%s: Resolve(%q) = %v, want ErrCrossDevice", key, name, err)
			}
		}
	}
	for _, l := range links {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(mnt, l), &st); err != nil {
			t.Fatal(err)
		}
		if st.Atim != old {
			t.Errorf("mnt/%s was read (atime %v): a lookup looked beyond the mount point", l, st.Atim)
		}
	}
}

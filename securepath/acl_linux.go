package securepath

import (
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/procfs"
	"github.com/pathguard/pathguard/internal/sys"
)

// readACLs reports whether the directory fd (an O_PATH fd) carries a POSIX
// access ACL and a default ACL.
//
// fgetxattr refuses O_PATH fds (EBADF, up to at least Linux 6.18), and
// opening the directory O_RDONLY to get a readable fd needs read
// permission on it, which a caller may lack on an ancestor it can still
// search (a 0711 directory). getxattr(2) on /proc/self/fd/N needs neither:
// the magic link leads to the very inode the fd holds, with no lookup by
// the directory's own name, and reading system.posix_acl_* needs no
// permission on the inode. So: fgetxattr first (should a kernel accept
// O_PATH fds), then /proc/self/fd/N on a /proc checked once to be procfs.
// Without a usable /proc the answer is an error, never "no ACL".
func readACLs(fd int) (access, def bool, err error) {
	if access, err = hasXattr(fd, "system.posix_acl_access"); err != nil {
		return false, false, err
	}
	if def, err = hasXattr(fd, "system.posix_acl_default"); err != nil {
		return false, false, err
	}
	return access, def, nil
}

func hasXattr(fd int, attr string) (bool, error) {
	var buf [1]byte
	_, err := sys.Fgetxattr(fd, attr, buf[:0])
	if err == unix.EBADF {
		err = procXattr(fd, attr)
	}
	switch err {
	case nil, unix.ERANGE:
		return true, nil
	case unix.ENODATA, unix.EOPNOTSUPP:
		// No such attribute, or a file system without xattrs or ACLs.
		return false, nil
	}
	return false, err
}

// procXattr reads attribute attr of the inode fd holds through its
// /proc/self/fd entry on the process's one procfs handle: getxattrat(2)
// relative to that handle's fd directory (Linux 6.13+), so nothing
// mounted over /proc/self/fd can answer instead. Older kernels have only
// getxattr(2), which takes a path: /proc/self/fd/N by name, once the
// handle has been verified.
func procXattr(fd int, attr string) error {
	dir, err := procSelfFd()
	if err != nil {
		return err
	}
	defer sys.Close(dir)
	_, err = sys.Getxattrat(dir, strconv.Itoa(fd), 0, attr, nil)
	if err == unix.ENOSYS {
		_, err = sys.Getxattr("/proc/self/fd/"+strconv.Itoa(fd), attr, nil)
	}
	return err
}

// procSelfFd opens /proc/self/fd on the process's one procfs handle,
// verified and hardened against overmounts.
func procSelfFd() (int, error) {
	h, err := procfs.Get()
	if err != nil {
		return -1, err
	}
	return h.SelfFd()
}

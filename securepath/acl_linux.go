package securepath

import (
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/procfs"
	"github.com/pathguard/pathguard/internal/sys"
)

const (
	aclAccess  = "system.posix_acl_access"
	aclDefault = "system.posix_acl_default"
)

// pathXattrRefused is the one place that knows whether fgetxattr refuses
// O_PATH fds: it is set, for the whole process, the first time readACLs
// sees it do so (EBADF on the walk's O_PATH fd, which is valid). A kernel
// does not lose that refusal while a process runs, so from then on the
// ACLs of an O_PATH fd are read through procfs at once, one procfs lookup
// for both attributes, rather than trying fgetxattr first each time.
var pathXattrRefused atomic.Bool

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
// O_PATH fds), until it has once refused one (pathXattrRefused), then
// /proc/self/fd/N on a /proc checked once to be procfs. Without a usable
// /proc the answer is an error, never "no ACL".
func readACLs(fd int) (access, def bool, err error) {
	if !pathXattrRefused.Load() {
		var buf [1]byte
		_, err := sys.Fgetxattr(fd, aclAccess, buf[:0])
		if err != unix.EBADF {
			if access, err = xattrPresent(err); err != nil {
				return false, false, err
			}
			if def, err = hasXattr(fd, aclDefault); err != nil {
				return false, false, err
			}
			return access, def, nil
		}
		pathXattrRefused.Store(true)
	}
	dir, err := procSelfFd()
	if err != nil {
		return false, false, err
	}
	defer sys.Close(dir)
	if access, err = xattrPresent(procXattr(dir, fd, aclAccess)); err != nil {
		return false, false, err
	}
	if def, err = xattrPresent(procXattr(dir, fd, aclDefault)); err != nil {
		return false, false, err
	}
	return access, def, nil
}

// hasXattr reports whether the file open as fd (any descriptor) has the
// attribute attr: fgetxattr, or, when it refuses the fd (O_PATH), the
// fd's /proc/self/fd entry.
func hasXattr(fd int, attr string) (bool, error) {
	var buf [1]byte
	_, err := sys.Fgetxattr(fd, attr, buf[:0])
	if err == unix.EBADF {
		var dir int
		if dir, err = procSelfFd(); err == nil {
			err = procXattr(dir, fd, attr)
			sys.Close(dir)
		}
	}
	return xattrPresent(err)
}

// xattrPresent reads the answer of a zero-length getxattr: present (nil,
// or ERANGE for a value that does not fit), absent, or an error.
func xattrPresent(err error) (bool, error) {
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
// /proc/self/fd entry in dir, /proc/self/fd on the process's one procfs
// handle (procSelfFd): getxattrat(2) relative to dir (Linux 6.13+), so
// nothing mounted over /proc/self/fd can answer instead. Older kernels
// have only getxattr(2), which takes a path: /proc/self/fd/N by name,
// once the handle has been verified.
func procXattr(dir, fd int, attr string) error {
	_, err := sys.Getxattrat(dir, strconv.Itoa(fd), 0, attr, nil)
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

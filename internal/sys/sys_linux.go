package sys

import (
	"bytes"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Openat2 is openat2(2) with O_CLOEXEC added to how.Flags and EINTR
// retried. EAGAIN is returned as is: the retry policy for a lookup lives
// in internal/resolve, the one layer that can bound the whole lookup.
func Openat2(dirfd int, path string, how *unix.OpenHow) (int, error) {
	h := *how
	h.Flags |= unix.O_CLOEXEC
	// The name as a C string, in a buffer on the stack when it is short
	// (most are), so that a lookup allocates nothing.
	var buf [256]byte
	p, err := cString(&buf, path)
	if err != nil {
		return -1, err
	}
	for {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT2, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(&h)), unsafe.Sizeof(h), 0, 0)
		switch e {
		case 0:
			return int(fd), nil
		case unix.EINTR:
			continue
		}
		return -1, e
	}
}

// cString returns s as a NUL-terminated C string: in buf when it fits,
// else on the heap. A NUL inside s is EINVAL, as in unix.BytePtrFromString.
func cString(buf *[256]byte, s string) (*byte, error) {
	if len(s) >= len(buf) {
		return unix.BytePtrFromString(s)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return nil, unix.EINVAL
	}
	buf[copy(buf[:], s)] = 0
	return &buf[0], nil
}

// Openat is openat(2) with O_CLOEXEC added and EINTR retried. Like
// Openat2 it allocates nothing for a name shorter than 256 bytes: the
// walk calls it once per component.
func Openat(dirfd int, path string, flags int, mode uint32) (int, error) {
	var buf [256]byte
	p, err := cString(&buf, path)
	if err != nil {
		return -1, err
	}
	flags |= unix.O_CLOEXEC | unix.O_LARGEFILE // O_LARGEFILE as unix.Openat adds it
	return retryFd(func() (int, error) {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode), 0, 0)
		if e != 0 {
			return -1, e
		}
		return int(fd), nil
	})
}

// OpenPath opens path relative to dirfd with O_PATH|O_NOFOLLOW: a handle on
// the entry itself (a symlink included), never following it.
func OpenPath(dirfd int, path string) (int, error) {
	return Openat(dirfd, path, unix.O_PATH|unix.O_NOFOLLOW, 0)
}

// retry is the one EINTR rule of this package: a call interrupted by a
// signal before it did anything is made again, as package os does. Every
// wrapper but Close goes through it.
func retry(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
}

// retryFd is retry for calls that return a value (an fd, a count).
func retryFd(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Fstat is fstat(2) with EINTR retried.
func Fstat(fd int, st *unix.Stat_t) error {
	return retry(func() error { return unix.Fstat(fd, st) })
}

// Fstatat is fstatat(2) with EINTR retried.
func Fstatat(dirfd int, path string, st *unix.Stat_t, flags int) error {
	return retry(func() error { return unix.Fstatat(dirfd, path, st, flags) })
}

// Fstatfs is fstatfs(2) with EINTR retried.
func Fstatfs(fd int, st *unix.Statfs_t) error {
	return retry(func() error { return unix.Fstatfs(fd, st) })
}

// Mkdirat is mkdirat(2) with EINTR retried.
func Mkdirat(dirfd int, path string, mode uint32) error {
	return retry(func() error { return unix.Mkdirat(dirfd, path, mode) })
}

// Unlinkat is unlinkat(2) with EINTR retried.
func Unlinkat(dirfd int, path string, flags int) error {
	return retry(func() error { return unix.Unlinkat(dirfd, path, flags) })
}

// Linkat is linkat(2) with EINTR retried.
func Linkat(olddirfd int, oldpath string, newdirfd int, newpath string, flags int) error {
	return retry(func() error { return unix.Linkat(olddirfd, oldpath, newdirfd, newpath, flags) })
}

// Symlinkat is symlinkat(2) with EINTR retried.
func Symlinkat(target string, dirfd int, path string) error {
	return retry(func() error { return unix.Symlinkat(target, dirfd, path) })
}

// Mknodat is mknodat(2) with EINTR retried.
func Mknodat(dirfd int, path string, mode uint32, dev uint64) error {
	return retry(func() error { return unix.Mknodat(dirfd, path, mode, int(dev)) })
}

// Fchmodat is fchmodat(2) (the old call, without flags: it always follows
// a final link) with EINTR retried.
func Fchmodat(dirfd int, path string, mode uint32) error {
	return retry(func() error { return unix.Fchmodat(dirfd, path, mode, 0) })
}

// Fchmod is fchmod(2) with EINTR retried.
func Fchmod(fd int, mode uint32) error {
	return retry(func() error { return unix.Fchmod(fd, mode) })
}

// Fchownat is fchownat(2) with EINTR retried.
func Fchownat(dirfd int, path string, uid, gid, flags int) error {
	return retry(func() error { return unix.Fchownat(dirfd, path, uid, gid, flags) })
}

// UtimensatFd is utimensat(fd, "", ts, AT_EMPTY_PATH) with EINTR retried:
// the times of the inode fd refers to, an O_PATH fd included.
func UtimensatFd(fd int, ts []unix.Timespec) error {
	return retry(func() error { return unix.UtimesNanoAt(fd, "", ts, unix.AT_EMPTY_PATH) })
}

// Fsync is fsync(2) with EINTR retried.
func Fsync(fd int) error {
	return retry(func() error { return unix.Fsync(fd) })
}

// WriteAll writes all of p to fd with write(2), EINTR retried, short
// writes continued.
func WriteAll(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := retryFd(func() (int, error) { return unix.Write(fd, p) })
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// Fgetxattr is fgetxattr(2) with EINTR retried.
func Fgetxattr(fd int, attr string, dest []byte) (int, error) {
	return retryFd(func() (int, error) { return unix.Fgetxattr(fd, attr, dest) })
}

// Getxattr is getxattr(2) with EINTR retried.
func Getxattr(path, attr string, dest []byte) (int, error) {
	return retryFd(func() (int, error) { return unix.Getxattr(path, attr, dest) })
}

// Dup is fcntl(F_DUPFD_CLOEXEC): a new fd on the same open file, with
// O_CLOEXEC, as every fd this package hands out.
func Dup(fd int) (int, error) {
	return retryFd(func() (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) })
}

// Fsuid returns the filesystem uid, which is what the kernel compares a
// link's owner with for fs.protected_symlinks. setfsuid(-1) changes
// nothing (-1 is never a valid uid) and returns the current value.
func Fsuid() int {
	uid, _ := unix.SetfsuidRetUid(-1)
	return uid
}

// Readlinkat is readlinkat(2) returning the whole target, however long:
// the buffer grows until the target fits. With path "" it reads the link
// that an O_PATH|O_NOFOLLOW fd refers to (Linux 2.6.39+).
func Readlinkat(dirfd int, path string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := retryFd(func() (int, error) { return unix.Readlinkat(dirfd, path, buf) })
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size >= 1<<20 {
			return "", unix.ENAMETOOLONG
		}
	}
}

// Renameat2 is renameat2(2) with EINTR retried.
func Renameat2(olddirfd int, oldpath string, newdirfd int, newpath string, flags uint) error {
	return retry(func() error { return unix.Renameat2(olddirfd, oldpath, newdirfd, newpath, flags) })
}

// Fchmodat2 is the fchmodat2(2) system call (Linux 6.6+), called directly:
// x/sys's Fchmodat turns its ENOSYS into EOPNOTSUPP, which would hide the
// difference between "no such call" and "not on a symlink".
func Fchmodat2(dirfd int, path string, mode uint32, flags int) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	return retry(func() error {
		_, _, e := unix.Syscall6(unix.SYS_FCHMODAT2, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(mode), uintptr(flags), 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
}

// MountID returns the mount id of the mount fd lies on: statx's
// STATX_MNT_ID_UNIQUE (Linux 6.8+), else STATX_MNT_ID (5.8+), else the
// mnt_id line of /proc/self/fdinfo/fd. Unique ids are never reused; old
// ids may be, once a mount is gone, which cannot happen to a mount the
// caller holds an fd on.
func MountID(fd int) (uint64, error) {
	var stx unix.Statx_t
	for _, mask := range []int{unix.STATX_MNT_ID_UNIQUE, unix.STATX_MNT_ID} {
		err := retry(func() error { return unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, mask, &stx) })
		if err != nil {
			break
		}
		if stx.Mask&uint32(mask) != 0 {
			return stx.Mnt_id, nil
		}
	}
	return fdinfoMountID(fd)
}

func fdinfoMountID(fd int) (uint64, error) {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("mnt_id:")); ok {
			return strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	return 0, unix.ENOTSUP
}

// Close is close(2), ignoring EINTR: on Linux the fd is released even then,
// and retrying could close an fd another goroutine has just been given.
func Close(fd int) {
	_ = unix.Close(fd)
}

// Errno turns err into a syscall.Errno where it is one, for comparisons.
func Errno(err error) (syscall.Errno, bool) {
	e, ok := err.(syscall.Errno)
	return e, ok
}

// StMode converts the permission, setuid, setgid and sticky bits of an
// fs.FileMode to st_mode bits, the inverse of FileMode for chmod(2); type
// bits are ignored, as os.Chmod ignores them.
func StMode(m fs.FileMode) uint32 {
	mode := uint32(m & fs.ModePerm)
	if m&fs.ModeSetuid != 0 {
		mode |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		mode |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		mode |= unix.S_ISVTX
	}
	return mode
}

// FileMode converts an st_mode to an fs.FileMode, as package os does for
// its FileInfo.
func FileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// PrivateProc returns a detached mount of a procfs instance of this
// process's own, which nothing mounted over /proc or below it can reach:
// a new instance (fsopen("proc"), fsmount; Linux 5.2+), else a clone of
// the /proc mount alone, without its submounts (open_tree with
// OPEN_TREE_CLONE and no AT_RECURSIVE). Both need CAP_SYS_ADMIN in the
// mount namespace's user namespace; the error of the second is returned
// when neither works. The fd is O_CLOEXEC, its mount nosuid, nodev and
// noexec where it is new.
func PrivateProc() (int, error) {
	if fd, err := newProcMount(); err == nil {
		return fd, nil
	}
	return retryFd(func() (int, error) {
		return unix.OpenTree(unix.AT_FDCWD, "/proc", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	})
}

func newProcMount() (int, error) {
	fsfd, err := retryFd(func() (int, error) { return unix.Fsopen("proc", unix.FSOPEN_CLOEXEC) })
	if err != nil {
		return -1, err
	}
	defer Close(fsfd)
	if err := retry(func() error { return unix.FsconfigCreate(fsfd) }); err != nil {
		return -1, err
	}
	return retryFd(func() (int, error) {
		return unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	})
}

// Getxattrat is getxattr(2) relative to dirfd (getxattrat, Linux 6.13+),
// following a final link unless flags has AT_SYMLINK_NOFOLLOW, with EINTR
// retried; ENOSYS on older kernels.
func Getxattrat(dirfd int, path string, flags int, attr string, dest []byte) (int, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	a, err := unix.BytePtrFromString(attr)
	if err != nil {
		return -1, err
	}
	// struct xattr_args from <linux/xattr.h>.
	args := struct {
		value uint64
		size  uint32
		flags uint32
	}{size: uint32(len(dest))}
	if len(dest) > 0 {
		args.value = uint64(uintptr(unsafe.Pointer(&dest[0])))
	}
	n, err := retryFd(func() (int, error) {
		n, _, e := unix.Syscall6(unix.SYS_GETXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags),
			uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args))
		if e != 0 {
			return -1, e
		}
		return int(n), nil
	})
	runtime.KeepAlive(dest)
	return n, err
}

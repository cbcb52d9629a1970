package sys

import (
	"golang.org/x/sys/unix"
)

// Statx is statx(2) with EINTR retried.
func Statx(dirfd int, path string, flags, mask int, stx *unix.Statx_t) error {
	for {
		if err := unix.Statx(dirfd, path, flags, mask, stx); err != unix.EINTR {
			return err
		}
	}
}

// Getdents is getdents64(2) with EINTR retried: it fills buf with the next
// records of the directory open as fd and returns how many bytes it wrote,
// 0 at the end.
func Getdents(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Fchown is fchown(2) with EINTR retried.
func Fchown(fd, uid, gid int) error {
	for {
		if err := unix.Fchown(fd, uid, gid); err != unix.EINTR {
			return err
		}
	}
}

// IsTerminal reports whether fd is a terminal: ioctl(TCGETS) succeeds.
func IsTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

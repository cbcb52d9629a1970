package procfs

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/sys"
)

// procRootIno is PROC_ROOT_INO, the inode of procfs's root directory.
const procRootIno = 1

// Handle is a verified directory fd on procfs's root.
type Handle struct {
	fd      int
	mnt     uint64 // the mount id every lookup below fd must stay on
	private bool   // a private instance or clone, not the shared /proc
}

// Get returns the process's procfs handle, opening and verifying it on
// first use. It is never closed.
var Get = sync.OnceValues(open)

func open() (*Handle, error) {
	if fd, err := sys.PrivateProc(); err == nil {
		return newHandle(fd, true)
	}
	return openShared()
}

// openShared opens the shared /proc, the handle where no private one can
// be had.
func openShared() (*Handle, error) {
	fd, err := sys.Openat(unix.AT_FDCWD, "/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	return newHandle(fd, false)
}

// newHandle verifies fd (owned) and makes it a Handle.
func newHandle(fd int, private bool) (*Handle, error) {
	h := &Handle{fd: fd, private: private}
	if err := verify(h.fd, true); err != nil {
		sys.Close(h.fd)
		return nil, err
	}
	mnt, err := sys.MountID(h.fd)
	if err != nil {
		sys.Close(h.fd)
		return nil, err
	}
	h.mnt = mnt
	return h, nil
}

// verify checks that fd is on procfs and, if root, procfs's root.
func verify(fd int, root bool) error {
	var fs unix.Statfs_t
	if err := sys.Fstatfs(fd, &fs); err != nil {
		return err
	}
	if fs.Type != unix.PROC_SUPER_MAGIC {
		return unix.EXDEV
	}
	if root {
		var st unix.Stat_t
		if err := sys.Fstat(fd, &st); err != nil {
			return err
		}
		if st.Ino != procRootIno {
			return unix.EXDEV
		}
	}
	return nil
}

// Private reports whether the handle is a procfs mount of this process's
// own rather than the shared /proc.
func (h *Handle) Private() bool { return h.private }

// Open opens name (slash-separated, relative to procfs's root; "self" is
// this process's directory) with flags, crossing no mount and following
// no magic link: EXDEV or ELOOP otherwise. The fd is the caller's.
func (h *Handle) Open(name string, flags int) (int, error) {
	fd, err := sys.Openat2(h.fd, name, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_NOFOLLOW),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err == unix.ENOSYS || err == unix.EPERM {
		fd, err = h.walk(name, flags)
	}
	if err != nil {
		return -1, err
	}
	if err := verify(fd, false); err != nil {
		sys.Close(fd)
		return -1, err
	}
	return fd, nil
}

// walk is Open without openat2: one component at a time, never following
// a link ("self" is this process's pid, read from getpid, not the link),
// each entry on the handle's own mount.
func (h *Handle) walk(name string, flags int) (int, error) {
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return -1, unix.EINVAL
		}
	}
	if parts[0] == "self" {
		parts[0] = strconv.Itoa(os.Getpid())
	}
	cur := h.fd
	for i, p := range parts {
		f := unix.O_PATH | unix.O_NOFOLLOW
		if i == len(parts)-1 {
			f = flags | unix.O_NOFOLLOW
		}
		fd, err := sys.Openat(cur, p, f, 0)
		if cur != h.fd {
			sys.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		id, err := sys.MountID(fd)
		if err == nil && id != h.mnt {
			err = unix.EXDEV
		}
		if err != nil {
			sys.Close(fd)
			return -1, err
		}
		cur = fd
	}
	return cur, nil
}

// SelfFd returns an O_PATH fd on this process's fd directory
// (/proc/self/fd), for the *at calls that act on one of its entries
// (linkat with AT_SYMLINK_FOLLOW, fchmodat, readlinkat). The fd is the
// caller's.
func (h *Handle) SelfFd() (int, error) {
	return h.Open("self/fd", unix.O_PATH|unix.O_DIRECTORY)
}

// Readlink returns what the kernel says fd leads to: the target of
// /proc/self/fd/N, read, never followed.
func (h *Handle) Readlink(fd int) (string, error) {
	dir, err := h.SelfFd()
	if err != nil {
		return "", err
	}
	defer sys.Close(dir)
	return sys.Readlinkat(dir, strconv.Itoa(fd))
}

// ReadFile returns the contents of name (see Open), at most 64 KiB.
func (h *Handle) ReadFile(name string) ([]byte, error) {
	fd, err := h.Open(name, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "/proc/"+name)
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<10))
}

//go:build !pathguard_osroot

package confine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// maxIdentifyTries bounds how often Identify starts again when the tree
// changed between its lookups; only a tree being rewritten as fast as it
// is read exhausts it.
const maxIdentifyTries = 16

// identifyFd returns the identity of the file fd refers to (an O_PATH fd
// is enough), with no path, and its file type bits (S_IFMT).
//
// The birth time comes from statx STATX_BTIME (Linux 4.11+, and only on
// file systems that keep one: ext4, XFS, btrfs, tmpfs on 6.x...); the
// file handle from name_to_handle_at(AT_EMPTY_PATH) (Linux 2.6.39+, on
// file systems that can be exported: ext4, XFS, btrfs, tmpfs...), whose
// bytes hold the inode's generation number, which changes when the inode
// number is given to a new file. Failures to get either are not errors:
// the FileID records what there was, and at least one is required.
func identifyFd(fd int) (FileID, uint32, error) {
	var id FileID
	var stx unix.Statx_t
	mask := unix.STATX_TYPE | unix.STATX_INO | unix.STATX_BTIME
	err := sys.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, mask, &stx)
	var typ uint32
	switch err {
	case nil:
		id.dev, id.ino, typ = unix.Mkdev(stx.Dev_major, stx.Dev_minor), stx.Ino, uint32(stx.Mode)&unix.S_IFMT
		if stx.Mask&unix.STATX_BTIME != 0 {
			id.hasBirth, id.birthSec, id.birthNs = true, stx.Btime.Sec, stx.Btime.Nsec
		}
	case unix.ENOSYS, unix.EPERM: // before 4.11, or refused by seccomp
		var st unix.Stat_t
		if err := sys.Fstat(fd, &st); err != nil {
			return FileID{}, 0, err
		}
		id.dev, id.ino, typ = st.Dev, st.Ino, st.Mode&unix.S_IFMT
	default:
		return FileID{}, 0, err
	}
	// EOPNOTSUPP (not exportable), ENOSYS, EPERM (seccomp): no handle.
	// Any other error is as good as no handle too: a handle is an extra
	// the identity does without, never a reason to fail.
	if t, h, err := sys.NameToHandleAt(fd, "", unix.AT_EMPTY_PATH); err == nil && len(h) > 0 && len(h) <= maxHandle {
		id.fhType, id.fh = t, string(h)
	}
	return id, typ, nil
}

func (r *root) identify(name string) (FileID, error) {
	if err := r.incref(); err != nil {
		return FileID{}, &fs.PathError{Op: "identify", Path: name, Err: err}
	}
	defer r.decref()
	for range maxIdentifyTries {
		id, err := r.identifyOnce(name)
		if err == errRaced {
			continue
		}
		if err != nil {
			return FileID{}, &fs.PathError{Op: "identify", Path: name, Err: err}
		}
		return id, nil
	}
	return FileID{}, &fs.PathError{Op: "identify", Path: name, Err: resolve.ErrRetry}
}

// errReopened says that the file reopened through procfs is not the
// one its O_PATH fd refers to: /proc is not what it should be.
var errReopened = errors.New("confine: the file reopened through /proc is not the one judged")

// errRaced says that the tree changed between Identify's lookups.
var errRaced = errors.New("raced")

// identifyOnce identifies the file name leads to, finds where it lies
// (Resolve), and checks that this path leads to the same file now, as
// OpenID will ask it to.
func (r *root) identifyOnce(name string) (FileID, error) {
	id, err := r.identifyPath(name)
	if err != nil {
		return FileID{}, err
	}
	if !id.hasBirth && id.fh == "" {
		return FileID{}, errors.ErrUnsupported
	}
	p, err := r.eng.Resolve(name)
	if err != nil {
		return FileID{}, err
	}
	again, err := r.identifyPath(p)
	if err == unix.ENOENT || err == unix.ENOTDIR || (err == nil && !again.sameFile(id)) {
		return FileID{}, errRaced
	}
	if err != nil {
		return FileID{}, err
	}
	id.path = p
	return id, nil
}

// identifyPath resolves name to an O_PATH fd, following a final link,
// and identifies it.
func (r *root) identifyPath(name string) (FileID, error) {
	fd, err := r.eng.Open(name, unix.O_PATH, 0)
	if err != nil {
		return FileID{}, err
	}
	defer sys.Close(fd)
	id, _, err := identifyFd(fd)
	return id, err
}

func (r *root) openID(id FileID) (*os.File, error) {
	if err := r.incref(); err != nil {
		return nil, &fs.PathError{Op: "openid", Path: id.path, Err: err}
	}
	defer r.decref()
	fd, err := r.eng.Open(id.path, unix.O_PATH, 0)
	if err != nil {
		if gone(err) {
			err = changed(err)
		}
		return nil, &fs.PathError{Op: "openid", Path: id.path, Err: err}
	}
	defer sys.Close(fd)
	cur, typ, err := identifyFd(fd)
	if err != nil {
		return nil, &fs.PathError{Op: "openid", Path: id.path, Err: err}
	}
	if !cur.sameFile(id) {
		return nil, &fs.PathError{Op: "openid", Path: id.path, Err: ErrChanged}
	}
	if typ != unix.S_IFREG && typ != unix.S_IFDIR {
		return nil, &fs.PathError{Op: "openid", Path: id.path, Err: ErrSpecialFile}
	}
	nfd, err := reopen(fd, unix.O_RDONLY)
	if err != nil {
		return nil, &fs.PathError{Op: "openid", Path: id.path, Err: err}
	}
	return os.NewFile(uintptr(nfd), r.joinName(id.path)), nil
}

// gone reports whether a resolution error means the path no longer
// leads to a file inside the root that the Root would open: removed, cut
// by a non-directory, or turned into a link that leads out or that the
// Root refuses.
func gone(err error) bool {
	switch err {
	case unix.ENOENT, unix.ENOTDIR, unix.ELOOP, resolve.ErrEscape, resolve.ErrSymlink, resolve.ErrCrossDevice:
		return true
	}
	return false
}

// reopen opens the file that the O_PATH fd refers to anew, with flags
// (O_CLOEXEC added; O_CREAT, O_EXCL and O_NOFOLLOW dropped), through its
// /proc/self/fd entry on the checked procfs handle. The magic link leads
// to that very inode whatever has happened to its names since, so the
// file judged on fd is the file opened: nothing is looked up by name. The
// new fd's device and inode are checked against fd's all the same.
func reopen(fd int, flags int) (int, error) {
	fdDir, err := procSelfFd()
	if err != nil {
		return -1, err
	}
	defer sys.Close(fdDir)
	flags &^= unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW
	nfd, err := sys.Openat(fdDir, strconv.Itoa(fd), flags, 0)
	if err != nil {
		return -1, err
	}
	var a, b unix.Stat_t
	if err = sys.Fstat(fd, &a); err == nil {
		err = sys.Fstat(nfd, &b)
	}
	if err == nil && (a.Dev != b.Dev || a.Ino != b.Ino) {
		err = errReopened
	}
	if err != nil {
		sys.Close(nfd)
		return -1, err
	}
	return nfd, nil
}

// sameFile reports whether id and other name the same file, whatever
// their paths: every identity field must be equal, including which of
// them the file system provided.
func (id FileID) sameFile(other FileID) bool {
	id.path, other.path = "", ""
	return id == other
}

// changed is the error of a path that no longer resolves to the
// identified file: it matches ErrChanged and, when the resolution
// failed, that failure too.
func changed(err error) error {
	if err == nil {
		return ErrChanged
	}
	return fmt.Errorf("%w: %w", ErrChanged, err)
}

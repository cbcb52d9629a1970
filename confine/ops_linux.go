//go:build !pathguard_osroot

package confine

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/procfs"
	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// Every mutating operation has the same shape: hold the Root (incref),
// resolve the parent directory of the name to an O_PATH fd with the
// engine (containment is decided there, once, on held fds), then make
// one *at system call on the final component, which the kernel never
// follows (mkdirat, unlinkat, renameat2, linkat without
// AT_SYMLINK_FOLLOW, symlinkat). Nothing is ever done by a path name
// that the kernel would resolve again from the top.
//
// Operations that act on what a name leads to (Chmod, Chown, Chtimes,
// Readlink) resolve the whole name to an O_PATH fd instead and act on
// that fd with AT_EMPTY_PATH, so the inode changed is the inode resolved.

// withParent runs fn with the held parent of name and its last component.
// A last component of "." or ".." is never handed to fn: the whole name
// is resolved as a directory instead (so an escape is still ErrEscape)
// and dotErr is returned when it resolves; those names denote a directory
// that already exists and that no *at call on "." or ".." may touch.
func (r *root) withParent(op, name string, dotErr error, fn func(dirfd int, last string, slash bool) error) error {
	if err := r.incref(); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	defer r.decref()
	if err := r.parent(name, dotErr, fn); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

// parent is withParent without the reference count or the wrapping, for
// callers that hold the Root already (Rename, Link).
func (r *root) parent(name string, dotErr error, fn func(dirfd int, last string, slash bool) error) error {
	if last, slash, ok := inRootDir(name); ok {
		// The parent is the root itself: its held fd is the answer the
		// engine would give, without a lookup of ".".
		if err := resolve.Validate(name); err != nil {
			return err
		}
		return fn(r.fd, last, slash)
	}
	dirfd, last, slash, err := r.eng.Parent(name)
	if err != nil {
		return err
	}
	defer sys.Close(dirfd)
	if last == "." || last == ".." {
		fd, err := r.eng.Open(name, unix.O_PATH|unix.O_DIRECTORY, 0)
		if err != nil {
			return err
		}
		sys.Close(fd)
		return dotErr
	}
	return fn(dirfd, last, slash)
}

// sibling is parent for name, called with the held parent dirfd of
// other: when both names have the same directory part, that one lookup
// answers for both (the floor of Rename resolves it once too).
func (r *root) sibling(dirfd int, other, name string, dotErr error, fn func(dirfd int, last string, slash bool) error) error {
	dir, last := splitDir(name)
	if odir, _ := splitDir(other); dir != "" && dir == odir && last != "." && last != ".." {
		if err := resolve.Validate(name); err != nil {
			return err
		}
		return fn(dirfd, last, len(name) > 1 && name[len(name)-1] == '/')
	}
	return r.parent(name, dotErr, fn)
}

// splitDir splits name, trailing slashes aside, after its last slash:
// "a/b/" is "a/" and "b", a single component has the directory "".
func splitDir(name string) (dir, last string) {
	t := strings.TrimRight(name, "/")
	i := strings.LastIndexByte(t, '/')
	return t[:i+1], t[i+1:]
}

// inRootDir reports whether name is one component (trailing slashes
// aside) other than "." and "..", whose parent is the root itself, and
// returns that component and whether a slash followed it.
func inRootDir(name string) (last string, slash, ok bool) {
	dir, last := splitDir(name)
	if dir != "" || last == "" || last == "." || last == ".." {
		return "", false, false
	}
	return last, len(last) < len(name), true
}

func (r *root) mkdir(name string, perm fs.FileMode) error {
	return r.withParent("mkdirat", name, unix.EEXIST, func(dirfd int, last string, _ bool) error {
		// A trailing slash needs no care: mkdirat never follows the
		// last component, and we pass it without the slash.
		return sys.Mkdirat(dirfd, last, uint32(perm))
	})
}

func (r *root) mkdirAll(name string, perm fs.FileMode) error {
	if err := r.incref(); err != nil {
		return &fs.PathError{Op: "mkdirat", Path: name, Err: err}
	}
	defer r.decref()
	if op, err := r.mkdirAllAt(name, uint32(perm)); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

// mkdirAllAt is MkdirAll, in time linear in the name: the part of name
// that exists is resolved once by the engine (links and ".." there are
// followed only inside the root, with every check of the Root's policy),
// then each missing level is made with mkdirat in its held parent and
// opened with O_NOFOLLOW|O_DIRECTORY on that parent, never by name from
// the root. The errors are os.Root's, with its Op ("openat" when an
// existing step is not a directory, else "mkdirat"): EEXIST for a final
// entry that is not a directory and for a dangling link, whose target is
// never made.
func (r *root) mkdirAllAt(name string, perm uint32) (op string, err error) {
	dirfd, rest, err := r.eng.DirPrefix(name)
	if err != nil {
		return mkdirOp(err), err
	}
	// release closes dirfd unless it is the root's own.
	release := func() {
		if dirfd != r.fd {
			sys.Close(dirfd)
		}
	}
	defer func() { release() }()
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			return "", nil
		}
		comp, tail, _ := strings.Cut(rest, "/")
		final := strings.Trim(tail, "/") == ""
		rest = tail
		var fd int
		switch comp {
		case ".":
			continue
		case "..":
			// Rare after a missing level: the levels made so far exist
			// now, so the whole name is resolved afresh, and ".." and
			// every link after it are the engine's, as for a name that
			// existed from the start. All of name up to here must then
			// resolve; if not, a level made here was removed meanwhile.
			release()
			dirfd, rest, err = r.eng.DirPrefix(name)
			if err != nil {
				dirfd = r.fd
				return mkdirOp(err), err
			}
			if len(strings.TrimLeft(rest, "/")) > len(strings.TrimLeft(tail, "/")) {
				return "mkdirat", unix.ENOENT
			}
			continue
		default:
			made := sys.Mkdirat(dirfd, comp, perm)
			if made != nil && made != unix.EEXIST {
				return "mkdirat", made
			}
			if final && made == nil {
				return "", nil
			}
			// EEXIST: made meanwhile by someone else, or an entry that
			// is not a directory. A link there is never followed.
			fd, err = sys.Openat(dirfd, comp, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY, 0)
			if err == unix.ENOTDIR || err == unix.ELOOP {
				return r.notDirAt(dirfd, comp, name[:len(name)-len(tail)], final)
			}
			if err != nil {
				return "openat", err
			}
			if err := r.eng.CheckMount(fd); err != nil {
				sys.Close(fd)
				return "openat", err
			}
		}
		release()
		dirfd = fd
	}
}

// mkdirOp is the Op os.Root's MkdirAll gives err.
func mkdirOp(err error) string {
	if err == unix.ENOTDIR {
		return "openat"
	}
	return "mkdirat"
}

// notDirAt is MkdirAll's answer for the entry comp of dirfd, which is
// not a directory, prefix being name up to comp: EEXIST for the final
// component, ENOTDIR on the way. A link is judged as a lookup of prefix
// would judge it (EEXIST when dangling, ENOTDIR when it leads to a
// non-directory, the lookup's error when refused) but never followed:
// one that leads to a directory now was made meanwhile, and is EEXIST.
func (r *root) notDirAt(dirfd int, comp, prefix string, final bool) (string, error) {
	var st unix.Stat_t
	if err := sys.Fstatat(dirfd, comp, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "openat", err
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		fd, err := r.eng.Open(prefix, unix.O_PATH|unix.O_DIRECTORY, 0)
		if err == nil {
			sys.Close(fd)
		}
		if err == nil || err == unix.ENOENT {
			return "mkdirat", unix.EEXIST
		}
		return mkdirOp(err), err
	case final:
		return "mkdirat", unix.EEXIST
	}
	return "openat", unix.ENOTDIR
}

func (r *root) remove(name string) error {
	return r.withParent("unlinkat", name, unix.EINVAL, func(dirfd int, last string, slash bool) error {
		if slash {
			// "x/" must be a directory, and the entry itself, never
			// what a link there leads to: anything else is ENOTDIR,
			// before the permission to remove it is asked, in
			// os.Root's order (rmdir(2) would say EACCES first).
			var st unix.Stat_t
			if err := sys.Fstatat(dirfd, last, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return unix.ENOTDIR
			}
			return sys.Unlinkat(dirfd, last, unix.AT_REMOVEDIR)
		}
		err := sys.Unlinkat(dirfd, last, 0)
		if err == unix.EISDIR {
			err = sys.Unlinkat(dirfd, last, unix.AT_REMOVEDIR)
		}
		return err
	})
}

func (r *root) removeAll(name string) error {
	if err := resolve.Validate(name); err != nil {
		return &fs.PathError{Op: "RemoveAll", Path: name, Err: err}
	}
	// As os.RemoveAll: trailing slashes are dropped, so "link/" removes
	// the link itself and "file/" the file.
	trimmed := strings.TrimRight(name, "/")
	if trimmed == "" {
		trimmed = "/"
	}
	err := r.withParent("RemoveAll", trimmed, unix.EINVAL, r.removeAllAt)
	if errors.Is(err, fs.ErrNotExist) {
		if endsInDot(trimmed) {
			// "missing/." or "missing/..": what leads to it is looked
			// up first (an escape is reported as one), but a name
			// ending in "." or ".." is refused whether or not it
			// exists.
			return &fs.PathError{Op: "RemoveAll", Path: name, Err: unix.EINVAL}
		}
		return nil
	}
	if pe, ok := err.(*fs.PathError); ok {
		pe.Path = name
	}
	return err
}

// removeAllAt removes the entry last in dirfd and, if it is a directory,
// everything below it, holding one fd per level and opening each level
// with O_NOFOLLOW on its held parent: no link is ever followed, and a
// directory swapped for a link is refused rather than entered. Under
// NoXDev a directory on another mount is refused before anything in it is
// touched.
func (r *root) removeAllAt(dirfd int, last string, _ bool) error {
	err := sys.Unlinkat(dirfd, last, 0)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	// EISDIR: a directory. EPERM or EACCES: maybe a directory we may
	// still empty (the parent refusing unlink is not the last word).
	if err != unix.EISDIR && err != unix.EPERM && err != unix.EACCES {
		return err
	}
	unlinkErr := err
	for {
		fd, err := sys.Openat(dirfd, last, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		switch err {
		case nil:
		case unix.ENOENT:
			return nil
		case unix.ENOTDIR, unix.ELOOP:
			return unlinkErr // not a directory after all
		default:
			return err
		}
		if err := r.eng.CheckMount(fd); err != nil {
			sys.Close(fd)
			return err
		}
		f := os.NewFile(uintptr(fd), last)
		names, err := f.Readdirnames(-1)
		var firstErr error
		for _, n := range names {
			if e := r.removeAllAt(fd, n, false); e != nil && firstErr == nil {
				firstErr = e
			}
		}
		f.Close()
		if err != nil && err != io.EOF {
			return underlying(err)
		}
		err = sys.Unlinkat(dirfd, last, unix.AT_REMOVEDIR)
		switch {
		case err == nil || err == unix.ENOENT:
			return nil
		case firstErr != nil:
			return firstErr
		case err != unix.ENOTEMPTY && err != unix.EEXIST:
			return err
		case len(names) == 0:
			// Entries appear as fast as we remove them, and we removed
			// none: give up rather than loop.
			return err
		}
		// Entries created while we read: read again.
	}
}

func (r *root) rename(oldname, newname string) error {
	const op = "renameat"
	if err := r.incref(); err != nil {
		return &fs.PathError{Op: op, Path: oldname, Err: err}
	}
	defer r.decref()
	failed := oldname
	err := r.parent(oldname, errDotName, func(olddir int, oldlast string, oldslash bool) error {
		var ost unix.Stat_t
		if oldslash {
			// "x/" must be a directory, whatever newname says (the
			// order of os.Root's checks).
			if err := sys.Fstatat(olddir, oldlast, &ost, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			if ost.Mode&unix.S_IFMT != unix.S_IFDIR {
				return unix.ENOTDIR
			}
		}
		failed = newname
		err := r.sibling(olddir, oldname, newname, errDotName, func(newdir int, newlast string, newslash bool) error {
			var nst unix.Stat_t
			if newslash && sys.Fstatat(newdir, newlast, &nst, unix.AT_SYMLINK_NOFOLLOW) == nil &&
				nst.Mode&unix.S_IFMT != unix.S_IFDIR && nst.Mode&unix.S_IFMT != unix.S_IFLNK {
				return unix.ENOTDIR // "file/" is never a name to rename to
			}
			failed = oldname
			// The old entry is looked at only when a slash or a
			// directory at newname asks; otherwise renameat2's own
			// answer (ENOENT for a missing oldname) is the one.
			oldStat := func() error {
				return sys.Fstatat(olddir, oldlast, &ost, unix.AT_SYMLINK_NOFOLLOW)
			}
			if oldslash || newslash {
				if err := oldStat(); err != nil {
					return err
				}
				// A trailing slash on either name requires a directory,
				// and the entry itself: "link/" is ENOTDIR. The slash is
				// not given to the kernel; a directory swapped for a link
				// after this check makes renameat2 move the link itself,
				// inside the root, never what it points to.
				if ost.Mode&unix.S_IFMT != unix.S_IFDIR {
					return unix.ENOTDIR
				}
			}
			// As os.Root: never replace a directory, except by itself
			// under another name.
			if sys.Fstatat(newdir, newlast, &nst, unix.AT_SYMLINK_NOFOLLOW) == nil && nst.Mode&unix.S_IFMT == unix.S_IFDIR {
				if err := oldStat(); err != nil {
					return err
				}
				if newlast == oldlast || nst.Dev != ost.Dev || nst.Ino != ost.Ino {
					return unix.EEXIST
				}
			}
			return sys.Renameat2(olddir, oldlast, newdir, newlast, 0)
		})
		if err == errDotName {
			// newname is "." or ".." (inside): an existing directory,
			// never replaced; as os.Root, a missing oldname is
			// reported first.
			failed = oldname
			if err := sys.Fstatat(olddir, oldlast, &ost, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			// "./" asks for a directory, as "x/" does, before the
			// existing directory is looked at.
			if strings.HasSuffix(newname, "/") && ost.Mode&unix.S_IFMT != unix.S_IFDIR {
				return unix.ENOTDIR
			}
			fd, err := r.eng.Open(newname, unix.O_PATH|unix.O_DIRECTORY, 0)
			if err != nil {
				return err
			}
			var nst unix.Stat_t
			err = sys.Fstat(fd, &nst)
			sys.Close(fd)
			if err == nil && nst.Dev == ost.Dev && nst.Ino == ost.Ino {
				return unix.EBUSY // the kernel's answer to moving a directory onto itself via "."
			}
			return unix.EEXIST
		}
		return err
	})
	if err == errDotName {
		// oldname is "." or ".." (inside): a directory that cannot be
		// moved. As os.Root, newname is resolved before saying so.
		failed = newname
		err = r.parent(newname, errDotName, func(newdir int, newlast string, newslash bool) error {
			// As os.Root: "file/" is ENOTDIR, an existing other
			// directory at newname is EEXIST; the kernel says EBUSY to
			// the rest.
			var nst, ost unix.Stat_t
			if sys.Fstatat(newdir, newlast, &nst, unix.AT_SYMLINK_NOFOLLOW) != nil {
				return errDotName
			}
			if newslash && nst.Mode&unix.S_IFMT != unix.S_IFDIR && nst.Mode&unix.S_IFMT != unix.S_IFLNK {
				return unix.ENOTDIR
			}
			if nst.Mode&unix.S_IFMT != unix.S_IFDIR {
				return errDotName
			}
			fd, err := r.eng.Open(oldname, unix.O_PATH|unix.O_DIRECTORY, 0)
			if err != nil {
				return err
			}
			err = sys.Fstat(fd, &ost)
			sys.Close(fd)
			if err == nil && (nst.Dev != ost.Dev || nst.Ino != ost.Ino) {
				return unix.EEXIST
			}
			return errDotName
		})
		if err == errDotName {
			err = unix.EBUSY
		}
		if err == unix.EBUSY || err == unix.EEXIST {
			failed = oldname
		}
	}
	if err != nil {
		return &fs.PathError{Op: op, Path: failed, Err: err}
	}
	return nil
}

// errDotName stands for a last component of "." or ".." until the
// caller decides what to answer.
var errDotName = errors.New("last component is a dot name")

func (r *root) link(oldname, newname string) error {
	const op = "linkat"
	if err := r.incref(); err != nil {
		return &fs.PathError{Op: op, Path: oldname, Err: err}
	}
	defer r.decref()
	failed := oldname
	// dirErr is the answer for an old name that is a directory: no hard
	// link to a directory can be made, but, as linkat(2) does, the new
	// name is looked up first, so its missing or escaping parent, or
	// an existing new name (EEXIST), is reported before that.
	dirErr := func() error {
		failed = newname
		return r.parent(newname, unix.EEXIST, func(newdir int, newlast string, newslash bool) error {
			if newslash {
				return r.existsOr(newdir, newlast, newname, unix.ENOENT)
			}
			var st unix.Stat_t
			if sys.Fstatat(newdir, newlast, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
				return unix.EEXIST
			}
			failed = oldname
			return unix.EPERM
		})
	}
	err := r.parent(oldname, errDotName, func(olddir int, oldlast string, oldslash bool) error {
		if oldslash {
			// "x/" is a directory (following a link inside the root),
			// and the link itself is not what the name says.
			fd, err := r.eng.Open(oldname, unix.O_PATH|unix.O_DIRECTORY, 0)
			if err != nil {
				return err
			}
			sys.Close(fd)
			return dirErr()
		}
		// As os.Root: the new name's parent is resolved before the old
		// entry is looked at, so a missing old name is ENOENT only once
		// the new name's path has answered (linkat's own answer).
		// An existing new name ("." or "..", or a directory named
		// "x/") is EEXIST once the old entry is known to exist.
		exists := func() error {
			var st unix.Stat_t
			if err := sys.Fstatat(olddir, oldlast, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				failed = oldname
				return err
			}
			return unix.EEXIST
		}
		failed = newname
		err := r.parent(newname, errDotName, func(newdir int, newlast string, newslash bool) error {
			if newslash {
				// "x/" missing or not a directory is the new name's
				// own error.
				if err := r.existsOr(newdir, newlast, newname, unix.ENOENT); err != unix.EEXIST {
					return err
				}
				return exists()
			}
			failed = oldname
			return sys.Linkat(olddir, oldlast, newdir, newlast, 0)
		})
		if err == errDotName {
			return exists()
		}
		return err
	})
	if err == errDotName {
		// oldname is "." or "..": the root or a directory in it.
		err = dirErr()
	}
	if err != nil {
		return &fs.PathError{Op: op, Path: failed, Err: err}
	}
	return nil
}

// isLink reports whether name's final component is a symlink.
func (r *root) isLink(name string) bool {
	fd, err := r.eng.Open(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer sys.Close(fd)
	var st unix.Stat_t
	return sys.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// existsOr is the answer to creating name, which ends in a slash and is
// never made: err if the entry last is missing; EEXIST if it is a
// directory; ENOTDIR if it is anything else but a link. A link is
// resolved as "link/" (inside only: ErrEscape otherwise) and answered
// for what it leads to, as os.Root does, but nothing is created there.
func (r *root) existsOr(dirfd int, last, name string, err error) error {
	var st unix.Stat_t
	if sys.Fstatat(dirfd, last, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.EEXIST
	case unix.S_IFLNK:
		fd, err := r.eng.Open(name, unix.O_PATH|unix.O_DIRECTORY, 0)
		if err != nil {
			return err
		}
		sys.Close(fd)
		return unix.EEXIST
	}
	return unix.ENOTDIR
}

func (r *root) symlink(target, name string) error {
	// The target is not resolved now; it is checked wherever it is
	// followed later.
	// It must still be a name that could ever be resolved.
	if err := resolve.Validate(target); err != nil {
		return &fs.PathError{Op: "symlinkat", Path: name, Err: err}
	}
	return r.withParent("symlinkat", name, unix.EEXIST, func(dirfd int, last string, slash bool) error {
		if slash {
			return r.existsOr(dirfd, last, name, unix.ENOENT)
		}
		return sys.Symlinkat(target, dirfd, last)
	})
}

// withFd resolves name to an O_PATH fd (the final link itself when
// nofollow) and runs fn on it.
func (r *root) withFd(op, name string, nofollow bool, fn func(fd int) error) error {
	if err := r.incref(); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	defer r.decref()
	flags := unix.O_PATH
	if nofollow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := r.eng.Open(name, flags, 0)
	if err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	defer sys.Close(fd)
	if err := fn(fd); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

func (r *root) readlink(name string) (string, error) {
	var target string
	err := r.withFd("readlinkat", name, true, func(fd int) error {
		var err error
		target, err = sys.Readlinkat(fd, "")
		// readlinkat of a non-link through AT_EMPTY_PATH is ENOENT;
		// readlink(2) by name says EINVAL.
		if err == unix.ENOENT {
			err = unix.EINVAL
		}
		return err
	})
	return target, err
}

func (r *root) chmod(name string, mode fs.FileMode) error {
	return r.withFd("fchmodat", name, false, func(fd int) error {
		return fchmodFd(fd, sys.StMode(mode))
	})
}

// fchmodat2 is the call fchmodFd tries first; tests replace it to prove
// the /proc fallback.
var fchmodat2 = sys.Fchmodat2

// fchmodFd changes the mode of the inode fd (an O_PATH fd, never a link)
// refers to: fchmodat2(fd, "", AT_EMPTY_PATH) on Linux 6.6+, else chmod
// of its /proc/self/fd entry through a checked procfs handle. fchmod(2)
// itself refuses O_PATH fds (EBADF), and chmod by name would resolve the
// name again: the CVE-2026-32282 race.
func fchmodFd(fd int, mode uint32) error {
	err := fchmodat2(fd, "", mode, unix.AT_EMPTY_PATH)
	if err != unix.ENOSYS && err != unix.EPERM {
		return err
	}
	// EPERM may be a seccomp filter refusing fchmodat2, or the real
	// answer (not the owner): the fallback asks the kernel again and
	// gets the real answer either way.
	var st unix.Stat_t
	if err := sys.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return unix.EOPNOTSUPP // a link's mode cannot be changed on Linux
	}
	fdDir, err := procSelfFd()
	if err != nil {
		return err
	}
	defer sys.Close(fdDir)
	// fd/N is a magic link to the very inode fd holds; following it is
	// the point here, and nothing but the fd table decides where it leads.
	return sys.Fchmodat(fdDir, strconv.Itoa(fd), mode)
}

// procSelfFd opens /proc/self/fd on the process's one procfs handle,
// verified and hardened against overmounts (internal/procfs).
func procSelfFd() (int, error) {
	h, err := procfs.Get()
	if err != nil {
		return -1, err
	}
	return h.SelfFd()
}

func (r *root) chown(name string, uid, gid int, follow bool) error {
	op := "fchownat"
	return r.withFd(op, name, !follow, func(fd int) error {
		// AT_SYMLINK_NOFOLLOW with AT_EMPTY_PATH: act on fd itself,
		// which is the link only for Lchown.
		return sys.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
	})
}

func (r *root) chtimes(name string, atime, mtime time.Time) error {
	ts := []unix.Timespec{timespec(atime), timespec(mtime)}
	return r.withFd("utimensat", name, false, func(fd int) error {
		return sys.UtimensatFd(fd, ts)
	})
}

// timespec is t for utimensat; the zero Time leaves the time unchanged.
func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Sec: 0, Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(t.UnixNano())
}

// readDirFile reads up to n entries (all if n <= 0) of the directory f,
// in directory order. Each entry's Info is package os's own FileInfo
// (os.SameFile works on it), taken while reading by (*os.File).Readdir:
// one fstatat(AT_SYMLINK_NOFOLLOW) of that single name on f's own fd, so
// nothing is looked up by a path name, then or later (the CVE-2026-27139
// race). An entry removed between the read and its fstatat is left out,
// as if never listed. dir is the directory's name as the caller gave it,
// for errors.
func readDirFile(f *os.File, dir string, n int) ([]fs.DirEntry, error) {
	infos, err := f.Readdir(n)
	if err != nil && err != io.EOF {
		op := "readdirent"
		if pe, ok := err.(*fs.PathError); ok {
			op = pe.Op
		}
		err = &fs.PathError{Op: op, Path: dir, Err: underlying(err)}
	}
	// One allocation for all the entries, not one per entry.
	entries := make([]dirEntry, len(infos))
	out := make([]fs.DirEntry, len(infos))
	for i, fi := range infos {
		entries[i] = dirEntry{fi}
		out[i] = &entries[i]
	}
	return out, err
}

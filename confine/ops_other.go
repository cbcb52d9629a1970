//go:build !linux || pathguard_osroot

package confine

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Off Linux every operation is os.Root's own; only the checks that a Root
// makes everywhere (perm bits, the trailing-slash rules of DESIGN.md) are
// added; root.go gives errors os.Root's types and Ops.

func (r *root) mkdir(name string, perm fs.FileMode) error {
	return fromOS(r.os.Mkdir(name, perm))
}

func (r *root) mkdirAll(name string, perm fs.FileMode) error {
	return fromOS(r.os.MkdirAll(name, perm))
}

// lstatSlash refuses "name/" unless name itself is a directory: os.Root
// would act on a link's target.
func (r *root) lstatSlash(op, name string) error {
	if len(name) < 2 || !strings.HasSuffix(name, "/") {
		return nil
	}
	fi, err := r.os.Lstat(strings.TrimRight(name, "/"))
	if err != nil {
		return fromOS(err)
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: op, Path: name, Err: errNotDir}
	}
	return nil
}

var errNotDir = syscall.ENOTDIR

func (r *root) remove(name string) error {
	if err := r.lstatSlash("unlinkat", name); err != nil {
		return fromOS(err)
	}
	return fromOS(r.os.Remove(name))
}

func (r *root) removeAll(name string) error {
	if endsInDot(filepath.ToSlash(name)) {
		// os.Root empties the directory "d/.." leads to before it says
		// EINVAL (on Windows "d\.." too: ToSlash). What leads there is
		// looked up first, so an escape is still reported as one.
		if _, err := r.os.Lstat(strings.TrimRight(name, "/")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fromOS(err)
		}
		return &fs.PathError{Op: "RemoveAll", Path: name, Err: syscall.EINVAL}
	}
	return fromOS(r.os.RemoveAll(name))
}

func (r *root) rename(oldname, newname string) error {
	if err := r.lstatSlash("renameat", oldname); err != nil {
		return fromOS(err)
	}
	return fromOS(r.os.Rename(oldname, newname))
}

func (r *root) link(oldname, newname string) error {
	return fromOS(r.os.Link(oldname, newname))
}

func (r *root) symlink(target, name string) error { return fromOS(r.os.Symlink(target, name)) }

func (r *root) readlink(name string) (string, error) { return fromOS2(r.os.Readlink(name)) }

func (r *root) chmod(name string, mode fs.FileMode) error {
	return fromOS(r.os.Chmod(name, mode))
}

func (r *root) chown(name string, uid, gid int, follow bool) error {
	if follow {
		return fromOS(r.os.Chown(name, uid, gid))
	}
	return fromOS(r.os.Lchown(name, uid, gid))
}

func (r *root) chtimes(name string, atime, mtime time.Time) error {
	return fromOS(r.os.Chtimes(name, atime, mtime))
}

func readDirFile(f *os.File, _ string, n int) ([]fs.DirEntry, error) { return f.ReadDir(n) }

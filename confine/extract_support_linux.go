//go:build !pathguard_osroot

package confine

import (
	"io/fs"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

func (r *root) restrict(o options) (*root, error) {
	const op = "restrict"
	if o.mode != 0 || o.resolver != ResolverAuto {
		return nil, &fs.PathError{Op: op, Path: r.name, Err: resolve.ErrInvalid}
	}
	if err := r.incref(); err != nil {
		return nil, &fs.PathError{Op: op, Path: r.name, Err: err}
	}
	defer r.decref()
	fd, err := sys.Dup(r.fd)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: r.name, Err: err}
	}
	merged := r.opts
	merged.flags |= o.flags
	// The backend in use now, not the one asked for at OpenRoot: the
	// restricted view must not probe its way to another one.
	backend := r.eng.Backend()
	return newRoot(r.name, fd, merged, func(fd int) (*resolve.Engine, error) {
		return resolve.New(fd, r.eng.Mode(), r.eng.Flags()|o.flags, backend)
	})
}

func (r *root) mknod(name string, mode fs.FileMode, dev uint64) error {
	const op = "mknodat"
	if !mknodType(mode) {
		return &fs.PathError{Op: op, Path: name, Err: resolve.ErrInvalid}
	}
	m := uint32(mode.Perm())
	switch mode.Type() {
	case fs.ModeNamedPipe:
		m |= unix.S_IFIFO
		dev = 0
	case fs.ModeDevice:
		m |= unix.S_IFBLK
	default:
		m |= unix.S_IFCHR
	}
	return r.withParent(op, name, unix.EEXIST, func(dirfd int, last string, slash bool) error {
		if slash {
			return r.existsOr(dirfd, last, name, unix.ENOENT)
		}
		return sys.Mknodat(dirfd, last, m, dev)
	})
}

// mknodType is the type of a node Mknod may create, or false.
func mknodType(mode fs.FileMode) bool {
	switch mode.Type() {
	case fs.ModeNamedPipe, fs.ModeDevice, fs.ModeDevice | fs.ModeCharDevice:
		return mode&^(fs.ModeType|fs.ModePerm) == 0
	}
	return false
}
